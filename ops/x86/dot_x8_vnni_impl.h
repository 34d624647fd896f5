// What the AVX-512 VNNI kernels of the Interleave8 layout share (dot_x8_vnni.cpp and
// dot_x8_lowbit_vnni.cpp, both built into the avx512_vnni kernel row only, with its flags): the
// byte-product policy of the 256-bit kernels (ops/x86/dot_x8_impl.h) as VPDPBUSD, the 512-bit
// helpers that hold two groups (16 rows) per register, and by_pairs, which sends a call's passes
// of tokens to the pair kernels or the 256-bit groups.
#pragma once

#include "ops/x86/dot_x8_impl.h"

namespace strata {
namespace { // (internal to each including file: see dot_x8_impl.h)

struct VnniProducts {
    using Acc = __m256i; // int32 per row
    static Acc zero() { return _mm256_setzero_si256(); }
    static Acc add(Acc acc, __m256i q, __m256i y) { return _mm256_dpbusd_epi32(acc, q, y); }
    static Acc add4(Acc acc, __m256i q, const int8_t* y) {
        asm("vpdpbusd %2%{1to8%}, %1, %0"
            : "+v"(acc)
            : "v"(q), "m"(*reinterpret_cast<const int32_t*>(y)));
        return acc;
    }
    static __m256i widen(Acc acc) { return acc; }
    // VPDPBUSD's latency is ~4 cycles, its throughput 2 per cycle (Zen 5): one token's chain of 8
    // products per block kept Q8_0 GEMV in L2 at 12.0 us (256 x 2048), 4 chains 10.3-10.6
    static constexpr int kChains = 4;
    static constexpr int kQ6Run = 4; // int32 sums: a whole 16-value sub-block
    static constexpr int kQ5Run = 8; // a whole 32-value sub-block
    // int32 sums take a high nibble in place, 16 x its value: 8 pieces x 4 x 240 x 128 x 63 < 2^31
    static constexpr bool kHigh16 = true;
    static __m256i scales_i8(const uint8_t* sc) {
        return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc)));
    }
    static __m256i mul_scale(Acc acc, __m256i s) { return _mm256_mullo_epi32(acc, s); }
    static __m256i scaled(Acc acc, __m128i sc) { // sc: the 8 rows' scale bytes, low 64 bits
        return _mm256_mullo_epi32(acc, _mm256_cvtepu8_epi32(sc));
    }
    // signed quants made unsigned (q + 128, a flipped top bit) for VPDPBUSD; the 128 x the
    // token's block sum this adds comes out once per block
    using S8 = __m256i;
    static constexpr bool kS8Bias = true;
    static S8 s8(__m256i q) { return _mm256_xor_si256(q, _mm256_set1_epi8(char(0x80))); }
    static __m256i add_s8(__m256i acc, S8 q, __m256i y) { return _mm256_dpbusd_epi32(acc, q, y); }
};

// ---- 512-bit: two groups (16 rows) per register --------------------------------------------
// Piece c of group g in the low 256 bits, of group g + 1 in the high: one VPDPBUSD against the
// token's broadcast bytes serves 16 rows. A row's arithmetic is the 256-bit kernels' lane for
// lane, so its result does not depend on whether its group was paired (odd tails take those).

inline __m512i load_pair(const uint8_t* a, const uint8_t* b) {
    return _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b)), 1);
}
// the 16 rows' f16 scales (8 at a, 8 at b) as floats
inline __m512 scales_pair(const uint8_t* a, const uint8_t* b) {
    return _mm512_cvtph_ps(_mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)), 1));
}
inline void store_pair(float* out, __m512 v) {
    _mm256_storeu_ps(out, _mm512_castps512_ps256(v));
    _mm256_storeu_ps(out + 8, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}
inline __m512i bcast4_512(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// Two sub-blocks' bytes of the 16 rows, per row: from each group's array of 8 bytes per sub-block
// (row k's at 8s + k), a0 and a1 at sub-block 2p's, lane 0 holds group 0's (v[k][2p], v[k][2p+1])
// for k < 8 and lane 1 group 1's, ready to widen into the int16 pairs of VPMADDWD / VPDPWSSD.
// (One 16-byte load per group and a VPSHUFB: 5-7% faster in Q2_K/Q3_K decode, 256x2048 in L2,
// than two 8-byte loads and a VPUNPCKLBW per group.)
inline __m256i pair_bytes16(const uint8_t* a0, const uint8_t* a1) {
    const __m256i inter = _mm256_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15, 0,
                                           8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    return _mm256_shuffle_epi8(
        _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a0))),
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(a1)), 1),
        inter);
}

// Passes of T >= kPairMin tokens: pairs of groups through Pair, an odd last group through the
// 256-bit Single. Fewer tokens (decode, a small batched decode): every group through Single, one
// group after another — by default (kPairMinTokens); Q2_K and Q3_K, whose 256-bit kernels are
// bound by their instructions rather than by memory, pair from one token on with a prefetch of
// their own (dot_x8_lowbit_vnni.cpp). A pair reads two streams
// a group apart, and the 8 KiB software prefetch that keeps one stream ahead of the hardware
// prefetcher (x8::kAhead) lands, from the first stream, on data the second is reading: half the
// weights arrived unprefetched. On the Zen 5 VM (1 thread, 32000x2048 GEMV, loaded machine) Q4_0
// took 5.5 ms in pairs against 3.0 ms for the 256-bit groups (AVX2's 3.0 ms); pairs with a
// pair-aware prefetch 2.9-3.1 ms but more CPU time than the groups. Both give every row the same
// arithmetic (see above), so decode and batched results stay identical. Pair and Single take
// (nb, group(s), [Single: the number of groups], activation rows, their block sums (Q8_0; none
// for Q8_K), outputs). Passes of 2-3 tokens are bound by memory as decode is, so they take the
// groups and their prefetch too (the lent Xeon at 16 threads: 2 streams in pairs gave 0.86x
// one stream's tokens/s).
constexpr int kPairMinTokens = 4;

template <class Block, int kT, int kPairMin = kPairMinTokens, class Pair, class Single>
void by_pairs(int n, int block, const void* w, size_t group_bytes, int n_groups, const void* act,
              size_t act_stride, const int32_t* bsums, int n_tokens, float* out, size_t out_stride,
              const Pair& pair, const Single& single) {
    const int nb = n / block;
    const auto* wb = static_cast<const uint8_t*>(w);
    x8::by_tokens<Block, kT>(
        act, act_stride, bsums, nb, n_tokens, out, out_stride,
        [&]<int T>(const Block* const* y, const int32_t* const* s, float* const* o) {
            float* og[T];
            int g = 0;
            if constexpr (T >= kPairMin)
                for (; g + 2 <= n_groups; g += 2) {
                    for (int u = 0; u < T; u++) og[u] = o[u] + 8 * g;
                    pair.template operator()<T>(nb, wb + size_t(g) * group_bytes,
                                                wb + size_t(g + 1) * group_bytes, y, s, og);
                }
            if (g < n_groups) {
                for (int u = 0; u < T; u++) og[u] = o[u] + 8 * g;
                single.template operator()<T>(nb, wb + size_t(g) * group_bytes, n_groups - g, y, s,
                                              og);
            }
        });
}

} // namespace
} // namespace strata
