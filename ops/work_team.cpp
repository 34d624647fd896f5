#include "ops/work_team.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

namespace strata {

namespace {

void cpu_relax() {
#if defined(__x86_64__) || defined(_M_X64)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// How long an idle helper spins for the next region before it sleeps: decode's regions come
// every few to some hundred microseconds, tokens some milliseconds apart. (Loaded A/B at 2
// threads, OLMoE: 0, 50 and 300 us the same within the noise, 3 ms about 25% slower: a helper
// that spins longer takes CPU time the calling thread needs.)
constexpr auto kSpin = std::chrono::microseconds(300);

// The region's state in one word, so that joining is one compare-and-swap against all of it:
// epoch (16 bits) | open (1) | threads asked for (15) | joined helpers (16) | active helpers (16).
// A helper joins only an open region of an epoch it has not joined and with a place left; the
// caller closes the region when its own body returns and waits for the active count to drain.
// (A helper that read an old word and joins after 65536 regions joins the current one: it takes
// everything it uses from the word it swapped and the fields behind it, so that is harmless.)
constexpr uint64_t kOne = 1, kActive = kOne, kJoined = kOne << 16, kOpen = kOne << 47;
uint32_t epoch_of(uint64_t s) { return uint32_t(s >> 48); }
int asked_of(uint64_t s) { return int((s >> 32) & 0x7fff); }
int joined_of(uint64_t s) { return int((s >> 16) & 0xffff); }
int active_of(uint64_t s) { return int(s & 0xffff); }

struct Team {
    alignas(64) std::atomic<uint64_t> state{0};
    alignas(64) std::atomic<uint32_t> bell{0}; // rung when a region opens and helpers sleep
    std::atomic<uint32_t> sleepers{0};
    std::atomic<bool> stop{false};
    // the open region's body (written before the state word opens it, read after joining it)
    TeamBody body = nullptr;
    void* ctx = nullptr;
    uint32_t epoch = 0;
    std::vector<std::thread> helpers;

    ~Team() {
        stop.store(true);
        bell.fetch_add(1);
        bell.notify_all();
        for (auto& t : helpers) t.join();
    }

    // Joins s's region if it can: returns this helper's index, or 0.
    int try_join(uint64_t s, uint32_t last) {
        while ((s & kOpen) && epoch_of(s) != last && joined_of(s) + 1 < asked_of(s))
            if (state.compare_exchange_weak(s, s + kJoined + kActive, std::memory_order_acquire,
                                            std::memory_order_relaxed))
                return joined_of(s) + 1;
        return 0;
    }

    void helper() {
        uint32_t last = 0; // the epoch this helper joined last
        for (;;) {
            uint64_t s = state.load(std::memory_order_acquire);
            int me = try_join(s, last);
            auto start = std::chrono::steady_clock::now();
            for (int i = 0; !me; i++) {
                if (stop.load(std::memory_order_relaxed)) return;
                if (i % 64 == 63 && std::chrono::steady_clock::now() - start > kSpin) {
                    // sleep until rung (see run_team for the order that loses no ring)
                    const uint32_t b = bell.load();
                    sleepers.fetch_add(1);
                    s = state.load();
                    me = try_join(s, last);
                    if (!me && !stop.load()) bell.wait(b);
                    sleepers.fetch_sub(1);
                    if (me) break;
                    i = 0, start = std::chrono::steady_clock::now();
                    continue;
                }
                cpu_relax();
                s = state.load(std::memory_order_acquire);
                me = try_join(s, last);
            }
            last = epoch_of(s);
            body(ctx, me, asked_of(s));
            state.fetch_sub(kActive, std::memory_order_release);
        }
    }

    void run(int n, TeamBody f, void* c) {
        while (int(helpers.size()) < n - 1) helpers.emplace_back([this] { helper(); });
        body = f, ctx = c;
        epoch = (epoch + 1) & 0xffff;
        state.store(uint64_t(epoch) << 48 | kOpen | uint64_t(n) << 32, std::memory_order_release);
        bell.fetch_add(1);
        if (sleepers.load()) bell.notify_all();
        struct Close { // (also when f throws: no helper may outlive the caller's frame)
            Team& t;
            ~Close() { t.close(); }
        } close_on_return{*this};
        f(c, 0, n);
    }

    // Closes the region to joining and waits for the helpers in it, each finishing its chunk.
    void close() {
        uint64_t s = state.fetch_and(~kOpen, std::memory_order_acq_rel) & ~kOpen;
        for (int i = 0; active_of(s); i++) {
            if (i >= 4096) std::this_thread::yield();
            cpu_relax();
            s = state.load(std::memory_order_acquire);
        }
    }
};

} // namespace

void run_team(int n_threads, TeamBody body, void* ctx) {
    if (n_threads <= 1) {
        body(ctx, 0, 1);
        return;
    }
    thread_local std::unique_ptr<Team> team;
    if (!team) team = std::make_unique<Team>();
    team->run(std::min(n_threads, 0x7fff), body, ctx);
}

} // namespace strata
