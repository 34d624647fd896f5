// Q4_1, Q5_0, Q5_1 and IQ4_NL rows against Q8_0 activations, AVX2: one skeleton over per-type
// unpackers that turn a block into its 32 weight bytes. Symmetric types (Q5_0, IQ4_NL) give
// signed bytes, multiplied as |w| x (y with w's signs); types with a minimum (Q4_1, Q5_1) give
// unsigned levels and add min x dy x sum(y). Three shapes of the same block product:
//   dot_q32   one row (the AVX2 and AVX-512 rows' `dot`);
//   rows_q32  GEMV slices of 8 rows sharing each activation load, the 8 rows' scales converted
//             together and their products reduced across rows (lane r = row r);
//   tile_q32  prefill tiles of 8 rows x 4 tokens: each weight block unpacked once for 4 tokens.
// Compiled with -mavx2 -mfma -mf16c for the AVX2 and avx512 rows, and once more with AVX-512
// VNNI (and 32 vector registers) for the avx512_vnni row, where the byte products are VPDPBUSD.
#include "ops/x86/dot_q32_avx2.h"

#include "core/half.h"
#include "core/quant_blocks.h"

#include <cstring>
#include <immintrin.h>

namespace strata {
namespace {

float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

int hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

// Lane r (0..7) = the sum of all 8 int32 lanes of v[r].
__m256i hsum8_epi32(const __m256i v[8]) {
    const __m256i a =
        _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    const __m256i b =
        _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
    // a: rows 0..3 in each 128-bit half, b: rows 4..7: add the halves
    return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20),
                            _mm256_permute2x128_si256(a, b, 0x31));
}

// 16 bytes of nibbles -> 32 bytes: values 0..15 the low nibbles, 16..31 the high ones.
__m256i nibbles(const uint8_t* qs) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m128i m = _mm_set1_epi8(15);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), m), _mm_and_si128(raw, m));
}

// Bit j of the 32-bit word at qh as 0x10 in byte j (the fifth bit of Q5 value j).
__m256i fifth_bits(const uint8_t* qh) {
    uint32_t h;
    std::memcpy(&h, qh, 4);
    const __m256i spread =
        _mm256_shuffle_epi8(_mm256_set1_epi32(int(h)),
                            _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2,
                                             2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201));
    const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
    return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

// ---- the per-type unpackers: Block, kSigned, values(block) -> 32 bytes -------------------

struct Q5_0 {
    using Block = BlockQ5_0;
    static constexpr bool kSigned = true;
    static __m256i values(const Block& b) {
        return _mm256_sub_epi8(_mm256_or_si256(nibbles(b.qs), fifth_bits(b.qh)),
                               _mm256_set1_epi8(16));
    }
};

struct IQ4_NL {
    using Block = BlockIQ4_NL;
    static constexpr bool kSigned = true;
    static __m256i values(const Block& b) {
        const __m128i lut = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues));
        return _mm256_shuffle_epi8(_mm256_set_m128i(lut, lut), nibbles(b.qs));
    }
};

struct Q4_1 {
    using Block = BlockQ4_1;
    static constexpr bool kSigned = false;
    static __m256i values(const Block& b) { return nibbles(b.qs); }
};

struct Q5_1 {
    using Block = BlockQ5_1;
    static constexpr bool kSigned = false;
    static __m256i values(const Block& b) {
        return _mm256_or_si256(nibbles(b.qs), fifth_bits(b.qh));
    }
};

// ---- the block product, shared by every shape ----------------------------------------------

// Unsigned x signed bytes, summed in fours into 8 int32 lanes: VPDPBUSD in the avx512_vnni
// row's build of this file, VPMADDUBSW + VPMADDWD in the AVX2 one (exact in both: the callers'
// pairs stay within int16).
__m256i dot_u8s8(__m256i u, __m256i s) {
#ifdef __AVX512VNNI__
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

// 32 weight bytes (T::values) x 32 activation bytes, as 8 int32 partial sums.
template <class T> __m256i block_dot(__m256i q, __m256i y) {
    if constexpr (T::kSigned) // pairs of |w| x +-y fit int16: 2 x 127 x 127
        return dot_u8s8(_mm256_sign_epi8(q, q), _mm256_sign_epi8(y, q));
    else
        return dot_u8s8(q, y); // 2 x 31 x 127
}

// The sum of an activation block's 32 bytes as 8 int32 partial sums (for the minimum's term).
__m256i block_sum(__m256i y) { return dot_u8s8(_mm256_set1_epi8(1), y); }

__m256i load_act(const BlockQ8_0& y) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs));
}

// One f16 field (the scale d or the minimum m) of block b of 8 rows, as 8 floats.
template <class Block> __m256 halves8(const Block* const x[8], int b, uint16_t Block::*field) {
    alignas(16) uint16_t h[8];
    for (int k = 0; k < 8; k++) h[k] = x[k][b].*field;
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(h)));
}

// The 8 rows of a GEMV group are 8 short strided streams, which the hardware prefetcher follows
// poorly; the next group's rows are one contiguous range, fetched a slice per block step so it
// is in cache when its turn comes (prefetches never fault, past the matrix's end included).
void prefetch_range(const uint8_t* p, size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64)
        _mm_prefetch(reinterpret_cast<const char*>(p) + o, _MM_HINT_T0);
}

template <class T> float dot_q32(int n, const void* w, const void* a) {
    const auto* x = static_cast<const typename T::Block*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    __m256 acc = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
    for (int b = 0; b < n / QK8_0; b++) {
        const __m256i v = load_act(y[b]);
        const float dy = f16_to_f32(y[b].d);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(f16_to_f32(x[b].d) * dy),
                              _mm256_cvtepi32_ps(block_dot<T>(T::values(x[b]), v)), acc);
        if constexpr (!T::kSigned)
            acc_min = _mm256_fmadd_ps(_mm256_set1_ps(f16_to_f32(x[b].m) * dy),
                                      _mm256_cvtepi32_ps(block_sum(v)), acc_min);
    }
    return hsum_ps(_mm256_add_ps(acc, acc_min));
}

template <class T> using RowPtrs = const typename T::Block* [8];

template <class T> void row_ptrs(const uint8_t* rows, size_t stride, RowPtrs<T>& x) {
    for (int k = 0; k < 8; k++)
        x[k] = reinterpret_cast<const typename T::Block*>(rows + size_t(k) * stride);
}

// The 8 rows' results for block b of one activation row, added into acc (and acc_min, the
// minimums' term): the one step that rows_q32 and tile_q32 share.
template <class T>
void step8(const __m256i q[8], const __m256 dw, const __m256 mw, const BlockQ8_0& y, __m256& acc,
           __m256& acc_min) {
    const __m256i v = load_act(y);
    const float dy = f16_to_f32(y.d);
    __m256i p[8];
    for (int k = 0; k < 8; k++) p[k] = block_dot<T>(q[k], v);
    acc = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(dy)), _mm256_cvtepi32_ps(hsum8_epi32(p)),
                          acc);
    if constexpr (!T::kSigned)
        acc_min =
            _mm256_fmadd_ps(mw, _mm256_set1_ps(dy * float(hsum_epi32(block_sum(v)))), acc_min);
}

// One group's block b: the 8 rows' values and scales (and minimums).
template <class T> void unpack8(const RowPtrs<T>& x, int b, __m256i q[8], __m256& dw, __m256& mw) {
    for (int k = 0; k < 8; k++) q[k] = T::values(x[k][b]);
    dw = halves8(x, b, &T::Block::d);
    if constexpr (!T::kSigned) mw = halves8(x, b, &T::Block::m);
}

template <class T>
void rows_q32(int n, const void* w, size_t stride, int n_rows, const void* a, float* out) {
    using Block = typename T::Block;
    const auto* y = static_cast<const BlockQ8_0*>(a);
    const auto* base = static_cast<const uint8_t*>(w);
    const int nb = n / QK8_0;
    int r = 0;
    for (; r + 8 <= n_rows; r += 8) {
        const uint8_t* rows = base + size_t(r) * stride;
        RowPtrs<T> x;
        row_ptrs<T>(rows, stride, x);
        __m256 acc = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            prefetch_range(rows + 8 * stride + size_t(b) * 8 * sizeof(Block), 8 * sizeof(Block));
            __m256i q[8];
            __m256 dw, mw = _mm256_setzero_ps();
            unpack8<T>(x, b, q, dw, mw);
            step8<T>(q, dw, mw, y[b], acc, acc_min);
        }
        _mm256_storeu_ps(out + r, _mm256_add_ps(acc, acc_min));
    }
    for (; r < n_rows; r++) out[r] = dot_q32<T>(n, base + size_t(r) * stride, a);
}

template <class T>
void tile_q32(int n, const void* w, size_t stride, int n_rows, const void* a, size_t act_stride,
              int n_tok, float* y, size_t y_stride) {
    constexpr int kTok = 4;
    const auto* base = static_cast<const uint8_t*>(w);
    const auto* abase = static_cast<const uint8_t*>(a);
    const int nb = n / QK8_0;
    int r = 0;
    for (; r + 8 <= n_rows; r += 8) {
        const uint8_t* rows = base + size_t(r) * stride;
        RowPtrs<T> x;
        row_ptrs<T>(rows, stride, x);
        int t = 0;
        for (; t + kTok <= n_tok; t += kTok) {
            const BlockQ8_0* ys[kTok];
            __m256 acc[kTok], acc_min[kTok];
            for (int u = 0; u < kTok; u++) {
                ys[u] = reinterpret_cast<const BlockQ8_0*>(abase + size_t(t + u) * act_stride);
                acc[u] = acc_min[u] = _mm256_setzero_ps();
            }
            for (int b = 0; b < nb; b++) {
                __m256i q[8];
                __m256 dw, mw = _mm256_setzero_ps();
                unpack8<T>(x, b, q, dw, mw);
                for (int u = 0; u < kTok; u++) step8<T>(q, dw, mw, ys[u][b], acc[u], acc_min[u]);
            }
            for (int u = 0; u < kTok; u++)
                _mm256_storeu_ps(y + size_t(t + u) * y_stride + r,
                                 _mm256_add_ps(acc[u], acc_min[u]));
        }
        for (; t < n_tok; t++)
            rows_q32<T>(n, rows, stride, 8, abase + size_t(t) * act_stride,
                        y + size_t(t) * y_stride + r);
    }
    for (; r < n_rows; r++)
        for (int t = 0; t < n_tok; t++)
            y[size_t(t) * y_stride + r] =
                dot_q32<T>(n, base + size_t(r) * stride, abase + size_t(t) * act_stride);
}

} // namespace

// Exported as dot_q4_1_avx2 etc., or dot_q4_1_vnni etc. from the avx512_vnni row's build.
#ifdef __AVX512VNNI__
#define STRATA_Q32_ISA _vnni
#else
#define STRATA_Q32_ISA _avx2
#endif
#define STRATA_Q32_CAT(a, b, c) a##b##c
#define STRATA_Q32_XCAT(a, b, c) STRATA_Q32_CAT(a, b, c) // (expands STRATA_Q32_ISA first)
#define STRATA_Q32_FN(kind, name) STRATA_Q32_XCAT(kind, name, STRATA_Q32_ISA)
#define STRATA_Q32_KERNELS(name, T)                                                                \
    float STRATA_Q32_FN(dot_, name)(int n, const void* w, const void* a) {                         \
        return dot_q32<T>(n, w, a);                                                                \
    }                                                                                              \
    void STRATA_Q32_FN(dot_rows_, name)(int n, const void* w, size_t stride, int n_rows,           \
                                        const void* a, float* out) {                               \
        rows_q32<T>(n, w, stride, n_rows, a, out);                                                 \
    }                                                                                              \
    void STRATA_Q32_FN(dot_tile_, name)(int n, const void* w, size_t stride, int n_rows,           \
                                        const void* a, size_t act_stride, int n_tok, float* y,     \
                                        size_t y_stride) {                                         \
        tile_q32<T>(n, w, stride, n_rows, a, act_stride, n_tok, y, y_stride);                      \
    }

STRATA_Q32_KERNELS(q4_1, Q4_1)
STRATA_Q32_KERNELS(q5_0, Q5_0)
STRATA_Q32_KERNELS(q5_1, Q5_1)
STRATA_Q32_KERNELS(iq4_nl, IQ4_NL)

} // namespace strata
