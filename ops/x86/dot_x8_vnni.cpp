// Interleave8 matrices of every type with the layout (core/interleave.h, docs/format.md's table)
// against Q8_0 / Q8_K activations, AVX-512 VNNI on 256-bit registers (AVX512VL): the kernels of
// ops/x86/dot_x8_impl.h with VPDPBUSD, which multiplies, sums each row's 4 byte products and
// accumulates in int32 in one instruction (the AVX2 path needs VPMADDUBSW + VPADDW per piece and
// VPMADDWD per block), and pairs of groups in 512-bit registers for prefill. Built only into the
// avx512_vnni kernel row, with that row's flags. Q2_K and Q3_K: dot_x8_lowbit_vnni.cpp.
#include "ops/x86/dot_x8_vnni_impl.h"
#include "ops/x86/x86_shared.h"

namespace strata {
namespace {

// Q8_0: each piece of the pair biased to unsigned once for T tokens
template <int T>
void pair_q8_0(int nb, const uint8_t* g0, const uint8_t* g1, const BlockQ8_0* const* y,
               const int32_t* const* bsum, float* const* out) {
    const __m512i bias = _mm512_set1_epi8(char(0x80));
    __m512 acc[T];
    for (int u = 0; u < T; u++) acc[u] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t* b0 = g0 + size_t(b) * x8::kGroupBlock8;
        const uint8_t* b1 = g1 + size_t(b) * x8::kGroupBlock8;
        __m512i sum[T];
        for (int u = 0; u < T; u++) sum[u] = _mm512_setzero_si512();
        for (int c = 0; c < 8; c++) {
            const __m512i q = _mm512_xor_si512(load_pair(b0 + 16 + 32 * c, b1 + 16 + 32 * c), bias);
            for (int u = 0; u < T; u++)
                sum[u] = _mm512_dpbusd_epi32(sum[u], q, bcast4_512(y[u][b].qs + 4 * c));
        }
        const __m512 dw = scales_pair(b0, b1);
        for (int u = 0; u < T; u++) {
            const __m512i si =
                _mm512_sub_epi32(sum[u], _mm512_slli_epi32(_mm512_set1_epi32(bsum[u][b]), 7));
            const __m512 dy = _mm512_cvtph_ps(_mm256_set1_epi16(short(y[u][b].d)));
            acc[u] = _mm512_fmadd_ps(_mm512_mul_ps(dw, dy), _mm512_cvtepi32_ps(si), acc[u]);
        }
    }
    for (int u = 0; u < T; u++) store_pair(out[u], acc[u]);
}

// The IQ4_NL levels + 128 (unsigned, for VPDPBUSD) as a 512-bit lookup table, and 4 pieces of a
// pair's nibbles (32 bytes apart in each group) looked up: q[2c] the low nibbles of piece c, q[2c
// + 1] the high. IQ4_NL's blocks and IQ4_XS's sub-blocks.
inline __m512i iq4_lut512() {
    return _mm512_xor_si512(
        _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues))),
        _mm512_set1_epi8(char(0x80)));
}
inline void iq4_lookup_pair(const uint8_t* p0, const uint8_t* p1, __m512i lut, __m512i q[8]) {
    const __m512i m4 = _mm512_set1_epi8(15);
    for (int c = 0; c < 4; c++) {
        const __m512i v = load_pair(p0 + 32 * c, p1 + 32 * c);
        q[2 * c] = _mm512_shuffle_epi8(lut, _mm512_and_si512(v, m4));
        q[2 * c + 1] = _mm512_shuffle_epi8(lut, _mm512_and_si512(_mm512_srli_epi16(v, 4), m4));
    }
}

// IQ4_NL: the pair's block looked up once for T tokens, straight into the levels + 128
// (unsigned, for VPDPBUSD: q[2c] the low nibbles of piece c, q[2c+1] the high); the 128 x the
// token's block sum this adds comes out once per block, as for Q8_0.
template <int T>
void pair_iq4_nl(int nb, const uint8_t* g0, const uint8_t* g1, const BlockQ8_0* const* y,
                 const int32_t* const* bsum, float* const* out) {
    const __m512i lut = iq4_lut512();
    __m512 acc[T];
    for (int u = 0; u < T; u++) acc[u] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t* b0 = g0 + size_t(b) * x8::kGroupBlock;
        const uint8_t* b1 = g1 + size_t(b) * x8::kGroupBlock;
        __m512i q[8];
        iq4_lookup_pair(b0 + 16, b1 + 16, lut, q);
        const __m512 dw = scales_pair(b0, b1);
        for (int u = 0; u < T; u++) {
            const int8_t* yq = y[u][b].qs;
            __m512i a = _mm512_setzero_si512();
            for (int c = 0; c < 8; c++)
                a = _mm512_dpbusd_epi32(a, q[c], bcast4_512(yq + 4 * (c / 2) + 16 * (c % 2)));
            const __m512i sum =
                _mm512_sub_epi32(a, _mm512_slli_epi32(_mm512_set1_epi32(bsum[u][b]), 7));
            const __m512 dy = _mm512_cvtph_ps(_mm256_set1_epi16(short(y[u][b].d)));
            acc[u] = _mm512_fmadd_ps(_mm512_mul_ps(dw, dy), _mm512_cvtepi32_ps(sum), acc[u]);
        }
    }
    for (int u = 0; u < T; u++) store_pair(out[u], acc[u]);
}

// IQ4_XS: x8::groups_iq4_xs 16 rows wide, T tokens per pass: each sub-block's 4 pieces looked up
// once (straight into the levels + 128, as pair_iq4_nl) for the T tokens, each token's 8 products
// started at -128 x its Q8_K sum over the sub-block (the bias, as the 256-bit kernel takes it out)
// and multiplied by the 16 rows' signed 6-bit scales (VPMULLD).
template <int T>
void pair_iq4_xs(int nb, const uint8_t* g0, const uint8_t* g1, const BlockQ8_K* const* y,
                 float* const* out) {
    const __m512i lut = iq4_lut512();
    __m512 acc[T];
    for (int u = 0; u < T; u++) acc[u] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t* b0 = g0 + size_t(b) * x8::kGroupBlockXS;
        const uint8_t* b1 = g1 + size_t(b) * x8::kGroupBlockXS;
        __m256i sc0[8], sc1[8];
        x8::iq4_xs_scales8(b0, sc0);
        x8::iq4_xs_scales8(b1, sc1);
        __m512i sumi[T];
        for (int u = 0; u < T; u++) sumi[u] = _mm512_setzero_si512();
        for (int s = 0; s < 8; s++) {
            __m512i q[8];
            const size_t o = 64 + 128 * size_t(s);
            iq4_lookup_pair(b0 + o, b1 + o, lut, q);
            const __m512i sc = _mm512_inserti64x4(_mm512_castsi256_si512(sc0[s]), sc1[s], 1);
            for (int u = 0; u < T; u++) {
                const BlockQ8_K& yb = y[u][b];
                const int8_t* yq = yb.qs + 32 * s;
                __m512i a =
                    _mm512_set1_epi32(-128 * (int32_t(yb.bsums[2 * s]) + yb.bsums[2 * s + 1]));
                for (int c = 0; c < 8; c++)
                    a = _mm512_dpbusd_epi32(a, q[c], bcast4_512(yq + 4 * (c / 2) + 16 * (c % 2)));
                sumi[u] = _mm512_add_epi32(sumi[u], _mm512_mullo_epi32(a, sc));
            }
        }
        const __m512 dw = scales_pair(b0, b1);
        for (int u = 0; u < T; u++)
            acc[u] = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(y[u][b].d)),
                                     _mm512_cvtepi32_ps(sumi[u]), acc[u]);
    }
    for (int u = 0; u < T; u++) store_pair(out[u], acc[u]);
}

// Q4_0, Q4_1, Q5_0, Q5_1: x8::groups_levels 16 rows wide, each pair's block unpacked once for T
// tokens (Ty: x8's type, with unpack_pair, its 16-row unpacking, from PairLevels below).
struct Levels512 { // for x8::level_sums
    using Vec = __m512i;
    using Acc = __m512i;
    static __m512i zero() { return _mm512_setzero_si512(); }
    static __m512i add(__m512i a, __m512i q, __m512i y) { return _mm512_dpbusd_epi32(a, q, y); }
    static __m512i widen(__m512i a) { return a; }
    static constexpr int kChains = 1; // T tokens' chains are independent already
    static __m512i add_i32(__m512i a, __m512i b) { return _mm512_add_epi32(a, b); }
    static __m512i bcast(const int8_t* p) { return bcast4_512(p); }
};

inline void nibbles_pair(const uint8_t* qs0, const uint8_t* qs1, __m512i q[8]) {
    const __m512i m4 = _mm512_set1_epi8(15);
    for (int c = 0; c < 4; c++) {
        const __m512i v = load_pair(qs0 + 32 * c, qs1 + 32 * c);
        q[2 * c] = _mm512_and_si512(v, m4);
        q[2 * c + 1] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
    }
}

// x8::fifth_bits_x8, 16 rows wide
template <int j0> inline __m512i fifth_bits_pair(__m512i h) {
    constexpr char b = char(j0 / 8);
    const __m512i spread = _mm512_shuffle_epi8(
        h,
        _mm512_broadcast_i32x4(_mm_setr_epi8(b, b, b, b, b + 4, b + 4, b + 4, b + 4, b + 8, b + 8,
                                             b + 8, b + 8, b + 12, b + 12, b + 12, b + 12)));
    const __mmask64 set =
        _mm512_test_epi8_mask(spread, _mm512_set1_epi32(int(0x08040201u << (j0 % 8))));
    return _mm512_maskz_mov_epi8(set, _mm512_set1_epi8(0x10));
}

inline void q5_pair(const uint8_t* qh0, const uint8_t* qh1, const uint8_t* qs0, const uint8_t* qs1,
                    __m512i q[8]) {
    const __m512i h = load_pair(qh0, qh1);
    const __m512i f[8] = {fifth_bits_pair<0>(h),  fifth_bits_pair<16>(h), fifth_bits_pair<4>(h),
                          fifth_bits_pair<20>(h), fifth_bits_pair<8>(h),  fifth_bits_pair<24>(h),
                          fifth_bits_pair<12>(h), fifth_bits_pair<28>(h)};
    nibbles_pair(qs0, qs1, q);
    for (int c = 0; c < 8; c++) q[c] = _mm512_or_si512(q[c], f[c]);
}

// The qs (and qh) offsets of each type's group block, as x8's Ty::unpack reads them.
template <class Ty> struct PairLevels;
template <> struct PairLevels<x8::Q4_0> : x8::Q4_0 {
    static void unpack_pair(const uint8_t* b0, const uint8_t* b1, __m512i q[8]) {
        nibbles_pair(b0 + 16, b1 + 16, q);
    }
};
template <> struct PairLevels<x8::Q4_1> : x8::Q4_1 {
    static void unpack_pair(const uint8_t* b0, const uint8_t* b1, __m512i q[8]) {
        nibbles_pair(b0 + 32, b1 + 32, q);
    }
};
template <> struct PairLevels<x8::Q5_0> : x8::Q5_0 {
    static void unpack_pair(const uint8_t* b0, const uint8_t* b1, __m512i q[8]) {
        q5_pair(b0 + 16, b1 + 16, b0 + 48, b1 + 48, q);
    }
};
template <> struct PairLevels<x8::Q5_1> : x8::Q5_1 {
    static void unpack_pair(const uint8_t* b0, const uint8_t* b1, __m512i q[8]) {
        q5_pair(b0 + 32, b1 + 32, b0 + 64, b1 + 64, q);
    }
};

template <class Ty, int T>
void pair_levels(int nb, const uint8_t* g0, const uint8_t* g1, const BlockQ8_0* const* y,
                 const int32_t* const* bsum, float* const* out) {
    __m512 acc[T];
    for (int u = 0; u < T; u++) acc[u] = _mm512_setzero_ps();
    // the next pair of groups (the thread's next chunk of rows in a batched decode) is
    // prefetched as this one is read: both streams' blocks, one pair ahead
    const size_t ahead = size_t(g1 - g0) * 2;
    for (int b = 0; b < nb; b++) {
        const uint8_t* b0 = g0 + size_t(b) * Ty::kBlock;
        const uint8_t* b1 = g1 + size_t(b) * Ty::kBlock;
        x8::prefetch_bytes<x8::kHintL1>(b0 + ahead, Ty::kBlock);
        x8::prefetch_bytes<x8::kHintL1>(b1 + ahead, Ty::kBlock);
        __m512i q[8];
        PairLevels<Ty>::unpack_pair(b0, b1, q);
        const __m512 dw = scales_pair(b0, b1);
        __m512 dm = _mm512_setzero_ps();
        if constexpr (Ty::kMin) dm = scales_pair(b0 + 16, b1 + 16);
        for (int u = 0; u < T; u++) {
            __m512i sum = x8::level_sums<Ty, Levels512>(q, y[u][b].qs);
            if constexpr (Ty::kShift > 0)
                sum = _mm512_sub_epi32(
                    sum, _mm512_slli_epi32(_mm512_set1_epi32(bsum[u][b]), Ty::kShift));
            const __m512 dy = _mm512_cvtph_ps(_mm256_set1_epi16(short(y[u][b].d)));
            acc[u] = _mm512_fmadd_ps(_mm512_mul_ps(dw, dy), _mm512_cvtepi32_ps(sum), acc[u]);
            if constexpr (Ty::kMin)
                acc[u] = _mm512_fmadd_ps(_mm512_mul_ps(dm, dy), _mm512_set1_ps(float(bsum[u][b])),
                                         acc[u]);
        }
    }
    for (int u = 0; u < T; u++) store_pair(out[u], acc[u]);
}

// Q4_K and Q5_K: as x8::groups_k, 16 rows wide; the two groups' 6-bit scales and mins are
// unpacked into one array each (lanes 0..7 the first group's rows, 8..15 the second's).
template <class Ty, int T>
void pair_k(int nb, const uint8_t* g0, const uint8_t* g1, const BlockQ8_K* const* y,
            float* const* out) {
    constexpr bool kFifth = Ty::kQh >= 0;
    const __m512i m4 = _mm512_set1_epi8(15), m16 = _mm512_set1_epi8(0x10);
    alignas(64) uint8_t sc[2][64], mn[2][64];
    __m512 acc[T];
    for (int u = 0; u < T; u++) acc[u] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t* b0 = g0 + size_t(b) * Ty::kBlock;
        const uint8_t* b1 = g1 + size_t(b) * Ty::kBlock;
        x8::scales_mins8(b0 + 32, sc[0], mn[0]);
        x8::scales_mins8(b1 + 32, sc[1], mn[1]);
        // the 16 rows' 8-bit values at offset o of each group's array, as int32 lanes
        auto rows16 = [](const uint8_t(*v)[64], int o) {
            return _mm512_cvtepu8_epi32(
                _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(v[0] + o)),
                                   _mm_loadl_epi64(reinterpret_cast<const __m128i*>(v[1] + o))));
        };
        __m512i sumi[T];
        for (int u = 0; u < T; u++) sumi[u] = _mm512_setzero_si512();
        for (int p = 0; p < 4; p++) {
            __m512i lo[T], hi[T];
            for (int u = 0; u < T; u++) lo[u] = hi[u] = _mm512_setzero_si512();
            const __m128i shift = _mm_cvtsi32_si128(2 * p);
            for (int i = 0; i < 8; i++) {
                const size_t o = Ty::kQs + 256 * size_t(p) + 32 * size_t(i);
                const __m512i v = load_pair(b0 + o, b1 + o);
                __m512i q_lo = _mm512_and_si512(v, m4);
                __m512i q_hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
                if constexpr (kFifth) { // as x8::add_fifth_bits
                    const size_t oh = size_t(Ty::kQh) + 32 * size_t(i);
                    const __m512i h = _mm512_srl_epi16(load_pair(b0 + oh, b1 + oh), shift);
                    q_lo = _mm512_or_si512(q_lo, _mm512_and_si512(_mm512_slli_epi16(h, 4), m16));
                    q_hi = _mm512_or_si512(q_hi, _mm512_and_si512(_mm512_slli_epi16(h, 3), m16));
                }
                for (int u = 0; u < T; u++) {
                    const int8_t* yq = y[u][b].qs + 64 * p + 4 * i;
                    lo[u] = _mm512_dpbusd_epi32(lo[u], q_lo, bcast4_512(yq));
                    hi[u] = _mm512_dpbusd_epi32(hi[u], q_hi, bcast4_512(yq + 32));
                }
            }
            const __m512i s_lo = rows16(sc, 16 * p), s_hi = rows16(sc, 16 * p + 8);
            for (int u = 0; u < T; u++)
                sumi[u] =
                    _mm512_add_epi32(sumi[u], _mm512_add_epi32(_mm512_mullo_epi32(lo[u], s_lo),
                                                               _mm512_mullo_epi32(hi[u], s_hi)));
        }
        // mins: lane k = (mn[k][2q], mn[k][2q+1]) as int16, against (Y[2q], Y[2q+1])
        __m512i mpair[4];
        for (int q = 0; q < 4; q++)
            mpair[q] = _mm512_cvtepu8_epi16(pair_bytes16(mn[0] + 16 * q, mn[1] + 16 * q));
        const __m512 dv = scales_pair(b0, b1), dm = scales_pair(b0 + 16, b1 + 16);
        for (int u = 0; u < T; u++) {
            const int16_t* bs = y[u][b].bsums;
            alignas(16) int32_t ys[4];
            _mm_store_si128(
                reinterpret_cast<__m128i*>(ys),
                _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bs)),
                               _mm_loadu_si128(reinterpret_cast<const __m128i*>(bs + 8))));
            __m512i summin = _mm512_madd_epi16(mpair[0], _mm512_set1_epi32(ys[0]));
            for (int q = 1; q < 4; q++)
                summin =
                    _mm512_add_epi32(summin, _mm512_madd_epi16(mpair[q], _mm512_set1_epi32(ys[q])));
            const __m512 t = _mm512_fmsub_ps(dv, _mm512_cvtepi32_ps(sumi[u]),
                                             _mm512_mul_ps(dm, _mm512_cvtepi32_ps(summin)));
            acc[u] = _mm512_fmadd_ps(_mm512_set1_ps(y[u][b].d), t, acc[u]);
        }
    }
    for (int u = 0; u < T; u++) store_pair(out[u], acc[u]);
}

// Q6_K: as x8::groups_q6 / x8::block_q6, 16 rows wide, each pair's block unpacked once into a
// 4 KiB buffer that every token reads.
inline void unpack_q6_pair(const uint8_t* b0, const uint8_t* b1, int h, int i, __m512i q[4]) {
    const __m512i m4 = _mm512_set1_epi8(15), m30 = _mm512_set1_epi8(0x30);
    const size_t a = 32 * size_t(16 * h + i), bo = 32 * size_t(16 * h + 8 + i);
    const size_t ho = 1024 + 32 * size_t(8 * h + i);
    const __m512i A = load_pair(b0 + a, b1 + a), B = load_pair(b0 + bo, b1 + bo);
    const __m512i H = load_pair(b0 + ho, b1 + ho);
    q[0] = _mm512_or_si512(_mm512_and_si512(A, m4), _mm512_and_si512(_mm512_slli_epi16(H, 4), m30));
    q[1] = _mm512_or_si512(_mm512_and_si512(B, m4), _mm512_and_si512(_mm512_slli_epi16(H, 2), m30));
    q[2] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(A, 4), m4), _mm512_and_si512(H, m30));
    q[3] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(B, 4), m4),
                           _mm512_and_si512(_mm512_srli_epi16(H, 2), m30));
}

// The int32 sums of NT tokens' Q8_K blocks y[0..NT) with the pair's unpacked block (buf, as
// unpack_q6_pair leaves it): each piece loaded once for the NT tokens (one token per load was
// bound by the loads: 64 pieces + 64 broadcasts per token and block), each 16-value sub-block's
// sum times its scale (scv), less 32 x the scale pairs against the Q8_K sums (sp).
template <int NT>
inline void block_q6_pair(const __m512i* buf, const BlockQ8_K* const* y, const __m512i* sp,
                          const __m512i* scv, __m512 d, __m512* acc) {
    __m512i sumi[NT];
    for (int u = 0; u < NT; u++) sumi[u] = _mm512_setzero_si512();
    for (int h = 0; h < 2; h++) {
        for (int is = 0; is < 2; is++) { // values 16is..16is+15 of each quarter
            __m512i a[NT][4];
            for (int u = 0; u < NT; u++)
                for (int k = 0; k < 4; k++) a[u][k] = _mm512_setzero_si512();
            for (int j = 0; j < 4; j++) {
                const int i = 4 * is + j;
                for (int k = 0; k < 4; k++) {
                    const __m512i q = _mm512_load_si512(buf + 4 * (8 * h + i) + k);
                    for (int u = 0; u < NT; u++)
                        a[u][k] = _mm512_dpbusd_epi32(
                            a[u][k], q, bcast4_512(y[u]->qs + 128 * h + 32 * k + 4 * i));
                }
            }
            for (int u = 0; u < NT; u++)
                for (int k = 0; k < 4; k++) // quarter k: sub-block 8h + 2k + is
                    sumi[u] = _mm512_add_epi32(
                        sumi[u], _mm512_mullo_epi32(a[u][k], scv[8 * h + 2 * k + is]));
        }
    }
    for (int u = 0; u < NT; u++) {
        __m512i corr = _mm512_setzero_si512(); // the -32: the scale pairs against the Q8_K sums
        for (int p = 0; p < 8; p++) {
            int32_t pair;
            std::memcpy(&pair, y[u]->bsums + 2 * p, 4);
            corr = _mm512_dpwssd_epi32(corr, sp[p], _mm512_set1_epi32(pair));
        }
        const __m512i si = _mm512_sub_epi32(sumi[u], _mm512_slli_epi32(corr, 5));
        acc[u] = _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_set1_ps(y[u]->d)), _mm512_cvtepi32_ps(si),
                                 acc[u]);
    }
}

template <int T>
void pair_q6_k(int nb, const uint8_t* g0, const uint8_t* g1, const BlockQ8_K* const* y,
               float* const* out) {
    static_assert(T > 1, "one token runs the 256-bit groups (by_pairs)");
    constexpr int kNT = T % 4 == 0 ? 4 : T % 2 == 0 ? 2 : 1; // tokens per read of the buffer
    alignas(64) __m512i buf[64];
    __m512 acc[T];
    for (int u = 0; u < T; u++) acc[u] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t* b0 = g0 + size_t(b) * x8::kGroupBlock6;
        const uint8_t* b1 = g1 + size_t(b) * x8::kGroupBlock6;
        const uint8_t *sc0 = b0 + 1536, *sc1 = b1 + 1536;
        __m512i scv[16];
        for (int j = 0; j < 16; j++)
            scv[j] = _mm512_cvtepi8_epi32(
                _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc0 + 8 * j)),
                                   _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc1 + 8 * j))));
        const __m512 d = scales_pair(b0 + 1664, b1 + 1664);
        __m512i sp[8]; // the scale pairs for the -32, once per block for every token
        for (int p = 0; p < 8; p++)
            sp[p] = _mm512_cvtepi8_epi16(pair_bytes16(sc0 + 16 * p, sc1 + 16 * p));
        for (int h = 0; h < 2; h++)
            for (int i = 0; i < 8; i++) unpack_q6_pair(b0, b1, h, i, buf + 4 * (8 * h + i));
        for (int u = 0; u < T; u += kNT) {
            const BlockQ8_K* yb[kNT];
            for (int v = 0; v < kNT; v++) yb[v] = y[u + v] + b;
            block_q6_pair<kNT>(buf, yb, sp, scv, d, acc + u);
        }
    }
    for (int u = 0; u < T; u++) store_pair(out[u], acc[u]);
}

// Q4_0, Q4_1, Q5_0, Q5_1: 8 tokens per pass (32 registers hold the pair's 8 unpacked pieces and
// 8 sums), one token through x8::groups_levels.
template <class Ty>
void dot_levels(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                size_t out_stride) {
    by_pairs<BlockQ8_0, 8>(
        n, QK8_0, w, group_bytes, n_groups, act, act_stride, bsums, n_tokens, out, out_stride,
        []<int T>(int nb, const uint8_t* g0, const uint8_t* g1, const BlockQ8_0* const* y,
                  const int32_t* const* s,
                  float* const* o) { pair_levels<Ty, T>(nb, g0, g1, y, s, o); },
        [&]<int T>(int nb, const uint8_t* g, int count, const BlockQ8_0* const* y,
                   const int32_t* const* s, float* const* o) {
            x8::groups_levels<VnniProducts, Ty, T>(nb, g, group_bytes, count, y, s, o);
        });
}

// Q4_K and Q5_K: 4 tokens per pass (2 in the 256-bit kernel, which has half the registers)
template <class Ty>
void dot_k(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
           size_t act_stride, int n_tokens, float* out, size_t out_stride) {
    by_pairs<BlockQ8_K, 4>(
        n, QK_K, w, group_bytes, n_groups, act, act_stride, nullptr, n_tokens, out, out_stride,
        []<int T>(int nb, const uint8_t* g0, const uint8_t* g1, const BlockQ8_K* const* y,
                  const int32_t* const*, float* const* o) { pair_k<Ty, T>(nb, g0, g1, y, o); },
        [&]<int T>(int nb, const uint8_t* g, int count, const BlockQ8_K* const* y,
                   const int32_t* const*, float* const* o) {
            x8::groups_k<VnniProducts, Ty, T>(nb, g, group_bytes, count, y, o);
        });
}

} // namespace

#define STRATA_X8_K(name, Ty)                                                                      \
    void dot_x8_##name##_vnni(int n, const void* w, size_t group_bytes, int n_groups,              \
                              const void* act, size_t act_stride, const int32_t* /*bsums*/,        \
                              int n_tokens, float* out, size_t out_stride) {                       \
        dot_k<x8::Ty>(n, w, group_bytes, n_groups, act, act_stride, n_tokens, out, out_stride);    \
    }
STRATA_X8_K(q4_k, Q4_K)
STRATA_X8_K(q5_k, Q5_K)
#undef STRATA_X8_K

#define STRATA_X8_LEVELS(name, Ty)                                                                 \
    void dot_x8_##name##_vnni(int n, const void* w, size_t group_bytes, int n_groups,              \
                              const void* act, size_t act_stride, const int32_t* bsums,            \
                              int n_tokens, float* out, size_t out_stride) {                       \
        dot_levels<x8::Ty>(n, w, group_bytes, n_groups, act, act_stride, bsums, n_tokens, out,     \
                           out_stride);                                                            \
    }
STRATA_X8_LEVELS(q4_0, Q4_0)
STRATA_X8_LEVELS(q4_1, Q4_1)
STRATA_X8_LEVELS(q5_0, Q5_0)
STRATA_X8_LEVELS(q5_1, Q5_1)
#undef STRATA_X8_LEVELS

void dot_x8_iq4_nl_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                        size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                        size_t out_stride) {
    // 8 tokens per pass, as Q4_0: the pair's 8 looked-up pieces and 8 sums stay in registers
    by_pairs<BlockQ8_0, 8>(
        n, QK4_NL, w, group_bytes, n_groups, act, act_stride, bsums, n_tokens, out, out_stride,
        []<int T>(int nb, const uint8_t* g0, const uint8_t* g1, const BlockQ8_0* const* y,
                  const int32_t* const* s,
                  float* const* o) { pair_iq4_nl<T>(nb, g0, g1, y, s, o); },
        [&]<int T>(int nb, const uint8_t* g, int count, const BlockQ8_0* const* y,
                   const int32_t* const* s, float* const* o) {
            x8::groups_iq4_nl<VnniProducts, T>(nb, g, group_bytes, count, y, s, o);
        });
}

void dot_x8_q8_0_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride) {
    by_pairs<BlockQ8_0, 8>(
        n, QK8_0, w, group_bytes, n_groups, act, act_stride, bsums, n_tokens, out, out_stride,
        []<int T>(int nb, const uint8_t* g0, const uint8_t* g1, const BlockQ8_0* const* y,
                  const int32_t* const* s, float* const* o) { pair_q8_0<T>(nb, g0, g1, y, s, o); },
        [&]<int T>(int nb, const uint8_t* g, int count, const BlockQ8_0* const* y,
                   const int32_t* const* s, float* const* o) {
            x8::groups_q8<VnniProducts, T>(nb, g, group_bytes, count, y, s, o);
        });
}

void dot_x8_iq4_xs_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                        size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                        size_t out_stride) {
    // 4 tokens per pass, as Q4_K: the pair's 8 looked-up pieces, 4 sums and 4 totals in registers
    by_pairs<BlockQ8_K, 4>(
        n, QK_K, w, group_bytes, n_groups, act, act_stride, nullptr, n_tokens, out, out_stride,
        []<int T>(int nb, const uint8_t* g0, const uint8_t* g1, const BlockQ8_K* const* y,
                  const int32_t* const*, float* const* o) { pair_iq4_xs<T>(nb, g0, g1, y, o); },
        [&]<int T>(int nb, const uint8_t* g, int count, const BlockQ8_K* const* y,
                   const int32_t* const*, float* const* o) {
            x8::groups_iq4_xs<VnniProducts, T>(nb, g, group_bytes, count, y, o);
        });
}

void dot_x8_q6_k_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                      size_t out_stride) {
    // 8 tokens per unpacked block
    by_pairs<BlockQ8_K, 8>(
        n, QK_K, w, group_bytes, n_groups, act, act_stride, nullptr, n_tokens, out, out_stride,
        []<int T>(int nb, const uint8_t* g0, const uint8_t* g1, const BlockQ8_K* const* y,
                  const int32_t* const*, float* const* o) { pair_q6_k<T>(nb, g0, g1, y, o); },
        [&]<int T>(int nb, const uint8_t* g, int count, const BlockQ8_K* const* y,
                   const int32_t* const*, float* const* o) {
            x8::groups_q6<VnniProducts, T>(nb, g, group_bytes, count, y, o);
        });
}

} // namespace strata
