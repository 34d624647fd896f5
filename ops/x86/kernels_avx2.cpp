// AVX2 + FMA + F16C dot products (single rows, GEMV slices, prefill tiles) and the AVX2 row of
// the kernel table. Compiled with -mavx2 -mfma -mf16c only; reached through the kernel table when
// the CPU has those features. The row-wise kernels are in rowwise_avx2.cpp.
#include "core/half.h"
#include "core/quant_blocks.h"
#include "core/quantize_ref.h"
#include "ops/dot_ref.h"
#include "ops/kernels.h"
#include "ops/x86/avx2_helpers.h"
#include "ops/x86/dot_k.h"
#include "ops/x86/dot_q32_avx2.h"
#include "ops/x86/x86_shared.h"

#include <cmath>
#include <cstring>
#include <immintrin.h>

namespace strata {
namespace {

// Sum of products of 32 signed bytes, as 8 int32 lanes (sign trick: |x| * (y * sign(x))).
inline __m256i dot_i8(__m256i x, __m256i y) {
    const __m256i ax = _mm256_sign_epi8(x, x);
    const __m256i sy = _mm256_sign_epi8(y, x);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}

float dot_f32(int n, const void* w, const void* a) {
    const float* x = static_cast<const float*>(w);
    const float* y = static_cast<const float*>(a);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
    }
    float sum = hsum(_mm256_add_ps(acc0, acc1));
    for (; i < n; i++) sum += x[i] * y[i];
    return sum;
}

// F16 and BF16 rows against F32 activations: the skeleton of ops/dot_half_impl.h, 16 values per
// step.
struct HalfAvx2 {
    using Vec = __m256;
    static constexpr int kStep = 16;
    static Vec zero() { return _mm256_setzero_ps(); }
    static Vec fma(Vec w, Vec a, Vec acc) { return _mm256_fmadd_ps(w, a, acc); }
    static float hsum(Vec a, Vec b) { return strata::hsum(_mm256_add_ps(a, b)); }
};
struct HalfF16 : HalfAvx2 {
    static void act(const float* y, __m256& a0, __m256& a1) {
        a0 = _mm256_loadu_ps(y), a1 = _mm256_loadu_ps(y + 8);
    }
    static void weights(const uint16_t* x, __m256& w0, __m256& w1) {
        w0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)));
        w1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 8)));
    }
    static float widen(uint16_t v) { return f16_to_f32(v); }
};
// One 32-byte load holds 16 BF16 values; interleaving them with zeros (VPUNPCKLWD/HWD) makes
// floats of values 0-3 and 8-11, then 4-7 and 12-15. The activations are arranged to match,
// once per step for all rows.
struct HalfBF16 : HalfAvx2 {
    static void act(const float* y, __m256& a0, __m256& a1) {
        const __m256 y0 = _mm256_loadu_ps(y), y1 = _mm256_loadu_ps(y + 8);
        a0 = _mm256_permute2f128_ps(y0, y1, 0x20); // y 0-3, 8-11
        a1 = _mm256_permute2f128_ps(y0, y1, 0x31); // y 4-7, 12-15
    }
    static void weights(const uint16_t* x, __m256& w0, __m256& w1) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
        w0 = _mm256_castsi256_ps(_mm256_unpacklo_epi16(_mm256_setzero_si256(), v));
        w1 = _mm256_castsi256_ps(_mm256_unpackhi_epi16(_mm256_setzero_si256(), v));
    }
    static float widen(uint16_t v) { return bf16_to_f32(v); }
};

#include "ops/dot_half_impl.h"

float dot_f16(int n, const void* w, const void* a) { return dot_half_row<HalfF16>(n, w, a); }
float dot_bf16(int n, const void* w, const void* a) { return dot_half_row<HalfBF16>(n, w, a); }

float dot_q8_0(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ8_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    const int nb = n / QK8_0;
    // Two blocks per step into two accumulators: the FMA latency chain is halved.
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int b = 0;
    for (; b + 2 <= nb; b += 2) {
        const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
        const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
        const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b + 1].qs));
        const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b + 1].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)),
                               _mm256_cvtepi32_ps(dot_i8(x0, y0)), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b + 1].d) * h2f(y[b + 1].d)),
                               _mm256_cvtepi32_ps(dot_i8(x1, y1)), acc1);
    }
    for (; b < nb; b++) {
        const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
        const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)),
                               _mm256_cvtepi32_ps(dot_i8(x0, y0)), acc0);
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}

// (q - 8) . y as q . y - 8 * sum(y): unsigned nibbles go straight into VPMADDUBSW.
inline __m256i dot_q4_q8(const uint8_t* qs, __m256i y) {
    const __m256i p = _mm256_maddubs_epi16(nibbles(qs), y);
    const __m256i s = _mm256_maddubs_epi16(_mm256_set1_epi8(8), y);
    return _mm256_madd_epi16(_mm256_sub_epi16(p, s), _mm256_set1_epi16(1));
}

float dot_q4_0(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ4_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    const int nb = n / QK4_0;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int b = 0;
    for (; b + 2 <= nb; b += 2) {
        const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
        const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b + 1].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)),
                               _mm256_cvtepi32_ps(dot_q4_q8(x[b].qs, y0)), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b + 1].d) * h2f(y[b + 1].d)),
                               _mm256_cvtepi32_ps(dot_q4_q8(x[b + 1].qs, y1)), acc1);
    }
    for (; b < nb; b++) {
        const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)),
                               _mm256_cvtepi32_ps(dot_q4_q8(x[b].qs, y0)), acc0);
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}

// ---- GEMV slices: 8 rows at a time against one activation row ----------------------------
// Per block, each row's products are reduced to one number with horizontal adds across the 8
// rows (so lane r of the result is row r), and the 8 rows' f16 scales are converted with one
// VCVTPH2PS: the per-row cost of a block drops to the multiply-adds and the nibble unpacking.

// The 8 rows of a group are 8 short strided streams, which the hardware prefetcher follows
// poorly; the next group's rows are one contiguous range, fetched a slice per block step so it
// is in cache when its turn comes (prefetches never fault, past the matrix's end included).
inline void prefetch_next_group(const uint8_t* p, size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64)
        _mm_prefetch(reinterpret_cast<const char*>(p) + o, _MM_HINT_T0);
}

// The f16 block scales of 8 rows (`stride` bytes apart, starting at p) as 8 floats.
inline __m256 scales8(const uint8_t* p, size_t stride) {
    uint16_t d[8];
    for (int k = 0; k < 8; k++) std::memcpy(&d[k], p + size_t(k) * stride, 2);
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(d)));
}

// Lane r (0..7) = the sum of all 16 int16 lanes of v[r]; |each row's total| must fit int16.
inline __m256i hsum8_epi16(const __m256i v[8]) {
    const __m256i a =
        _mm256_hadd_epi16(_mm256_hadd_epi16(v[0], v[1]), _mm256_hadd_epi16(v[2], v[3]));
    const __m256i b =
        _mm256_hadd_epi16(_mm256_hadd_epi16(v[4], v[5]), _mm256_hadd_epi16(v[6], v[7]));
    const __m256i h = _mm256_hadd_epi16(a, b); // each 128-bit half: rows 0..7, half of the block
    return _mm256_cvtepi16_epi32(
        _mm_add_epi16(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1)));
}

// Lane r (0..7) = the sum of all 8 int32 lanes of v[r].
inline __m256i hsum8_epi32(const __m256i v[8]) {
    const __m256i a =
        _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    const __m256i b =
        _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
    // a: rows 0..3 in each half, b: rows 4..7: add the halves
    const __m256i lo = _mm256_permute2x128_si256(a, b, 0x20),
                  hi = _mm256_permute2x128_si256(a, b, 0x31);
    return _mm256_add_epi32(lo, hi);
}

void dot_rows_q4_0(int n, const void* w, size_t stride, int n_rows, const void* a, float* out) {
    const auto* y = static_cast<const BlockQ8_0*>(a);
    const auto* base = static_cast<const uint8_t*>(w);
    const int nb = n / QK4_0;
    const __m256i eight = _mm256_set1_epi8(8);
    int r = 0;
    for (; r + 8 <= n_rows; r += 8) {
        const uint8_t* rows = base + size_t(r) * stride;
        __m256 acc = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const __m256i yv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
            const __m256i s8 = _mm256_maddubs_epi16(eight, yv); // the -8 offset, once per block
            prefetch_next_group(rows + 8 * stride + size_t(b) * 8 * sizeof(BlockQ4_0),
                                8 * sizeof(BlockQ4_0));
            __m256i p[8];
            for (int k = 0; k < 8; k++) {
                const __m256i q =
                    nibbles(rows + size_t(k) * stride + size_t(b) * sizeof(BlockQ4_0) + 2);
                p[k] = _mm256_sub_epi16(_mm256_maddubs_epi16(q, yv), s8); // |block| <= 32*8*127
            }
            const __m256 d = _mm256_mul_ps(scales8(rows + size_t(b) * sizeof(BlockQ4_0), stride),
                                           _mm256_set1_ps(h2f(y[b].d)));
            acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(hsum8_epi16(p)), acc);
        }
        _mm256_storeu_ps(out + r, acc);
    }
    for (; r < n_rows; r++) out[r] = dot_q4_0(n, base + size_t(r) * stride, a);
}

// Prefill tiles: 8 Q4_0 rows x 4 tokens per step. Each row's nibbles are unpacked once per
// block and its scales converted once, then used for 4 tokens; the 8 rows' products for one
// token are reduced as in dot_rows_q4_0 (lane r = row r).
void dot_tile_q4_0(int n, const void* w, size_t stride, int n_rows, const void* a,
                   size_t act_stride, int n_tok, float* y, size_t y_stride) {
    const auto* base = static_cast<const uint8_t*>(w);
    const auto* abase = static_cast<const uint8_t*>(a);
    const int nb = n / QK4_0;
    const __m256i eight = _mm256_set1_epi8(8);
    int r = 0;
    for (; r + 8 <= n_rows; r += 8) {
        const uint8_t* rows = base + size_t(r) * stride;
        int t = 0;
        for (; t + 4 <= n_tok; t += 4) {
            const BlockQ8_0* ys[4];
            for (int u = 0; u < 4; u++)
                ys[u] = reinterpret_cast<const BlockQ8_0*>(abase + size_t(t + u) * act_stride);
            __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                             _mm256_setzero_ps()};
            for (int b = 0; b < nb; b++) {
                __m256i q[8];
                for (int k = 0; k < 8; k++)
                    q[k] = nibbles(rows + size_t(k) * stride + size_t(b) * sizeof(BlockQ4_0) + 2);
                const __m256 dw = scales8(rows + size_t(b) * sizeof(BlockQ4_0), stride);
                for (int u = 0; u < 4; u++) {
                    const __m256i yv =
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ys[u][b].qs));
                    const __m256i s8 = _mm256_maddubs_epi16(eight, yv);
                    __m256i p[8];
                    for (int k = 0; k < 8; k++)
                        p[k] = _mm256_sub_epi16(_mm256_maddubs_epi16(q[k], yv), s8);
                    acc[u] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(h2f(ys[u][b].d))),
                                             _mm256_cvtepi32_ps(hsum8_epi16(p)), acc[u]);
                }
            }
            for (int u = 0; u < 4; u++) _mm256_storeu_ps(y + size_t(t + u) * y_stride + r, acc[u]);
        }
        for (; t < n_tok; t++)
            dot_rows_q4_0(n, rows, stride, 8, abase + size_t(t) * act_stride,
                          y + size_t(t) * y_stride + r);
    }
    for (; r < n_rows; r++)
        for (int t = 0; t < n_tok; t++)
            y[size_t(t) * y_stride + r] =
                dot_q4_0(n, base + size_t(r) * stride, abase + size_t(t) * act_stride);
}

void dot_rows_q8_0(int n, const void* w, size_t stride, int n_rows, const void* a, float* out) {
    const auto* y = static_cast<const BlockQ8_0*>(a);
    const auto* base = static_cast<const uint8_t*>(w);
    const int nb = n / QK8_0;
    int r = 0;
    for (; r + 8 <= n_rows; r += 8) {
        const uint8_t* rows = base + size_t(r) * stride;
        __m256 acc = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const __m256i yv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
            prefetch_next_group(rows + 8 * stride + size_t(b) * 8 * sizeof(BlockQ8_0),
                                8 * sizeof(BlockQ8_0));
            __m256i p[8];
            for (int k = 0; k < 8; k++) {
                const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(
                    rows + size_t(k) * stride + size_t(b) * sizeof(BlockQ8_0) + 2));
                p[k] = dot_i8(x, yv);
            }
            const __m256 d = _mm256_mul_ps(scales8(rows + size_t(b) * sizeof(BlockQ8_0), stride),
                                           _mm256_set1_ps(h2f(y[b].d)));
            acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(hsum8_epi32(p)), acc);
        }
        _mm256_storeu_ps(out + r, acc);
    }
    for (; r < n_rows; r++) out[r] = dot_q8_0(n, base + size_t(r) * stride, a);
}

// Prefill tiles for Q8_0: 8 rows x 4 tokens per step. Each row's block is loaded, and its
// magnitudes taken, once for the 4 tokens; the 8 rows' scales are converted once.
void dot_tile_q8_0(int n, const void* w, size_t stride, int n_rows, const void* a,
                   size_t act_stride, int n_tok, float* y, size_t y_stride) {
    const auto* base = static_cast<const uint8_t*>(w);
    const auto* abase = static_cast<const uint8_t*>(a);
    const int nb = n / QK8_0;
    const __m256i ones = _mm256_set1_epi16(1);
    int r = 0;
    for (; r + 8 <= n_rows; r += 8) {
        const uint8_t* rows = base + size_t(r) * stride;
        int t = 0;
        for (; t + 4 <= n_tok; t += 4) {
            const BlockQ8_0* ys[4];
            for (int u = 0; u < 4; u++)
                ys[u] = reinterpret_cast<const BlockQ8_0*>(abase + size_t(t + u) * act_stride);
            __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                             _mm256_setzero_ps()};
            for (int b = 0; b < nb; b++) {
                __m256i x[8];
                for (int k = 0; k < 8; k++)
                    x[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(
                        rows + size_t(k) * stride + size_t(b) * sizeof(BlockQ8_0) + 2));
                const __m256 dw = scales8(rows + size_t(b) * sizeof(BlockQ8_0), stride);
                for (int u = 0; u < 4; u++) {
                    const __m256i yv =
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ys[u][b].qs));
                    __m256i p[8];
                    for (int k = 0; k < 8; k++) // |x| * (y * sign(x)), as in dot_i8
                        p[k] = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(x[k], x[k]),
                                                                      _mm256_sign_epi8(yv, x[k])),
                                                 ones);
                    acc[u] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(h2f(ys[u][b].d))),
                                             _mm256_cvtepi32_ps(hsum8_epi32(p)), acc[u]);
                }
            }
            for (int u = 0; u < 4; u++) _mm256_storeu_ps(y + size_t(t + u) * y_stride + r, acc[u]);
        }
        for (; t < n_tok; t++)
            dot_rows_q8_0(n, rows, stride, 8, abase + size_t(t) * act_stride,
                          y + size_t(t) * y_stride + r);
    }
    for (; r < n_rows; r++)
        for (int t = 0; t < n_tok; t++)
            y[size_t(t) * y_stride + r] =
                dot_q8_0(n, base + size_t(r) * stride, abase + size_t(t) * act_stride);
}

// Q4_K: scales and mins unpacked for all 8 sub-blocks with word operations; each sub-block's
// scale reaches its products by a byte shuffle of one register; the mins' contribution is one
// VPMADDWD of the activation's bsums; sums stay in vectors until the end of the row.
float dot_q4_k(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ4_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    const __m256i low4 = _mm256_set1_epi8(15);
    // byte masks picking int16 lane j of a 128-bit register (in both halves)
    const __m256i pick[8] = {_mm256_set1_epi16(0x0100), _mm256_set1_epi16(0x0302),
                             _mm256_set1_epi16(0x0504), _mm256_set1_epi16(0x0706),
                             _mm256_set1_epi16(0x0908), _mm256_set1_epi16(0x0b0a),
                             _mm256_set1_epi16(0x0d0c), _mm256_set1_epi16(0x0f0e)};
    // min j covers bsums 2j and 2j+1: bytes 8..15 of the unpacked scales, each twice
    const __m128i mins_twice =
        _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    __m256 acc = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
    for (int b = 0; b < n / QK_K; b++) {
        alignas(16) uint8_t sm[16];
        q4_k_unpack_scales_mins(x[b].scales, sm);
        const __m128i smv = _mm_load_si128(reinterpret_cast<const __m128i*>(sm));
        const __m256i scales = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(smv));
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(smv, mins_twice));
        const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].bsums));
        __m256i sum = _mm256_setzero_si256();
        for (int p = 0; p < 4; p++) {
            const __m256i q =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * p));
            const __m256i lo = _mm256_and_si256(q, low4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
            const __m256i y0 =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs + 64 * p));
            const __m256i y1 =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs + 64 * p + 32));
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, y0),
                                                 _mm256_shuffle_epi8(scales, pick[2 * p]));
            const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, y1),
                                                 _mm256_shuffle_epi8(scales, pick[2 * p + 1]));
            sum = _mm256_add_epi32(sum, _mm256_add_epi32(p0, p1));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * y[b].d), _mm256_cvtepi32_ps(sum), acc);
        acc_min = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].dmin) * y[b].d),
                                  _mm256_cvtepi32_ps(_mm256_madd_epi16(bsums, mins)), acc_min);
    }
    return hsum(acc) - hsum(acc_min);
}

// Q6_K: the 16 signed scales widened once per block; each pair of sub-blocks gets its scales by
// one byte shuffle; the +32 offset comes out through one VPMADDWD of the bsums; sums stay in
// vectors until the end of the row.
float dot_q6_k(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ6_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    const __m256i low4 = _mm256_set1_epi8(15), low2 = _mm256_set1_epi8(3);
    // int16 lane 2k of a 128-bit half in the low 128 bits, lane 2k+1 in the high 128 bits
    const __m256i pick[4] = {
        _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2,
                         3, 2, 3, 2, 3, 2, 3),
        _mm256_setr_epi8(4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7, 6,
                         7, 6, 7, 6, 7, 6, 7),
        _mm256_setr_epi8(8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 10, 11, 10, 11, 10, 11, 10,
                         11, 10, 11, 10, 11, 10, 11, 10, 11),
        _mm256_setr_epi8(12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 14, 15, 14,
                         15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15)};
    __m256 acc = _mm256_setzero_ps();
    for (int b = 0; b < n / QK_K; b++) {
        const __m256i sc16 =
            _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].scales)));
        const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].bsums));
        // q6 - 32: sum q6*q8 unsigned, then take 32 x (scale x sum of q8) per sub-block back out
        __m256i sum = _mm256_sub_epi32(_mm256_setzero_si256(),
                                       _mm256_slli_epi32(_mm256_madd_epi16(bsums, sc16), 5));
        for (int h = 0; h < 2; h++) {
            const __m256i half = h == 0 ? _mm256_permute2x128_si256(sc16, sc16, 0x00)
                                        : _mm256_permute2x128_si256(sc16, sc16, 0x11);
            const uint8_t* ql = x[b].ql + 64 * h;
            const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
            const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
            const __m256i qh =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qh + 32 * h));
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(l0, low4),
                                _mm256_slli_epi16(_mm256_and_si256(qh, low2), 4)),
                _mm256_or_si256(
                    _mm256_and_si256(l1, low4),
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), low2), 4)),
                _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16(l0, 4), low4),
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), low2), 4)),
                _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), low2), 4)),
            };
            for (int k = 0; k < 4; k++) { // sub-blocks 8h+2k (bytes 0..15) and 8h+2k+1 (16..31)
                const __m256i yk = _mm256_loadu_si256(
                    reinterpret_cast<const __m256i*>(y[b].qs + 128 * h + 32 * k));
                sum = _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_maddubs_epi16(q[k], yk),
                                                              _mm256_shuffle_epi8(half, pick[k])));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y[b].d * h2f(x[b].d)), _mm256_cvtepi32_ps(sum), acc);
    }
    return hsum(acc);
}

} // namespace

namespace {

// Types without an entry here use the reference row's dot product (ops/kernels.cpp).
constexpr Kernels make_avx2_row() {
    Kernels k{.name = "avx2"};
    set_avx2_kernels(k); // (x86_shared.h)
    return k;
}

constinit const Kernels kKernelsAvx2 = make_avx2_row();

} // namespace

const Kernels* kernels_avx2() { return &kKernelsAvx2; }

void dot_rows_q4_0_avx2(int n, const void* w, size_t stride, int n_rows, const void* a,
                        float* out) {
    dot_rows_q4_0(n, w, stride, n_rows, a, out);
}
void dot_rows_q8_0_avx2(int n, const void* w, size_t stride, int n_rows, const void* a,
                        float* out) {
    dot_rows_q8_0(n, w, stride, n_rows, a, out);
}

float dot_f32_avx2(int n, const void* w, const void* a) { return dot_f32(n, w, a); }
float dot_q8_0_avx2(int n, const void* w, const void* a) { return dot_q8_0(n, w, a); }
float dot_q4_0_avx2(int n, const void* w, const void* a) { return dot_q4_0(n, w, a); }
float dot_f16_avx2(int n, const void* w, const void* a) { return dot_f16(n, w, a); }
float dot_bf16_avx2(int n, const void* w, const void* a) { return dot_bf16(n, w, a); }
void dot_rows_f16_avx2(int n, const void* w, size_t stride, int n_rows, const void* a, float* out) {
    dot_rows_half<HalfF16>(n, w, stride, n_rows, a, out);
}
void dot_rows_bf16_avx2(int n, const void* w, size_t stride, int n_rows, const void* a,
                        float* out) {
    dot_rows_half<HalfBF16>(n, w, stride, n_rows, a, out);
}

float dot_q4_k_avx2(int n, const void* w, const void* a) { return dot_q4_k(n, w, a); }
float dot_q6_k_avx2(int n, const void* w, const void* a) { return dot_q6_k(n, w, a); }

void dot_tile_q4_0_avx2(int n, const void* w, size_t stride, int n_rows, const void* a,
                        size_t act_stride, int n_tok, float* y, size_t y_stride) {
    dot_tile_q4_0(n, w, stride, n_rows, a, act_stride, n_tok, y, y_stride);
}

void dot_tile_q8_0_avx2(int n, const void* w, size_t stride, int n_rows, const void* a,
                        size_t act_stride, int n_tok, float* y, size_t y_stride) {
    dot_tile_q8_0(n, w, stride, n_rows, a, act_stride, n_tok, y, y_stride);
}

} // namespace strata
