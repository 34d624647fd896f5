// Q2_K, Q3_K, Q5_K and IQ4_XS rows against Q8_K activations, written once: a skeleton over
// per-type unpackers (T) and a product policy (P), included by each x86 file that instantiates it
// with its own compiler flags: AVX2 in dot_k_avx2.cpp, AVX-512 VNNI in dot_k_vnni.cpp.
//
// T::unpack turns one 256-value block into an Unpacked: 8 registers of weight bytes (byte j of
// q[i] is value 32i + j, the order of the Q8_K activations), the scale of each 16-value sub-block
// as int16 (types with 32-value sub-blocks give each scale twice), and for types with a minimum
// the min of each sub-block, also int16. T says how its bytes and mins are to be taken:
//   kSigned   the bytes are signed levels (IQ4_XS), multiplied as |q| x (y with q's signs);
//             otherwise unsigned levels, multiplied as they are (VPMADDUBSW takes unsigned x
//             signed)
//   kMins     Mins::None; Mins::Own: subtract dmin x min . bsums in float (Q2_K, Q5_K);
//             Mins::SameScale: subtract min . bsums from the integer sum before d scales it
//             (Q3_K, whose levels -4..3 are unpacked +4 into 0..7 and whose "mins" are 4 x scale)
// P provides scale_add(acc, p, sc): acc (int32) + the int16 pair sums p times the int16 scales sc
// (AVX2: VPMADDWD + VPADDD; VNNI: VPDPWSSD).
//
// The skeleton (per block): products of each weight register with its 32 activation bytes, the
// pairs summed in int16 (VPMADDUBSW) and scaled into int32 by their sub-block's scale; the mins
// through one VPMADDWD of the Q8_K sub-block sums; then one FMA per block into a float vector.
// dot, rows and tile do the same integer and float operations in the same order for a given row
// and token, so their results are bit-identical (prefill equals decode).
//
// Integer ranges: a VPMADDUBSW pair is at most 2 x 127 x 127 (IQ4_XS magnitudes; Q8_K bytes are
// within +-127), a scaled pair at most 2 x 32258 x 63 summed over 8 registers: far inside int32.
#pragma once

#include "core/quant_blocks.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <immintrin.h>
#include <utility>
#include <vector>

namespace strata {
// Internal to each including file: it is compiled once per ISA with that ISA's flags, and
// nothing of it (an out-of-line helper, a template instance) may be shared across them by the
// linker, or a machine without the wider ISA could run that file's copy.
namespace {
namespace kq {

enum class Mins { None, Own, SameScale };

struct Unpacked {
    __m256i q[8];   // byte j of q[i]: value 32i + j
    __m256i scales; // int16 lane s: the scale of values 16s .. 16s + 15
    __m256i mins;   // int16 lane s: its min (types with kMins != None)
    float d, dmin;
};

inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Bit `from` of every byte moved to bit `to` (other bits garbage: callers mask). 16-bit shifts
// by at most 7 take the target bit of each byte from that same byte.
template <int from, int to> inline __m256i move_bit(__m256i v) {
    if constexpr (from < to)
        return _mm256_slli_epi16(v, to - from);
    else if constexpr (from > to)
        return _mm256_srli_epi16(v, from - to);
    else
        return v;
}

template <int... I, class F> inline void unrolled(std::integer_sequence<int, I...>, F&& f) {
    (f(std::integral_constant<int, I>{}), ...);
}

// ---- the per-type unpackers -----------------------------------------------------------------

// The 8 6-bit scales (bytes 0..7) and mins (8..15) of a Q5_K block, as q4_k_unpack_scales_mins
// gives them, in a register: 16 bytes read (qh follows the 12 in the block), words w0, w1, w2.
// Scales 0..3 = w0 & 63, 4..7 = (w2 & 15) | (w0 >> 6) << 4; mins 0..3 = w1 & 63, 4..7 = (w2 >> 4) |
// (w1 >> 6) << 4.
inline __m128i q4_k_scales_mins(const uint8_t* q) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    const __m128i lo = _mm_and_si128(
        _mm_srlv_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 0)), _mm_setr_epi32(0, 0, 0, 4)),
        _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
    const __m128i hi =
        _mm_and_si128(_mm_srli_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 0, 0)), 2),
                      _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
    return _mm_or_si128(lo, hi);
}

// Q5_K: as Q4_K (qs[32p + l]: low nibble value 64p + l, high nibble 64p + 32 + l), bit i of
// qh[l] the fifth bit of value 32i + l. Scales and mins as Q4_K's, each for 32 values.
struct Q5K {
    using Block = BlockQ5_K;
    static constexpr bool kSigned = false;
    static constexpr Mins kMins = Mins::Own;
    static void unpack(const Block& b, Unpacked& u) {
        const __m128i smv = q4_k_scales_mins(b.scales);
        u.scales = _mm256_cvtepu8_epi16(
            _mm_shuffle_epi8(smv, _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7)));
        u.mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(
            smv, _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15)));
        const __m256i hb = load256(b.qh), m4 = _mm256_set1_epi8(15), m16 = _mm256_set1_epi8(16);
        unrolled(std::make_integer_sequence<int, 4>{}, [&](auto pc) {
            constexpr int p = decltype(pc)::value;
            const __m256i v = load256(b.qs + 32 * p);
            u.q[2 * p] = _mm256_or_si256(_mm256_and_si256(v, m4),
                                         _mm256_and_si256(move_bit<2 * p, 4>(hb), m16));
            u.q[2 * p + 1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4),
                                             _mm256_and_si256(move_bit<2 * p + 1, 4>(hb), m16));
        });
        u.d = h2f(b.d);
        u.dmin = h2f(b.dmin);
    }
};

// Q2_K: value 128n + 32j + l is bits 2j of qs[32n + l]; scales[s]: scale low nibble, min high.
struct Q2K {
    using Block = BlockQ2_K;
    static constexpr bool kSigned = false;
    static constexpr Mins kMins = Mins::Own;
    static void unpack(const Block& b, Unpacked& u) {
        const __m128i s = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
        const __m128i m4 = _mm_set1_epi8(15);
        u.scales = _mm256_cvtepu8_epi16(_mm_and_si128(s, m4));
        u.mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s, 4), m4));
        const __m256i m3 = _mm256_set1_epi8(3);
        for (int n = 0; n < 2; n++) {
            const __m256i v = load256(b.qs + 32 * n);
            u.q[4 * n] = _mm256_and_si256(v, m3);
            u.q[4 * n + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 2), m3);
            u.q[4 * n + 2] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m3);
            u.q[4 * n + 3] = _mm256_and_si256(_mm256_srli_epi16(v, 6), m3);
        }
        u.d = h2f(b.d);
        u.dmin = h2f(b.dmin);
    }
};

// Q3_K: value 128n + 32j + l: low 2 bits at bits 2j of qs[32n + l], high bit at bit 4n + j of
// hmask[l]; level = low + 4 x high - 4, unpacked as low + 4 x high (0..7) with 4 x scale as the
// min. The 16 6-bit scales (q3_k_scales' packing) unpacked with word operations.
struct Q3K {
    using Block = BlockQ3_K;
    static constexpr bool kSigned = false;
    static constexpr Mins kMins = Mins::SameScale;
    static void unpack(const Block& b, Unpacked& u) {
        // words 1..3 of a 16-byte load ending with the 12 bytes (the block's d follows them, so
        // the load starts 4 bytes early, in qs): w0, w1, w2. Scale s: nibble s / 8 of byte s % 8,
        // 2 bits at 2 (s / 4) of byte 8 + s % 4. Output word k: scales 4k..4k+3.
        static_assert(offsetof(BlockQ3_K, scales) >= 4);
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales - 4));
        const __m128i lo =
            _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 1)),
                                         _mm_setr_epi32(0, 0, 4, 4)),
                          _mm_set1_epi8(15)); // w0, w1, w0 >> 4, w1 >> 4
        const __m128i hi =
            _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(3, 3, 3, 3)),
                                         _mm_setr_epi32(0, 2, 4, 6)),
                          _mm_set1_epi8(3)); // w2 >> 2k
        const __m128i sc = _mm_or_si128(lo, _mm_slli_epi32(hi, 4));
        u.scales = _mm256_cvtepi8_epi16(_mm_sub_epi8(sc, _mm_set1_epi8(32)));
        u.mins = _mm256_slli_epi16(u.scales, 2);
        const __m256i hm = load256(b.hmask), m3 = _mm256_set1_epi8(3), m4 = _mm256_set1_epi8(4);
        unrolled(std::make_integer_sequence<int, 8>{}, [&](auto kc) {
            constexpr int k = decltype(kc)::value, n = k / 4, j = k % 4;
            const __m256i v = load256(b.qs + 32 * n);
            u.q[k] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 2 * j), m3),
                                     _mm256_and_si256(move_bit<k, 2>(hm), m4));
        });
        u.d = u.dmin = h2f(b.d);
    }
};

// IQ4_XS: sub-block s (32 values) is the nibbles of qs[16s .. 16s + 15] (low nibbles values
// 0..15, high 16..31), each an index into kIq4nlValues; 6-bit scales less 32, split between
// scales_l (nibble s % 2 of byte s / 2) and scales_h (bits 2s), unpacked with variable shifts.
struct IQ4XS {
    using Block = BlockIQ4_XS;
    static constexpr bool kSigned = true;
    static constexpr Mins kMins = Mins::None;
    static void unpack(const Block& b, Unpacked& u) {
        uint32_t l;
        std::memcpy(&l, b.scales_l, 4);
        const __m256i lo =
            _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(int(l)),
                                               _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28)),
                             _mm256_set1_epi32(15));
        const __m256i hi =
            _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(b.scales_h),
                                               _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14)),
                             _mm256_set1_epi32(3));
        const __m256i s32 =
            _mm256_sub_epi32(_mm256_or_si256(lo, _mm256_slli_epi32(hi, 4)), _mm256_set1_epi32(32));
        // scale s (int32 lane s) into int16 lanes 2s and 2s + 1
        u.scales = _mm256_or_si256(_mm256_and_si256(s32, _mm256_set1_epi32(0xffff)),
                                   _mm256_slli_epi32(s32, 16));
        u.mins = _mm256_setzero_si256();
        const __m256i lut = _mm256_broadcastsi128_si256(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
        const __m256i m4 = _mm256_set1_epi8(15);
        for (int p = 0; p < 4; p++) { // sub-blocks 2p (bytes 0..15) and 2p + 1 (16..31)
            const __m256i v = load256(b.qs + 32 * p);
            const __m256i vl = _mm256_and_si256(v, m4),
                          vh = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            u.q[2 * p] = _mm256_shuffle_epi8(lut, _mm256_permute2x128_si256(vl, vh, 0x20));
            u.q[2 * p + 1] = _mm256_shuffle_epi8(lut, _mm256_permute2x128_si256(vl, vh, 0x31));
        }
        u.d = h2f(b.d);
        u.dmin = 0;
    }
};

// ---- the skeleton ---------------------------------------------------------------------------

// Register i's scales: sub-block 2i's in the low 128 bits, 2i + 1's in the high.
inline void scale_picks(__m256i scales, __m256i out[8]) {
    const __m256i lo = _mm256_permute2x128_si256(scales, scales, 0x00);
    const __m256i hi = _mm256_permute2x128_si256(scales, scales, 0x11);
    for (int k = 0; k < 4; k++) {
        const char a = char(4 * k), b = char(4 * k + 2);
        const __m256i pick =
            _mm256_setr_epi8(a, char(a + 1), a, char(a + 1), a, char(a + 1), a, char(a + 1), a,
                             char(a + 1), a, char(a + 1), a, char(a + 1), a, char(a + 1), b,
                             char(b + 1), b, char(b + 1), b, char(b + 1), b, char(b + 1), b,
                             char(b + 1), b, char(b + 1), b, char(b + 1), b, char(b + 1));
        out[k] = _mm256_shuffle_epi8(lo, pick);
        out[k + 4] = _mm256_shuffle_epi8(hi, pick);
    }
}

// int16 pair sums of 32 weight bytes q (mag = |q| for signed types, else q) with 32 activations
template <class T> inline __m256i pairs(__m256i q, __m256i mag, __m256i y) {
    if constexpr (T::kSigned)
        return _mm256_maddubs_epi16(mag, _mm256_sign_epi8(y, q));
    else
        return _mm256_maddubs_epi16(q, y);
}

template <class T> inline __m256i magnitude(__m256i q) {
    if constexpr (T::kSigned)
        return _mm256_abs_epi8(q);
    else
        return q;
}

// One block's integer sums against one token, then into the float accumulator.
template <class T>
inline __m256 fold(__m256 acc, __m256i sumi, float d, float dmin, __m256i mins,
                   const BlockQ8_K& y) {
    if constexpr (T::kMins == Mins::SameScale)
        sumi = _mm256_sub_epi32(sumi, _mm256_madd_epi16(load256(y.bsums), mins));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d * y.d), _mm256_cvtepi32_ps(sumi), acc);
    if constexpr (T::kMins == Mins::Own)
        acc = _mm256_fnmadd_ps(_mm256_set1_ps(dmin * y.d),
                               _mm256_cvtepi32_ps(_mm256_madd_epi16(load256(y.bsums), mins)), acc);
    return acc;
}

template <class P, class T>
inline __m256 block_dot(__m256 acc, const typename T::Block& x, const BlockQ8_K& y) {
    Unpacked u;
    T::unpack(x, u);
    __m256i sc[8];
    scale_picks(u.scales, sc);
    __m256i sumi = _mm256_setzero_si256();
    for (int i = 0; i < 8; i++)
        sumi = P::scale_add(sumi, pairs<T>(u.q[i], magnitude<T>(u.q[i]), load256(y.qs + 32 * i)),
                            sc[i]);
    return fold<T>(acc, sumi, u.d, u.dmin, u.mins, y);
}

template <class P, class T> float dot(int n, const void* w, const void* a) {
    const auto* x = static_cast<const typename T::Block*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    __m256 acc = _mm256_setzero_ps();
    for (int b = 0; b < n / QK_K; b++) acc = block_dot<P, T>(acc, x[b], y[b]);
    return hsum(acc);
}

// GEMV slices: R rows per step, block by block, sharing each activation block (in L1) and
// giving the memory system R streams; the next R rows are prefetched a block's slice per step
// (prefetches never fault, past the matrix's end included).
constexpr int kRowsStep = 4;

template <class P, class T>
void rows(int n, const void* w, size_t stride, int n_rows, const void* a, float* out) {
    using Block = typename T::Block;
    const auto* y = static_cast<const BlockQ8_K*>(a);
    const auto* base = static_cast<const uint8_t*>(w);
    const int nb = n / QK_K;
    int r = 0;
    for (; r + kRowsStep <= n_rows; r += kRowsStep) {
        const uint8_t* rw = base + size_t(r) * stride;
        __m256 acc[kRowsStep];
        for (int k = 0; k < kRowsStep; k++) acc[k] = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            for (int k = 0; k < kRowsStep; k++) {
                const char* next = reinterpret_cast<const char*>(
                    rw + size_t(kRowsStep + k) * stride + size_t(b) * sizeof(Block));
                for (size_t o = 0; o < sizeof(Block); o += 64) _mm_prefetch(next + o, _MM_HINT_T0);
            }
            for (int k = 0; k < kRowsStep; k++)
                acc[k] = block_dot<P, T>(
                    acc[k], reinterpret_cast<const Block*>(rw + size_t(k) * stride)[b], y[b]);
        }
        for (int k = 0; k < kRowsStep; k++) out[r + k] = hsum(acc[k]);
    }
    for (; r < n_rows; r++) out[r] = dot<P, T>(n, base + size_t(r) * stride, a);
}

// A block unpacked for many tokens: the weight bytes, each register's scales as the products
// take them, the mins, the factors.
struct alignas(32) Prepared {
    __m256i q[8];
    __m256i sc[8];
    __m256i mins;
    float d, dmin;
};

// One row's prepared blocks against NT tokens (each weight register loaded once for all NT).
template <class P, class T, int NT>
void row_tokens(int nb, const Prepared* pb, const BlockQ8_K* const* ys, float* const* outs) {
    __m256 acc[NT];
    for (int u = 0; u < NT; u++) acc[u] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const Prepared& pr = pb[b];
        __m256i sumi[NT];
        for (int u = 0; u < NT; u++) sumi[u] = _mm256_setzero_si256();
        for (int i = 0; i < 8; i++) {
            const __m256i q = _mm256_load_si256(&pr.q[i]), mag = magnitude<T>(q);
            for (int u = 0; u < NT; u++)
                sumi[u] = P::scale_add(sumi[u], pairs<T>(q, mag, load256(ys[u][b].qs + 32 * i)),
                                       _mm256_load_si256(&pr.sc[i]));
        }
        for (int u = 0; u < NT; u++)
            acc[u] = fold<T>(acc[u], sumi[u], pr.d, pr.dmin, pr.mins, ys[u][b]);
    }
    for (int u = 0; u < NT; u++) *outs[u] = hsum(acc[u]);
}

// Prefill tiles: up to kTileRows rows are unpacked once into a per-thread buffer (16 rows of
// 2048 values: 80 KiB, L2), then every group of 4 tokens passes over them, row by row; the
// tokens' activations (4 rows) stay in L1 while the prepared weights stream from L2.
constexpr int kTileRows = 16, kTileTokens = 4;

template <class P, class T>
void tile(int n, const void* w, size_t stride, int n_rows, const void* a, size_t act_stride,
          int n_tok, float* y, size_t y_stride) {
    using Block = typename T::Block;
    const auto* base = static_cast<const uint8_t*>(w);
    const auto* ab = static_cast<const uint8_t*>(a);
    const int nb = n / QK_K;
    thread_local std::vector<Prepared> buf;
    for (int r0 = 0; r0 < n_rows; r0 += kTileRows) {
        const int nr = std::min(kTileRows, n_rows - r0);
        buf.resize(size_t(nr) * size_t(nb));
        for (int r = 0; r < nr; r++) {
            const auto* x = reinterpret_cast<const Block*>(base + size_t(r0 + r) * stride);
            for (int b = 0; b < nb; b++) {
                Prepared& pr = buf[size_t(r) * size_t(nb) + size_t(b)];
                Unpacked u;
                T::unpack(x[b], u);
                for (int i = 0; i < 8; i++) pr.q[i] = u.q[i];
                scale_picks(u.scales, pr.sc);
                pr.mins = u.mins;
                pr.d = u.d;
                pr.dmin = u.dmin;
            }
        }
        auto pass = [&]<int NT>(int t) {
            const BlockQ8_K* ys[NT];
            for (int u = 0; u < NT; u++)
                ys[u] = reinterpret_cast<const BlockQ8_K*>(ab + size_t(t + u) * act_stride);
            for (int r = 0; r < nr; r++) {
                float* outs[NT];
                for (int u = 0; u < NT; u++)
                    outs[u] = y + size_t(t + u) * y_stride + size_t(r0 + r);
                row_tokens<P, T, NT>(nb, buf.data() + size_t(r) * size_t(nb), ys, outs);
            }
        };
        int t = 0;
        for (; t + kTileTokens <= n_tok; t += kTileTokens) pass.template operator()<kTileTokens>(t);
        for (; t < n_tok; t++) pass.template operator()<1>(t);
    }
}

} // namespace kq
} // namespace
} // namespace strata

// The three exported kernels of one type for one ISA (declared in ops/x86/dot_k.h), inside
// namespace strata.
#define STRATA_K_DEFINE(type, T, isa, P)                                                           \
    float dot_##type##_##isa(int n, const void* w, const void* a) {                                \
        return kq::dot<P, kq::T>(n, w, a);                                                         \
    }                                                                                              \
    void dot_rows_##type##_##isa(int n, const void* w, size_t stride, int n_rows, const void* a,   \
                                 float* out) {                                                     \
        kq::rows<P, kq::T>(n, w, stride, n_rows, a, out);                                          \
    }                                                                                              \
    void dot_tile_##type##_##isa(int n, const void* w, size_t stride, int n_rows, const void* a,   \
                                 size_t act_stride, int n_tok, float* y, size_t y_stride) {        \
        kq::tile<P, kq::T>(n, w, stride, n_rows, a, act_stride, n_tok, y, y_stride);               \
    }
