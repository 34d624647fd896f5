// The Interleave8 kernels of the low-bit K-quants (Q2_K, Q3_K) against Q8_K activations, written
// once over the byte-product policy P of ops/x86/dot_x8_impl.h (add, zero, scales_i8, mul_scale;
// see there) and instantiated by dot_x8_avx2.cpp and dot_x8_vnni.cpp with their own flags.
#pragma once

#include "ops/x86/dot_x8_impl.h"

namespace strata {
namespace { // (internal to each including file: see dot_x8_impl.h)
namespace x8 {

// ---- Q3_K x Q8_K ----------------------------------------------------------------------------
// A group block: hmask in 4-byte pieces (piece c of row k at 32c + 4k), qs likewise at 256, the
// 12 packed scale bytes of the 8 rows at 768 + 8j + k, d[8] at 864. Value 128n + 32j + l (l < 32)
// has its low 2 bits at bits 2j of qs byte 32n + l and its high bit at bit 4n + j of hmask byte
// l: qs piece 8n + c and hmask piece c (c < 8) hold values 128n + 32j + 4c..4c+3 of the 8 rows
// for each j, in sub-block 8n + 2j + c / 4 (16 values), value = level - 4 with the unsigned
// level low + 4 x high (0..7). The levels go unsigned into the products and the -4 comes out once
// per block as 4 x (the rows' scales . the Q8_K 16-value sums), as Q6_K's -32.
constexpr size_t kGroupBlock3 = 8 * sizeof(BlockQ3_K);

// The 8 rows' 16 signed scales, sc[8s + k] (s < 16), as q3_k_scales: from the packed bytes at p
// (byte j of row k at p + 8j + k), 32 bytes (4 sub-blocks) at a time. Bytes 0..3 hold the low
// nibbles of scales 0..3 and 8..11, bytes 4..7 those of 4..7 and 12..15, bytes 8..11 their high
// 2 bits (bits 0-1: scales 0..3, 2-3: 4..7, 4-5: 8..11, 6-7: 12..15).
inline void scales_q3(const uint8_t* p, int8_t* sc) {
    const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    const __m256i l2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 64));
    const __m256i m4 = _mm256_set1_epi8(15), m30 = _mm256_set1_epi8(0x30);
    const __m256i k32 = _mm256_set1_epi8(32);
    // (16-bit shifts: the bits they carry across bytes are masked off)
    const __m256i v[4] = {
        _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(l2, 4), m30)),
        _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(l2, 2), m30)),
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(l2, m30)),
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                        _mm256_and_si256(_mm256_srli_epi16(l2, 2), m30))};
    for (int i = 0; i < 4; i++)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(sc + 32 * i), _mm256_sub_epi8(v[i], k32));
}

// Bit b of each byte of h, as 4 (16-bit shifts: what crosses a byte boundary is masked off).
template <int b> inline __m256i bit_as_4(__m256i h) {
    const __m256i four = _mm256_set1_epi8(4);
    if constexpr (b < 2)
        return _mm256_and_si256(_mm256_slli_epi16(h, 2 - b), four);
    else if constexpr (b == 2)
        return _mm256_and_si256(h, four);
    else
        return _mm256_and_si256(_mm256_srli_epi16(h, b - 2), four);
}

// qs piece 8n + c with hmask piece c: q[j] = the 8 rows' levels of values 128n + 32j + 4c..4c+3.
template <int n> inline void unpack_q3(const uint8_t* blk, int c, __m256i q[4]) {
    const __m256i m3 = _mm256_set1_epi8(3);
    const __m256i Q =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 256 + 32 * (8 * n + c)));
    const __m256i H = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 32 * c));
    q[0] = _mm256_or_si256(_mm256_and_si256(Q, m3), bit_as_4<4 * n>(H));
    q[1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(Q, 2), m3), bit_as_4<4 * n + 1>(H));
    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(Q, 4), m3), bit_as_4<4 * n + 2>(H));
    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(Q, 6), m3), bit_as_4<4 * n + 3>(H));
}

// ---- Q2_K x Q8_K ----------------------------------------------------------------------------
// A group block: the 16 scale bytes of the 8 rows at 8j + k (low nibble: scale, high: min), qs in
// 4-byte pieces at 128 + 32c + 4k, d[8] at 640, dmin[8] at 656. The values are Q3_K's low 2 bits
// alone (levels 0..3, same order and sub-blocks); x = d scale q - dmin min, the mins term an 8 x 16
// product of the rows' mins with the Q8_K 16-value sums.
constexpr size_t kGroupBlock2 = 8 * sizeof(BlockQ2_K);

// qs piece 8n + c: q[j] = the 8 rows' levels of values 128n + 32j + 4c..4c+3.
template <int n> inline void unpack_q2(const uint8_t* blk, int c, __m256i q[4]) {
    const __m256i m3 = _mm256_set1_epi8(3);
    const __m256i Q =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 128 + 32 * (8 * n + c)));
    q[0] = _mm256_and_si256(Q, m3);
    q[1] = _mm256_and_si256(_mm256_srli_epi16(Q, 2), m3);
    q[2] = _mm256_and_si256(_mm256_srli_epi16(Q, 4), m3);
    q[3] = _mm256_and_si256(_mm256_srli_epi16(Q, 6), m3);
}

// ---- Q2_K and Q3_K: one skeleton over the type ------------------------------------------------
// The 8 rows' 8-bit values of the 16 sub-blocks (v[8s + k]: signed scales or unsigned mins) as
// int16 pairs for dot_bsums: p[s / 2] lane k = (v[k][s], v[k][s+1]), s even. Once per block.
template <bool kSigned> inline void bsum_pairs(const uint8_t* v, __m256i p[8]) {
    for (int s = 0; s < 16; s += 2) {
        const __m128i pairs =
            _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(v + 8 * s)),
                              _mm_loadl_epi64(reinterpret_cast<const __m128i*>(v + 8 * s + 8)));
        p[s / 2] = kSigned ? _mm256_cvtepi8_epi16(pairs) : _mm256_cvtepu8_epi16(pairs);
    }
}

// lane k = sum over the 16 sub-blocks s of v[k][s] x bsums[s] (p: bsum_pairs of v), per token.
inline __m256i dot_bsums(const __m256i p[8], const int16_t* bsums) {
    __m256i sum = _mm256_setzero_si256();
    for (int s = 0; s < 16; s += 2) {
        int32_t b;
        std::memcpy(&b, bsums + s, 4);
        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p[s / 2], _mm256_set1_epi32(b)));
    }
    return sum;
}

// One token's level products with one group block, each sub-block's times its scales, int32 per
// row: quants(n, c, q) gives the levels of qs piece 8n + c (straight from the weights, or from a
// buffer unpacked once for many tokens). Each sub-block's 4 pieces go into one Acc (AVX2's int16
// sums: 4 x 2 x 7 x 128 < 2^15), the 4 values j of a piece into 4 independent Accs (VNNI's
// latency chains). scv: each sub-block's scales as P::scales_i8 makes them.
template <class P, class Quants>
inline __m256i scaled_levels(const Quants& quants, const BlockQ8_K& y, const __m256i* scv) {
    __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 2
    for (int n = 0; n < 2; n++)
#pragma GCC unroll 2
        for (int is = 0; is < 2; is++) { // pieces 4is..4is+3: sub-blocks 8n + 2j + is
            typename P::Acc a[4] = {P::zero(), P::zero(), P::zero(), P::zero()};
#pragma GCC unroll 4
            for (int i = 0; i < 4; i++) {
                const int c = 4 * is + i;
                __m256i q[4];
                quants(n, c, q);
                for (int j = 0; j < 4; j++)
                    a[j] = P::add(a[j], q[j], bcast4(y.qs + 128 * n + 32 * j + 4 * c));
            }
            for (int j = 0; j < 4; j++)
                sumi = _mm256_add_epi32(sumi, P::mul_scale(a[j], scv[8 * n + 2 * j + is]));
        }
    return sumi;
}

// The types: kBlock, scales(blk, sc, pairs) (the 8 rows' scales sc[8s + k] as signed bytes, and
// bsum_pairs of what the Q8_K sums multiply: Q3_K's scales, Q2_K's mins), unpack<n>(blk, c, q)
// and add(acc, blk, sumi, pairs, y): acc + the token's block result from scaled_levels' sums.
struct Q3K {
    static constexpr size_t kBlock = kGroupBlock3;
    static void scales(const uint8_t* blk, int8_t* sc, __m256i pairs[8]) {
        scales_q3(blk + 768, sc);
        bsum_pairs<true>(reinterpret_cast<const uint8_t*>(sc), pairs);
    }
    template <int n> static void unpack(const uint8_t* blk, int c, __m256i q[4]) {
        unpack_q3<n>(blk, c, q);
    }
    static __m256 add(__m256 acc, const uint8_t* blk, __m256i sumi, const __m256i* pairs,
                      const BlockQ8_K& y) {
        // the -4 of every level: 4 x (the rows' scales . the Q8_K 16-value sums)
        const __m256i corr = dot_bsums(pairs, y.bsums);
        sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(corr, 2));
        const __m256 d =
            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 864)));
        return _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(y.d)), _mm256_cvtepi32_ps(sumi),
                               acc);
    }
};
struct Q2K {
    static constexpr size_t kBlock = kGroupBlock2;
    static void scales(const uint8_t* blk, int8_t* sc, __m256i pairs[8]) {
        alignas(32) uint8_t mn[128];
        const __m256i m4 = _mm256_set1_epi8(15);
        for (int i = 0; i < 4; i++) {
            const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 32 * i));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(sc + 32 * i), _mm256_and_si256(v, m4));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(mn + 32 * i),
                                _mm256_and_si256(_mm256_srli_epi16(v, 4), m4));
        }
        bsum_pairs<false>(mn, pairs);
    }
    template <int n> static void unpack(const uint8_t* blk, int c, __m256i q[4]) {
        unpack_q2<n>(blk, c, q);
    }
    static __m256 add(__m256 acc, const uint8_t* blk, __m256i sumi, const __m256i* pairs,
                      const BlockQ8_K& y) {
        const __m256i summin = dot_bsums(pairs, y.bsums);
        const __m256 d =
            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 640)));
        const __m256 dm =
            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 656)));
        const __m256 t = _mm256_fmsub_ps(d, _mm256_cvtepi32_ps(sumi),
                                         _mm256_mul_ps(dm, _mm256_cvtepi32_ps(summin)));
        return _mm256_fmadd_ps(_mm256_set1_ps(y.d), t, acc);
    }
};

// T tokens: with T > 1 each block is unpacked once into a 2 KiB buffer (L1) that every token
// reads (as groups_q6). A token's result is the same for any T.
template <class P, class Ty, int T>
void groups_lowbit(int nb, const uint8_t* w, size_t group_bytes, int n_groups,
                   const BlockQ8_K* const* y, float* const* out) {
    alignas(32) __m256i buf[T > 1 ? 64 : 1];
    alignas(32) int8_t sc[128];
    for (int g = 0; g < n_groups; g++) {
        const uint8_t* group = w + size_t(g) * group_bytes;
        __m256 acc[T];
        for (int u = 0; u < T; u++) acc[u] = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t* blk = group + size_t(b) * Ty::kBlock;
            if (T == 1) prefetch_ahead<kHintL1>(blk, Ty::kBlock);
            __m256i pairs[8];
            Ty::scales(blk, sc, pairs);
            __m256i scv[16]; // each sub-block's scales, prepared once per block
            for (int s = 0; s < 16; s++)
                scv[s] = P::scales_i8(reinterpret_cast<const uint8_t*>(sc + 8 * s));
            auto direct = [&](int n, int c, __m256i* q) {
                if (n == 0)
                    Ty::template unpack<0>(blk, c, q);
                else
                    Ty::template unpack<1>(blk, c, q);
            };
            if constexpr (T > 1)
                for (int c = 0; c < 16; c++) direct(c / 8, c % 8, buf + 4 * c);
            for (int u = 0; u < T; u++) {
                __m256i sumi;
                if constexpr (T > 1)
                    sumi = scaled_levels<P>(
                        [&](int n, int c, __m256i* q) {
                            for (int j = 0; j < 4; j++) q[j] = buf[4 * (8 * n + c) + j];
                        },
                        y[u][b], scv);
                else
                    sumi = scaled_levels<P>(direct, y[u][b], scv);
                acc[u] = Ty::add(acc[u], blk, sumi, pairs, y[u][b]);
            }
        }
        for (int u = 0; u < T; u++) _mm256_storeu_ps(out[u] + 8 * g, acc[u]);
    }
}

template <class P, class Ty>
void dot_lowbit(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                size_t out_stride) {
    const int nb = n / QK_K;
    const auto* wb = static_cast<const uint8_t*>(w);
    // 8 tokens per unpacked block
    by_tokens<BlockQ8_K, 8>(
        act, act_stride, nullptr, nb, n_tokens, out, out_stride,
        [&]<int T>(const BlockQ8_K* const* y, const int32_t* const*, float* const* o) {
            groups_lowbit<P, Ty, T>(nb, wb, group_bytes, n_groups, y, o);
        });
}

} // namespace x8
} // namespace
} // namespace strata
