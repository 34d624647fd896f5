#include "runtime/roofline.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <omp.h>
#include <sys/mman.h>
#include <vector>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace strata {

namespace {

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Sums `n` 64-bit words as 8 streams read side by side (8 equal parts, one cache line of each
// per step, each prefetched 1 KiB ahead), the way the GEMV kernels read 8 weight rows: several
// streams per core keep more DRAM pages and misses in flight than one, so this is the bound a
// reader can reach. Plain C++ where the CPU lacks AVX2.
__attribute__((noinline)) uint64_t sum_words_portable(const uint64_t* p, size_t n) {
    uint64_t s[8] = {};
    for (size_t i = 0; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += p[i + size_t(k)];
    uint64_t t = 0;
    for (uint64_t v : s) t += v;
    return t;
}

#if defined(__x86_64__)
__attribute__((target("avx2"), noinline)) uint64_t sum_words_avx2(const uint64_t* p, size_t n) {
    __m256i s[8];
    for (auto& v : s) v = _mm256_setzero_si256();
    const size_t part = n / 64 * 8; // words per stream, whole cache lines
    for (size_t i = 0; i < part; i += 8)
        for (int k = 0; k < 8; k++) {
            const uint64_t* line = p + size_t(k) * part + i;
            _mm_prefetch(reinterpret_cast<const char*>(line) + 1024, _MM_HINT_T0);
            const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(line));
            const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(line + 4));
            s[k] = _mm256_add_epi64(s[k], _mm256_add_epi64(a, b));
        }
    uint64_t t = 0;
    for (const auto& v : s) {
        alignas(32) uint64_t w[4];
        _mm256_store_si256(reinterpret_cast<__m256i*>(w), v);
        t += w[0] + w[1] + w[2] + w[3];
    }
    return t;
}
#endif

uint64_t sum_words(const uint64_t* p, size_t n) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) return sum_words_avx2(p, n);
#endif
    return sum_words_portable(p, n);
}

double read_bandwidth(int threads) {
    const size_t bytes = size_t(1) << 30; // 1 GiB: far beyond any L3
    void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return 0;
    madvise(mem, bytes, MADV_HUGEPAGE);
    auto* words = static_cast<uint64_t*>(mem);
    const size_t n = bytes / 8;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; i += 512) words[i] = i; // touch every page
    double best = 0;
    volatile uint64_t sink = 0;
    for (int rep = 0; rep < 5; rep++) {
        const double t0 = now();
        uint64_t total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
        {
            const int id = omp_get_thread_num(), nt = omp_get_num_threads();
            const size_t chunk = n / size_t(nt);
            total += sum_words(words + size_t(id) * chunk, chunk);
        }
        const double dt = now() - t0;
        sink = sink + total;
        best = std::max(best, double(bytes) / dt / 1e9);
    }
    munmap(mem, bytes);
    return best;
}

#if defined(__x86_64__)
// 12 independent chains of 8-wide FMAs per thread (2 FLOP per lane each): AVX2+FMA, the widest
// FMA strata's kernels use on a CPU without AVX-512. Called only when the CPU has them.
__attribute__((target("avx2,fma"), noinline)) float fma_chains(long iters, float seed) {
    __m256 acc[12];
    for (int c = 0; c < 12; c++) acc[c] = _mm256_set1_ps(seed + float(c) * 1e-3f);
    const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
    for (long i = 0; i < iters; i++)
        for (int c = 0; c < 12; c++) acc[c] = _mm256_fmadd_ps(acc[c], m, a);
    __m256 s = acc[0];
    for (int c = 1; c < 12; c++) s = _mm256_add_ps(s, acc[c]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[7];
}
#else
__attribute__((noinline)) float fma_chains(long iters, float seed) {
    float acc[12][8];
    for (int c = 0; c < 12; c++)
        for (int l = 0; l < 8; l++) acc[c][l] = seed + float(c * 8 + l) * 1e-3f;
    for (long i = 0; i < iters; i++)
        for (int c = 0; c < 12; c++)
            for (int l = 0; l < 8; l++) acc[c][l] = acc[c][l] * 0.999999f + 1e-7f;
    return acc[0][0] + acc[11][7];
}
#endif

double fma_peak(int threads) {
    const long iters = 20'000'000;
    double best = 0;
    volatile float sink = 0;
    for (int rep = 0; rep < 3; rep++) {
        const double t0 = now();
        float total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
        total += fma_chains(iters, float(omp_get_thread_num()));
        const double dt = now() - t0;
        sink = sink + total;
        best = std::max(best, double(iters) * 12 * 8 * 2 * threads / dt / 1e9);
    }
    return best;
}

} // namespace

Roofline measure_roofline(const std::vector<int>& thread_counts) {
    Roofline r;
    for (int t : thread_counts) {
        r.read_gbps.push_back(read_bandwidth(t));
        r.fma_gflops.push_back(fma_peak(t));
    }
    return r;
}

} // namespace strata
