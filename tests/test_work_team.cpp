// ops/work_team.h: every chunk of every region runs exactly once whichever helpers join, helper
// indices stay inside the team, regions of changing sizes follow each other, a region whose
// helpers never get a chunk still ends, and calling threads each have their own helpers.
#include "ops/chunk_range.h"
#include "ops/work_team.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

using namespace strata;

namespace {

// n_regions regions of `chunks` chunks each over `threads` threads, shares and stealing as
// ops/matmul.cpp does it; returns how often each chunk of the last region ran, and counts bad
// thread indices.
void run_regions(int threads, int chunks, int n_regions, std::vector<int>& hits, int& bad) {
    auto ranges = std::make_unique<ChunkRange[]>(size_t(threads));
    std::vector<std::atomic<int>> count(static_cast<size_t>(chunks));
    for (int r = 0; r < n_regions; r++) {
        for (auto& c : count) c.store(0);
        for (int t = 0; t < threads; t++)
            ranges[size_t(t)].reset(int64_t(chunks) * t / threads,
                                    int64_t(chunks) * (t + 1) / threads);
        std::atomic<int> wrong{0};
        run_team(threads, [&](int me, int n) {
            if (me < 0 || me >= n || n != threads) wrong.fetch_add(1);
            for (int c; (c = ranges[size_t(me)].take_front()) >= 0;) count[size_t(c)]++;
            for (int k = 1; k < n; k++)
                for (int c; (c = ranges[size_t((me + k) % n)].take_back()) >= 0;)
                    count[size_t(c)]++;
        });
        bad += wrong.load();
        for (int c = 0; c < chunks; c++)
            if (count[size_t(c)].load() != 1) bad++;
    }
    hits.assign(size_t(chunks), 0);
    for (int c = 0; c < chunks; c++) hits[size_t(c)] = count[size_t(c)].load();
}

} // namespace

TEST(WorkTeam, EveryChunkOnceAnyTeamSize) {
    for (int threads : {1, 2, 3, 5, 2, 4, 1, 3}) // growing and shrinking teams
        for (int chunks : {0, 1, 7, 256}) {
            std::vector<int> hits;
            int bad = 0;
            run_regions(threads, chunks, 200, hits, bad);
            EXPECT_EQ(bad, 0) << threads << " threads, " << chunks << " chunks";
        }
}

TEST(WorkTeam, CallerAloneFinishesWhatHelpersMiss) {
    // The caller's body sleeps past the helpers' spin, so they go to sleep between regions; each
    // region still completes with every item done once.
    for (int r = 0; r < 5; r++) {
        std::atomic<int> next{0}, done{0};
        run_team(2, [&](int me, int) {
            if (me == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
            while (next.fetch_add(1) < 100) done.fetch_add(1);
        });
        EXPECT_EQ(done.load(), 100);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

TEST(WorkTeam, CallingThreadsHaveTheirOwnHelpers) {
    std::atomic<int> bad{0};
    std::vector<std::thread> callers;
    for (int t = 0; t < 3; t++)
        callers.emplace_back([&, t] {
            std::vector<int> hits;
            int b = 0;
            run_regions(2 + t, 33 + t, 300, hits, b);
            bad.fetch_add(b);
        });
    for (auto& c : callers) c.join();
    EXPECT_EQ(bad.load(), 0);
}
