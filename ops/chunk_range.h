// Work sharing without a scheduler: each thread starts on its own contiguous share of a list of
// chunks (one sequential stream of weights, which the prefetcher follows) and, when its share
// runs out, takes chunks from the far end of the others' shares (the matrix products of
// ops/matmul.cpp and the experts of runtime/graph_moe.cpp).
#pragma once

#include <atomic>
#include <cstdint>

namespace strata {

// A thread's share of chunks [front, back), both ends in one word: the owner takes from the
// front, others from the back, each with one compare-and-swap, so every chunk runs exactly once.
struct alignas(64) ChunkRange { // one cache line each: no false sharing between owners
    std::atomic<uint64_t> fb{0};

    void reset(int64_t front, int64_t back) {
        fb.store(uint64_t(front) | uint64_t(back) << 32, std::memory_order_relaxed);
    }
    int take_front() { return take(true); }
    int take_back() { return take(false); }

  private:
    int take(bool front) {
        uint64_t v = fb.load(std::memory_order_relaxed);
        for (;;) {
            const uint32_t f = uint32_t(v), b = uint32_t(v >> 32);
            if (f >= b) return -1;
            const uint64_t next = front ? v + 1 : v - (uint64_t(1) << 32);
            if (fb.compare_exchange_weak(v, next, std::memory_order_relaxed))
                return int(front ? f : b - 1);
        }
    }
};

} // namespace strata
