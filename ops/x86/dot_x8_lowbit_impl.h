// The Interleave8 kernels of the low-bit K-quants (Q3_K) against Q8_K activations, written once
// over the byte-product policy P of ops/x86/dot_x8_impl.h (add, zero, scales_i8, mul_scale; see
// there) and instantiated by dot_x8_avx2.cpp and dot_x8_vnni.cpp with their own flags.
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

// One token's products with one group block, int32 per row: quants(n, c, q) gives the levels of
// qs piece 8n + c (straight from the weights, or from a buffer unpacked once for many tokens).
// Each sub-block's 4 pieces go into one Acc (AVX2's int16 sums: 4 x 2 x 7 x 128 < 2^15), the 4
// values j of a piece into 4 independent Accs (VNNI's latency chains). sc: the signed scales
// (scales_q3), scv: each sub-block's as P::scales_i8 makes them.
template <class P, class Quants>
inline __m256i block_q3(const Quants& quants, const BlockQ8_K& y, const int8_t* sc,
                        const __m256i* scv) {
    __m256i sumi = _mm256_setzero_si256();
    for (int n = 0; n < 2; n++)
        for (int is = 0; is < 2; is++) { // pieces 4is..4is+3: sub-blocks 8n + 2j + is
            typename P::Acc a[4] = {P::zero(), P::zero(), P::zero(), P::zero()};
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
    // the -4: lane k = (sc[k][s], sc[k][s+1]) against the Q8_K sums (bsums s, s+1)
    __m256i corr = _mm256_setzero_si256();
    for (int s = 0; s < 16; s += 2) {
        const __m256i sp = _mm256_cvtepi8_epi16(
            _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + 8 * s)),
                              _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + 8 * s + 8))));
        int32_t pair;
        std::memcpy(&pair, y.bsums + s, 4);
        corr = _mm256_add_epi32(corr, _mm256_madd_epi16(sp, _mm256_set1_epi32(pair)));
    }
    return _mm256_sub_epi32(sumi, _mm256_slli_epi32(corr, 2));
}

// T tokens: with T > 1 each block is unpacked once into a 2 KiB buffer (L1) that every token
// reads (as groups_q6). A token's result is the same for any T.
template <class P, int T>
void groups_q3(int nb, const uint8_t* w, size_t group_bytes, int n_groups,
               const BlockQ8_K* const* y, float* const* out) {
    alignas(32) __m256i buf[T > 1 ? 64 : 1];
    alignas(32) int8_t sc[128];
    for (int g = 0; g < n_groups; g++) {
        const uint8_t* group = w + size_t(g) * group_bytes;
        __m256 acc[T];
        for (int u = 0; u < T; u++) acc[u] = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t* blk = group + size_t(b) * kGroupBlock3;
            if (T == 1)
                for (size_t l = 0; l < kGroupBlock3; l += 64)
                    _mm_prefetch(reinterpret_cast<const char*>(blk) + kAhead + l, _MM_HINT_T0);
            scales_q3(blk + 768, sc);
            __m256i scv[16]; // each sub-block's scales, prepared once per block
            for (int s = 0; s < 16; s++)
                scv[s] = P::scales_i8(reinterpret_cast<const uint8_t*>(sc + 8 * s));
            const __m256 d =
                _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 864)));
            auto direct = [&](int n, int c, __m256i* q) {
                if (n == 0)
                    unpack_q3<0>(blk, c, q);
                else
                    unpack_q3<1>(blk, c, q);
            };
            if constexpr (T > 1)
                for (int c = 0; c < 16; c++) direct(c / 8, c % 8, buf + 4 * c);
            for (int u = 0; u < T; u++) {
                __m256i sumi;
                if constexpr (T > 1)
                    sumi = block_q3<P>(
                        [&](int n, int c, __m256i* q) {
                            for (int j = 0; j < 4; j++) q[j] = buf[4 * (8 * n + c) + j];
                        },
                        y[u][b], sc, scv);
                else
                    sumi = block_q3<P>(direct, y[u][b], sc, scv);
                acc[u] = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(y[u][b].d)),
                                         _mm256_cvtepi32_ps(sumi), acc[u]);
            }
        }
        for (int u = 0; u < T; u++) _mm256_storeu_ps(out[u] + 8 * g, acc[u]);
    }
}

template <class P>
void dot_q3_k(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
              size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
              size_t out_stride) {
    const int nb = n / QK_K;
    const auto* wb = static_cast<const uint8_t*>(w);
    // 8 tokens per unpacked block
    by_tokens<BlockQ8_K, 8>(
        act, act_stride, nullptr, nb, n_tokens, out, out_stride,
        [&]<int T>(const BlockQ8_K* const* y, const int32_t* const*, float* const* o) {
            groups_q3<P, T>(nb, wb, group_bytes, n_groups, y, o);
        });
}

} // namespace x8
} // namespace
} // namespace strata
