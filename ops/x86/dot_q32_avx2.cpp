// Q4_1, Q5_0, Q5_1 and IQ4_NL rows against Q8_0 activations, AVX2: one skeleton over per-type
// unpackers that turn a block into its 32 weight bytes. Symmetric types (Q5_0, IQ4_NL) give
// signed bytes, multiplied as |w| x (y with w's signs) (VNNI: unsigned levels, the bias taken
// out with the activations' sum, see kBiased); types with a minimum (Q4_1, Q5_1) give
// unsigned levels and add min x dy x sum(y). Three shapes of the same block product:
//   dot_q32   one row (the AVX2 and AVX-512 rows' `dot`);
//   rows_q32  GEMV slices of 8 rows sharing each activation load, the 8 rows' scales converted
//             together and their products reduced across rows (lane r = row r);
//   tile_q32  prefill tiles: each weight block unpacked once for several tokens; AVX2 8 rows x 4
//             tokens, VNNI 16 rows x 8 tokens with the blocks transposed in registers (the
//             interleave8 form, made on the fly) so that no token needs a horizontal sum.
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

// levels(block): the same 32 values as unsigned bytes, value + kBias (the transposed tile's
// form, whose products are all unsigned x signed: kBias x the activations' sum comes out once).
struct Q5_0 {
    using Block = BlockQ5_0;
    static constexpr bool kSigned = true;
    static constexpr int kBias = 16;
    static __m256i levels(const Block& b) {
        return _mm256_or_si256(nibbles(b.qs), fifth_bits(b.qh));
    }
    static __m256i values(const Block& b) {
        return _mm256_sub_epi8(levels(b), _mm256_set1_epi8(kBias));
    }
};

// IQ4_NL's 16 values + 128 as unsigned bytes (its levels)
struct Iq4nlLevels {
    int8_t v[16];
};
constexpr Iq4nlLevels iq4nl_levels() {
    Iq4nlLevels l{};
    for (int i = 0; i < 16; i++) l.v[i] = int8_t(uint8_t(kIq4nlValues[i] + 128));
    return l;
}
constexpr Iq4nlLevels kIq4nlLevels = iq4nl_levels();

struct IQ4_NL {
    using Block = BlockIQ4_NL;
    static constexpr bool kSigned = true;
    static constexpr int kBias = 128; // levels up to 241: VPDPBUSD only (VPMADDUBSW saturates)
    static __m256i lookup(const Block& b, const int8_t* table) {
        const __m128i lut = _mm_loadu_si128(reinterpret_cast<const __m128i*>(table));
        return _mm256_shuffle_epi8(_mm256_set_m128i(lut, lut), nibbles(b.qs));
    }
    static __m256i levels(const Block& b) { return lookup(b, kIq4nlLevels.v); }
    static __m256i values(const Block& b) { return lookup(b, kIq4nlValues); }
};

struct Q4_1 {
    using Block = BlockQ4_1;
    static constexpr bool kSigned = false;
    static constexpr int kBias = 0;
    static __m256i levels(const Block& b) { return nibbles(b.qs); }
    static __m256i values(const Block& b) { return levels(b); }
};

struct Q5_1 {
    using Block = BlockQ5_1;
    static constexpr bool kSigned = false;
    static constexpr int kBias = 0;
    static __m256i levels(const Block& b) {
        return _mm256_or_si256(nibbles(b.qs), fifth_bits(b.qh));
    }
    static __m256i values(const Block& b) { return levels(b); }
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

#ifdef __AVX512VNNI__
constexpr bool kVnni = true;
#else
constexpr bool kVnni = false;
#endif

// Symmetric types read as levels (value + kBias, unsigned) where VPDPBUSD takes every level
// exactly: one instruction per product instead of two sign operations and one product, the bias
// taken out of each block with the activations' sum. The integer sums are the same either way.
template <class T> constexpr bool kBiased = kVnni&& T::kBias > 0;

// -kBias x the activation bytes' sum, as 8 int32 partial sums (the start of a biased product)
template <class T> __m256i minus_bias(__m256i y) {
    return _mm256_sub_epi32(_mm256_setzero_si256(),
                            _mm256_slli_epi32(block_sum(y), __builtin_ctz(unsigned(T::kBias))));
}

// The 8 rows' results for block b of one activation row, added into acc (and acc_min, the
// minimums' term): the one step that rows_q32 and tile_q32 share.
template <class T>
void step8(const __m256i q[8], const __m256 dw, const __m256 mw, const BlockQ8_0& y, __m256& acc,
           __m256& acc_min) {
    const __m256i v = load_act(y);
    const float dy = f16_to_f32(y.d);
    __m256i p[8];
    if constexpr (kBiased<T>) {
#ifdef __AVX512VNNI__
        const __m256i start = minus_bias<T>(v);
        for (int k = 0; k < 8; k++) p[k] = _mm256_dpbusd_epi32(start, q[k], v);
#endif
    } else {
        for (int k = 0; k < 8; k++) p[k] = block_dot<T>(q[k], v);
    }
    acc = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(dy)), _mm256_cvtepi32_ps(hsum8_epi32(p)),
                          acc);
    if constexpr (!T::kSigned)
        acc_min =
            _mm256_fmadd_ps(mw, _mm256_set1_ps(dy * float(hsum_epi32(block_sum(v)))), acc_min);
}

// One group's block b: the 8 rows' values (levels where kBiased) and scales (and minimums).
template <class T> void unpack8(const RowPtrs<T>& x, int b, __m256i q[8], __m256& dw, __m256& mw) {
    for (int k = 0; k < 8; k++) q[k] = kBiased<T> ? T::levels(x[k][b]) : T::values(x[k][b]);
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

#ifdef __AVX512VNNI__
// 8 rows' 32 bytes (q[k]: row k) -> qt[c]: bytes 4c..4c+3 of row k in int32 lane k, the layout
// interleave8 stores Q4_0 in (core/interleave.h), made in registers once per block.
void transpose8(const __m256i q[8], __m256i qt[8]) {
    __m256i t[8], u[8];
    for (int i = 0; i < 4; i++) { // rows 2i, 2i+1: dwords (0, 1) then (2, 3) in each half
        t[2 * i] = _mm256_unpacklo_epi32(q[2 * i], q[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_epi32(q[2 * i], q[2 * i + 1]);
    }
    for (int h = 0; h < 2; h++) { // rows 4h..4h+3: dword c (c + 4 in the upper half) in u[4h + c]
        const __m256i* a = t + 4 * h;
        u[4 * h] = _mm256_unpacklo_epi64(a[0], a[2]);
        u[4 * h + 1] = _mm256_unpackhi_epi64(a[0], a[2]);
        u[4 * h + 2] = _mm256_unpacklo_epi64(a[1], a[3]);
        u[4 * h + 3] = _mm256_unpackhi_epi64(a[1], a[3]);
    }
    for (int c = 0; c < 4; c++) {
        qt[c] = _mm256_permute2x128_si256(u[c], u[4 + c], 0x20);
        qt[c + 4] = _mm256_permute2x128_si256(u[c], u[4 + c], 0x31);
    }
}

// 8 tokens against two groups of 8 rows (x0, x1), VNNI: each weight block is unpacked to levels
// and transposed once (transpose8), group x0's in the low 256 bits of qt, x1's in the high; then
// a token's 8 VPDPBUSDs against its broadcast 4-byte pieces leave row k's sum in lane k (x0) and
// 8 + k (x1) — no horizontal sums per token (step8 needs one per token and block). The 8 tokens'
// activation sums (the bias and minimum terms) take one horizontal sum together. Every row's
// integer sum and every float operation are step8's lane for lane, so a token's results equal
// the GEMV slice's (rows_q32) exactly. (x1 may be x0: an odd group, whose upper half is unused.)
inline __m512 join8(__m256 lo, __m256 hi) {
    return _mm512_castpd_ps(
        _mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
}

template <class T>
void pass_transposed(const RowPtrs<T>& x0, const RowPtrs<T>& x1, int nb,
                     const BlockQ8_0* const ys[8], __m512 acc[8], __m512 acc_min[8]) {
    for (int b = 0; b < nb; b++) {
        __m256i q[8], lo[8], hi[8];
        for (int k = 0; k < 8; k++) q[k] = T::levels(x0[k][b]);
        transpose8(q, lo);
        for (int k = 0; k < 8; k++) q[k] = T::levels(x1[k][b]);
        transpose8(q, hi);
        __m512i qt[8];
        for (int c = 0; c < 8; c++)
            qt[c] = _mm512_inserti64x4(_mm512_castsi256_si512(lo[c]), hi[c], 1);
        const __m512 dw = join8(halves8(x0, b, &T::Block::d), halves8(x1, b, &T::Block::d));
        __m512 mw = _mm512_setzero_ps();
        if constexpr (!T::kSigned)
            mw = join8(halves8(x0, b, &T::Block::m), halves8(x1, b, &T::Block::m));
        __m256i ps[8];
        for (int u = 0; u < 8; u++) ps[u] = block_sum(load_act(ys[u][b]));
        alignas(32) int32_t ysum[8]; // token u's 32 activation bytes summed
        _mm256_store_si256(reinterpret_cast<__m256i*>(ysum), hsum8_epi32(ps));
        for (int u = 0; u < 8; u++) {
            const int8_t* yq = ys[u][b].qs;
            __m512i p = _mm512_set1_epi32(-T::kBias * ysum[u]);
            for (int c = 0; c < 8; c++) {
                int32_t piece;
                std::memcpy(&piece, yq + 4 * c, 4);
                p = _mm512_dpbusd_epi32(p, qt[c], _mm512_set1_epi32(piece));
            }
            const float dy = f16_to_f32(ys[u][b].d);
            acc[u] = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(dy)), _mm512_cvtepi32_ps(p),
                                     acc[u]);
            if constexpr (!T::kSigned)
                acc_min[u] = _mm512_fmadd_ps(mw, _mm512_set1_ps(dy * float(ysum[u])), acc_min[u]);
        }
    }
}
#endif

template <class T>
void tile_q32(int n, const void* w, size_t stride, int n_rows, const void* a, size_t act_stride,
              int n_tok, float* y, size_t y_stride) {
    // tokens per pass: 8 against 16 rows transposed (VNNI, 32 registers), else 4 through step8
    constexpr int kTok = kVnni ? 8 : 4;
    const auto* base = static_cast<const uint8_t*>(w);
    const auto* abase = static_cast<const uint8_t*>(a);
    const int nb = n / QK8_0;
    int r = 0;
    for (int step; r + 8 <= n_rows; r += step) {
        step = kVnni && r + 16 <= n_rows ? 16 : 8;
        const uint8_t* rows = base + size_t(r) * stride;
        RowPtrs<T> x, x1;
        row_ptrs<T>(rows, stride, x);
        row_ptrs<T>(step == 16 ? rows + 8 * stride : rows, stride, x1);
        int t = 0;
        for (; t + kTok <= n_tok; t += kTok) {
            const BlockQ8_0* ys[kTok];
            for (int u = 0; u < kTok; u++)
                ys[u] = reinterpret_cast<const BlockQ8_0*>(abase + size_t(t + u) * act_stride);
#ifdef __AVX512VNNI__
            __m512 acc[kTok], acc_min[kTok];
            for (int u = 0; u < kTok; u++) acc[u] = acc_min[u] = _mm512_setzero_ps();
            pass_transposed<T>(x, x1, nb, ys, acc, acc_min);
            for (int u = 0; u < kTok; u++) {
                const __m512 sum = _mm512_add_ps(acc[u], acc_min[u]);
                float* out = y + size_t(t + u) * y_stride + r;
                _mm256_storeu_ps(out, _mm512_castps512_ps256(sum));
                if (step == 16)
                    _mm256_storeu_ps(out + 8, _mm256_castpd_ps(_mm512_extractf64x4_pd(
                                                  _mm512_castps_pd(sum), 1)));
            }
#else
            __m256 acc[kTok], acc_min[kTok];
            for (int u = 0; u < kTok; u++) acc[u] = acc_min[u] = _mm256_setzero_ps();
            for (int b = 0; b < nb; b++) {
                __m256i q[8];
                __m256 dw, mw = _mm256_setzero_ps();
                unpack8<T>(x, b, q, dw, mw);
                for (int u = 0; u < kTok; u++) step8<T>(q, dw, mw, ys[u][b], acc[u], acc_min[u]);
            }
            for (int u = 0; u < kTok; u++)
                _mm256_storeu_ps(y + size_t(t + u) * y_stride + r,
                                 _mm256_add_ps(acc[u], acc_min[u]));
#endif
        }
        for (; t < n_tok; t++)
            rows_q32<T>(n, rows, stride, step, abase + size_t(t) * act_stride,
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
