// Measures this machine's limits on the spot: read bandwidth (a multi-threaded sum over a
// buffer far larger than the caches) and FP32 FMA peak (independent FMA chains in registers).
#pragma once

#include <vector>

namespace strata {

struct Roofline {
    std::vector<double> read_gbps;  // per requested thread count
    std::vector<double> fma_gflops; // per requested thread count
};

Roofline measure_roofline(const std::vector<int>& thread_counts);

} // namespace strata
