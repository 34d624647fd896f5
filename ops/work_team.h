// Decode's parallel regions without a barrier that waits for a thread to be scheduled. An
// OpenMP region ends only when every thread of its team has arrived; on a 2-vCPU machine shared
// with other processes a runnable thread waits milliseconds for a CPU, so each of a token's
// ~100 regions could wait that long (OLMoE decode at 2 threads: 2.2 t/s against 15.6 at 1 on a
// loaded VM). Here the calling thread runs the region's body itself and helper threads join it
// only while it is still open: a body takes its work in chunks (ops/chunk_range.h) until none is
// left, so whoever joins helps and whoever does not is never waited for. The caller waits only
// for helpers that did join, to finish the chunk they hold.
#pragma once

namespace strata {

// Batches of up to this many rows (decode, and a batched decode of that many sequences) run
// their parallel regions here rather than in OpenMP: their regions are short and many, so a
// barrier's wait is a large share (2 streams at 16 threads on the lent Xeon: 0.86x one stream),
// and one kind of spinning thread, not two, shares the CPUs. Not 16: there a batch of 16 rows
// (one AMX tile of tokens) ran at 0.84-1.04x one stream on the team against 2.9-3.4x in OpenMP
// regions (8 rows: 3.6-4.6x either way).
constexpr int kTeamMaxRows = 8;

// body(ctx, me, n) runs on the calling thread with me = 0 and on each helper that joins with its
// own me in [1, n); every call must together cover all the work whichever subset of them runs
// (each one takes chunks until none is left). Returns when every call that began has returned.
// n_threads <= 1 runs body(ctx, 0, 1) inline. Each calling thread has its own helpers (started
// on first use, kept until the calling thread exits); a body must not call run_team again.
using TeamBody = void (*)(void* ctx, int me, int n);
void run_team(int n_threads, TeamBody body, void* ctx);

// The same with a callable: f(me, n).
template <class F> void run_team(int n_threads, const F& f) {
    run_team(
        n_threads, [](void* ctx, int me, int n) { (*static_cast<const F*>(ctx))(me, n); },
        const_cast<void*>(static_cast<const void*>(&f)));
}

} // namespace strata
