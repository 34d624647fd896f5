// The Interleave8 kernels (core/interleave.h) written once over a byte-product policy P and
// included by each x86 file that instantiates them with its own compiler flags: AVX2 (VPMADDUBSW
// into int16 sums, widened by VPMADDWD) in dot_x8_avx2.cpp, AVX-512 VNNI (VPDPBUSD into int32) in
// dot_x8_vnni.cpp. P provides:
//   Acc                      a running sum of unsigned-nibble x signed-byte products, per row
//   zero()                   an empty Acc
//   add(acc, q, y)           acc + the products of 32 quant bytes (4 of each of 8 rows) with y
//   add4(acc, q, p)          add with y the 4 activation bytes at p broadcast (VNNI: as the
//                            instruction's embedded-broadcast memory operand)
//   widen(acc)               the 8 rows' sums as int32 lanes
//   scaled(acc, sc)          the 8 rows' sums times their 6-bit scales (sc's low 8 bytes), int32
//   scales_i8(sc)            8 rows' signed 8-bit scales (Q6_K) in the form mul_scale takes
//   mul_scale(acc, s)        the 8 rows' sums times those scales, int32 lanes
//   kQ6Run                   6-bit quant pieces an Acc may take before it is scaled
//   kQ5Run                   5-bit quant pieces (Q5_K) an Acc may take before it is scaled
//   kHigh16                  an Acc may take Q4_K's high nibbles in place (16 x their value)
//   S8, s8(q)                32 signed quant bytes (Q8_0) prepared once for every token
//   add_s8(acc, s, y)        int32 acc + the products of a prepared S8 with y, per row
//   kS8Bias                  s8 biased the quants by +128: 128 x the token's block sum comes out
//   kChains                  independent sums one token's products with a block are split over:
//                            one-token GEMV is bound by the products' latency, not their count,
//                            where one instruction multiplies and accumulates (VNNI: 4)
//
// One 32-byte load holds 4 quant bytes of each of 8 rows: its low nibbles are values 4c..4c+3 of
// the 8 rows and its high nibbles values 16+4c..16+4c+3 (Q4_0), so a product against the token's
// 4 matching activation bytes broadcast to every lane leaves row r's sum in lane r — no
// horizontal sums. Q4_0's -8 offset is taken out once per block as 8 x the token's block sum
// (precomputed by the caller, see DotX8Fn).
#pragma once

#include "core/quant_blocks.h"

#include <cstring>
#include <immintrin.h>

namespace strata {
// Internal to each including file: it is compiled once per ISA with that ISA's flags, and
// nothing of it (an out-of-line helper, a template instance) may be shared across them by the
// linker, or a machine without the wider ISA could run that file's copy.
namespace {
namespace x8 {

constexpr size_t kGroupBlock = 8 * sizeof(BlockQ4_0); // 8 f16 scales + 8 x 16 quant bytes
// Decode reads each thread's rows as one sequential stream, which the hardware prefetcher alone
// serves at ~60% of the bandwidth that several streams reach; prefetching 8 KiB ahead raised
// TinyLlama Q4_0 generation from 24 to 29-32 t/s (1 thread) and 44 to 51-53 (2 threads); 1, 2,
// 4, 16 and 32 KiB measured the same within noise, none (0) clearly worse.
constexpr size_t kAhead = 8192;
// Which cache the prefetch fills, per kernel: L2 (T1) for Q4_K, Q5_K, Q6_K, IQ4_XS and Q4_0/Q4_1/
// Q5_0/Q5_1, L1 (T0) for Q8_0, IQ4_NL, Q2_K and Q3_K. Measured on the Zen 5 VM (2026-12-03, idle):
// 32000x2048 GEMV from memory, min of 5 alternating runs, Q5_K 2222 us with T1 against 2544 with
// T0 at 1 thread, 1027 against 1204 at 2; Q6_K 1349 against 1593 at 2 threads; and TinyLlama
// generation (strata-bench -p 0 -n 64 -t 1,2, two alternating rounds): Q4_K_M 33.6-35.0 t/s
// against 24.7 at 1 thread, Q5_K_M 28.8-30.6 against 20.1-21.7, Q4_0 39.7-43.2 against 34.7-37.3,
// IQ4_XS 31.9-37.3 against 29.9-31.2; Q8_0 (22 against 19), Q2_K and Q3_K_M were faster with T0.
// (With no software prefetch Q6_K's scattered reads within a block took 4x as long.)
constexpr auto kHintL2 = _MM_HINT_T1;
constexpr auto kHintL1 = _MM_HINT_T0;

// Prefetches the `bytes` at p, a 64-byte line at a time, into the cache kHint names.
template <auto kHint> inline void prefetch_bytes(const uint8_t* p, size_t bytes) {
    for (size_t l = 0; l < bytes; l += 64)
        _mm_prefetch(reinterpret_cast<const char*>(p + l), kHint);
}

// The `bytes` of weights that lie kAhead past blk: every x8 kernel's decode prefetches so once
// per group block (the 512-bit pairs, two streams, prefetch their next pair instead).
template <auto kHint> inline void prefetch_ahead(const uint8_t* blk, size_t bytes) {
    prefetch_bytes<kHint>(blk + kAhead, bytes);
}

inline __m256i bcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

// A token's int32 sums with one block split over N independent accumulators (P::kChains): piece c
// goes to sum c % N; total() adds them (integers: the same result for any N).
template <int N> struct Chains {
    __m256i s[N];
    Chains() {
        for (int h = 0; h < N; h++) s[h] = _mm256_setzero_si256();
    }
    __m256i& operator[](int c) { return s[c % N]; }
    __m256i total() const {
        __m256i t = s[0];
        for (int h = 1; h < N; h++) t = _mm256_add_epi32(t, s[h]);
        return t;
    }
};

// Runs a kernel over n_tokens activation rows of `Block`s: passes of kT tokens, then what is
// left in passes of kT/2, kT/4, ... tokens (a batched decode of 2-7 sequences shares each
// unpacked block too, instead of one pass per token). pass.template operator()<T>(y, s, o) computes
// T tokens, whose activation rows are y[0..T), their rows of n_blocks block sums s[0..T) (Q8_0:
// bsums as DotX8Fn takes them; null without, as Q8_K rows carry their own) and their outputs
// o[0..T).
template <class Block, int kT, class Pass>
void by_tokens(const void* act, size_t act_stride, const int32_t* bsums, int n_blocks, int n_tokens,
               float* out, size_t out_stride, const Pass& pass) {
    const auto* ab = static_cast<const uint8_t*>(act);
    const Block* y[kT];
    const int32_t* s[kT];
    float* o[kT];
    auto run = [&]<int T>(int t) {
        for (int u = 0; u < T; u++) {
            y[u] = reinterpret_cast<const Block*>(ab + size_t(t + u) * act_stride);
            s[u] = bsums ? bsums + size_t(t + u) * size_t(n_blocks) : nullptr;
            o[u] = out + size_t(t + u) * out_stride;
        }
        pass.template operator()<T>(y, s, o);
    };
    int t = 0;
    for (; t + kT <= n_tokens; t += kT) run.template operator()<kT>(t);
    if constexpr (kT > 1) {
        constexpr int kHalf = kT / 2; // the rest, fewer than kT: one pass of each size it needs
        by_tokens<Block, kHalf>(ab + size_t(t) * act_stride, act_stride,
                                bsums ? bsums + size_t(t) * size_t(n_blocks) : nullptr, n_blocks,
                                n_tokens - t, out + size_t(t) * out_stride, out_stride, pass);
    }
}

// ---- Q8_0 x Q8_0 ----------------------------------------------------------------------------
// A group block: d[8], then the 8 rows' signed quants in 4-byte pieces (piece c, values
// 4c..4c+3, of row k at 16 + 32c + 4k). Each piece is prepared once (P::s8) for every token of the
// pass, then each token's 4 matching bytes, broadcast, add its products to that token's int32 sums.
constexpr size_t kGroupBlock8 = 8 * sizeof(BlockQ8_0);

template <class P, int T>
void groups_q8(int nb, const uint8_t* w, size_t group_bytes, int n_groups,
               const BlockQ8_0* const* y, const int32_t* const* bsum, float* const* out) {
    for (int g = 0; g < n_groups; g++) {
        const uint8_t* group = w + size_t(g) * group_bytes;
        __m256 acc[T];
        for (int u = 0; u < T; u++) acc[u] = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t* blk = group + size_t(b) * kGroupBlock8;
            if (T < 4) // (decode and a small batched decode stream their rows from memory)
                prefetch_ahead<kHintL1>(blk, kGroupBlock8);
            Chains<P::kChains> sum[T];
            for (int c = 0; c < 8; c++) {
                const typename P::S8 q =
                    P::s8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16 + 32 * c)));
                for (int u = 0; u < T; u++)
                    sum[u][c] = P::add_s8(sum[u][c], q, bcast4(y[u][b].qs + 4 * c));
            }
            const __m256 dw =
                _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
            for (int u = 0; u < T; u++) {
                __m256i si = sum[u].total();
                if constexpr (P::kS8Bias)
                    si = _mm256_sub_epi32(si, _mm256_slli_epi32(_mm256_set1_epi32(bsum[u][b]), 7));
                const __m256 dy = _mm256_cvtph_ps(_mm_set1_epi16(short(y[u][b].d)));
                acc[u] = _mm256_fmadd_ps(_mm256_mul_ps(dw, dy), _mm256_cvtepi32_ps(si), acc[u]);
            }
        }
        for (int u = 0; u < T; u++) _mm256_storeu_ps(out[u] + 8 * g, acc[u]);
    }
}

template <class P>
void dot_q8_0(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
              size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
              size_t out_stride) {
    const int nb = n / QK8_0;
    const auto* wb = static_cast<const uint8_t*>(w);
    // 8 tokens per pass: each prepared piece serves all 8 (226 GOP/s on 32000x2048 against 191
    // for 6, 188 for 4, 220 for 12)
    by_tokens<BlockQ8_0, 8>(
        act, act_stride, bsums, nb, n_tokens, out, out_stride,
        [&]<int T>(const BlockQ8_0* const* y, const int32_t* const* s, float* const* o) {
            groups_q8<P, T>(nb, wb, group_bytes, n_groups, y, s, o);
        });
}

// ---- Q4_K and Q5_K x Q8_K: one skeleton over the fifth bit ----------------------------------
// A group block: d[8], dmin[8], the 12 scale bytes of the 8 rows byte-interleaved (byte j of row
// k at 32 + 8j + k), [Q5_K: qh in 4-byte pieces at 128 + 32c + 4k], then qs in 4-byte pieces
// (piece c of row k at Ty::kQs + 32c + 4k). Sub-block s (32 values) of the 8 rows is qs pieces
// 8(s/2)..8(s/2)+7, low nibbles for even s, high for odd; Q5_K's fifth bit of those values is
// bit s of qh pieces 0..7 (one qh piece serves the 4 qs pieces 8p + i). Runs of a sub-block's
// pieces go into one Acc, scaled by each row's 6-bit scale. The 8 rows' scales and mins are
// unpacked with 3 loads; the mins term is an 8 x 8 VPMADDWD product of the rows' mins with the
// Q8_K sub-block sums. A type Ty gives:
//   kBlock    the group block's bytes
//   kQs       qs's offset in it
//   kQh       Q5_K: qh's offset in it; -1 for none (Q4_K)
// and P gives kQ5Run, the 5-bit pieces an Acc may take (kRun below; 4-bit: all 8).
struct Q4_K {
    static constexpr size_t kBlock = 8 * sizeof(BlockQ4_K), kQs = 128;
    static constexpr int kQh = -1;
};
struct Q5_K {
    static constexpr size_t kBlock = 8 * sizeof(BlockQ5_K), kQs = 384;
    static constexpr int kQh = 128;
};
constexpr size_t kGroupBlockK = Q4_K::kBlock; // (the AMX packer reads Q4_K's)

// The 8 rows' 6-bit scales and mins of a block, as q4_k_scale_min, in registers: sc[q] byte
// 8j + k is row k's scale of sub-block 2q + j (j < 2), mn[q] its min. (Kept in registers: stored
// in 32 bytes and read back 8 at a time, the loads waited on the stores.)
struct ScalesMins8 {
    __m128i sc[4], mn[4];
};
inline ScalesMins8 scales_mins8(const uint8_t* p) {
    const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));      // bytes 0..3
    const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)); // 4..7
    const __m256i l2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 64)); // 8..11
    const __m256i m63 = _mm256_set1_epi8(63), m15 = _mm256_set1_epi8(15);
    const __m256i top2 = _mm256_set1_epi8(char(0xC0));
    // (x & 0xC0) >> 2 moves bits 6-7 to 4-5; the 16-bit shift brings in only zero bits
    const __m256i sc_hi = _mm256_srli_epi16(_mm256_and_si256(l0, top2), 2);
    const __m256i mn_hi = _mm256_srli_epi16(_mm256_and_si256(l1, top2), 2);
    const __m256i sc03 = _mm256_and_si256(l0, m63), mn03 = _mm256_and_si256(l1, m63);
    const __m256i sc47 = _mm256_or_si256(_mm256_and_si256(l2, m15), sc_hi);
    const __m256i mn47 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l2, 4), m15), mn_hi);
    return {{_mm256_castsi256_si128(sc03), _mm256_extracti128_si256(sc03, 1),
             _mm256_castsi256_si128(sc47), _mm256_extracti128_si256(sc47, 1)},
            {_mm256_castsi256_si128(mn03), _mm256_extracti128_si256(mn03, 1),
             _mm256_castsi256_si128(mn47), _mm256_extracti128_si256(mn47, 1)}};
}
// The same in memory: sc[8s + k] and mn[8s + k], row k's scale and min of sub-block s.
inline void scales_mins8(const uint8_t* p, uint8_t* sc, uint8_t* mn) {
    const ScalesMins8 r = scales_mins8(p);
    for (int q = 0; q < 4; q++) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(sc + 16 * q), r.sc[q]);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(mn + 16 * q), r.mn[q]);
    }
}

// Q5_K: the fifth bits of qs piece 8p + i's low and high nibbles, bits 2p and 2p + 1 of each
// byte of qh piece i, ORed into them as 0x10. h is that qh piece shifted right by 2p in 16-bit
// lanes (a byte's bits 2p, 2p + 1 come from the byte itself: 2p + 1 < 8).
inline void add_fifth_bits(__m256i h, __m256i& lo, __m256i& hi) {
    const __m256i m16 = _mm256_set1_epi8(0x10);
    lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(h, 4), m16));
    hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(h, 3), m16));
}

template <class P, class Ty, int T>
void groups_k(int nb, const uint8_t* w, size_t group_bytes, int n_groups, const BlockQ8_K* const* y,
              float* const* out) {
    constexpr bool kFifth = Ty::kQh >= 0;
    constexpr int kRun = kFifth ? P::kQ5Run : 8; // pieces per Acc
    // Q4_K with P::kHigh16: the high nibbles go into the products in place (16 x their value,
    // one VPAND instead of a shift and a VPAND) and the scaled sums come back >> 4, exactly
    constexpr bool kHigh16 = !kFifth && P::kHigh16;
    const __m256i m4 = _mm256_set1_epi8(15);
    for (int g = 0; g < n_groups; g++) {
        const uint8_t* group = w + size_t(g) * group_bytes;
        __m256 acc[T];
        for (int u = 0; u < T; u++) acc[u] = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t* blk = group + size_t(b) * Ty::kBlock;
            if (T < 4) prefetch_ahead<kHintL2>(blk, Ty::kBlock);
            const ScalesMins8 sm = scales_mins8(blk + 32);
            __m256i sumi[T];
            for (int u = 0; u < T; u++) sumi[u] = _mm256_setzero_si256();
            for (int p = 0; p < 4; p++) {
                const uint8_t* qs = blk + Ty::kQs + 256 * p;
                const __m128i shift = _mm_cvtsi32_si128(2 * p);
                for (int i0 = 0; i0 < 8; i0 += kRun) {
                    typename P::Acc lo[T], hi[T];
                    for (int u = 0; u < T; u++) lo[u] = hi[u] = P::zero();
                    for (int i = i0; i < i0 + kRun; i++) {
                        const __m256i v =
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * i));
                        __m256i q_lo = _mm256_and_si256(v, m4);
                        __m256i q_hi = kHigh16 ? _mm256_andnot_si256(m4, v)
                                               : _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
                        if constexpr (kFifth)
                            add_fifth_bits(_mm256_srl_epi16(
                                               _mm256_loadu_si256(reinterpret_cast<const __m256i*>(
                                                   blk + Ty::kQh + 32 * i)),
                                               shift),
                                           q_lo, q_hi);
                        for (int u = 0; u < T; u++) {
                            const int8_t* yq = y[u][b].qs + 64 * p + 4 * i;
                            lo[u] = P::add4(lo[u], q_lo, yq);
                            hi[u] = P::add4(hi[u], q_hi, yq + 32);
                        }
                    }
                    for (int u = 0; u < T; u++) {
                        __m256i h = P::scaled(hi[u], _mm_srli_si128(sm.sc[p], 8));
                        if constexpr (kHigh16) h = _mm256_srai_epi32(h, 4); // exact: 16 x ...
                        sumi[u] = _mm256_add_epi32(sumi[u],
                                                   _mm256_add_epi32(P::scaled(lo[u], sm.sc[p]), h));
                    }
                }
            }
            // mins: lane k = (mn[k][s], mn[k][s+1]) as int16, against (Y[s], Y[s+1])
            __m256i mpair[4];
            for (int q = 0; q < 4; q++)
                mpair[q] =
                    _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(sm.mn[q], _mm_srli_si128(sm.mn[q], 8)));
            const __m256 dv =
                _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
            const __m256 dm =
                _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16)));
            for (int u = 0; u < T; u++) {
                const int16_t* bs = y[u][b].bsums;
                alignas(16) int32_t ys[4]; // (Y[2q], Y[2q+1]) as int16 pairs: Y[s] = bsums 2s, 2s+1
                _mm_store_si128(
                    reinterpret_cast<__m128i*>(ys),
                    _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bs)),
                                   _mm_loadu_si128(reinterpret_cast<const __m128i*>(bs + 8))));
                __m256i summin = _mm256_madd_epi16(mpair[0], _mm256_set1_epi32(ys[0]));
                for (int q = 1; q < 4; q++)
                    summin = _mm256_add_epi32(
                        summin, _mm256_madd_epi16(mpair[q], _mm256_set1_epi32(ys[q])));
                const __m256 t = _mm256_fmsub_ps(dv, _mm256_cvtepi32_ps(sumi[u]),
                                                 _mm256_mul_ps(dm, _mm256_cvtepi32_ps(summin)));
                acc[u] = _mm256_fmadd_ps(_mm256_set1_ps(y[u][b].d), t, acc[u]);
            }
        }
        for (int u = 0; u < T; u++) _mm256_storeu_ps(out[u] + 8 * g, acc[u]);
    }
}

template <class P, class Ty>
void dot_k(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
           size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
           size_t out_stride) {
    const int nb = n / QK_K;
    const auto* wb = static_cast<const uint8_t*>(w);
    // 2 tokens per pass in prefill: 2 x (lo, hi, sum) stay in registers
    by_tokens<BlockQ8_K, 2>(
        act, act_stride, nullptr, nb, n_tokens, out, out_stride,
        [&]<int T>(const BlockQ8_K* const* y, const int32_t* const*, float* const* o) {
            groups_k<P, Ty, T>(nb, wb, group_bytes, n_groups, y, o);
        });
}

// ---- Q6_K x Q8_K ----------------------------------------------------------------------------
// A group block: ql in 4-byte pieces (piece c of row k at 32c + 4k), qh likewise at 1024, the
// signed scale bytes of the 8 rows at 1536 + 8j + k, d[8] at 1664. For each half h and l < 32,
// value l of the half's 4 quarters is ql[64h + l] & 15, ql[64h + 32 + l] & 15, ql[64h + l] >> 4,
// ql[64h + 32 + l] >> 4, each with 2 high bits from qh[32h + l] (bits 0-1, 2-3, 4-5, 6-7), minus
// 32; sub-block j (16 values) has scale j. The 6-bit values go unsigned into the products and the
// -32 comes out once per block as 32 x (the rows' scales . the Q8_K 16-value sums).
constexpr size_t kGroupBlock6 = 8 * sizeof(BlockQ6_K);

// Quarter k of piece i in half h of a group block (pieces 16h + i of ql at 0 and 16h + 8 + i,
// qh piece 8h + i at 1024): the 8 rows' 4 values of each, unsigned 6-bit, in 32 bytes.
inline void unpack_q6(const uint8_t* blk, int h, int i, __m256i q[4]) {
    const __m256i m4 = _mm256_set1_epi8(15), m30 = _mm256_set1_epi8(0x30);
    const __m256i A = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 32 * (16 * h + i)));
    const __m256i B =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 32 * (16 * h + 8 + i)));
    const __m256i H =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 1024 + 32 * (8 * h + i)));
    q[0] = _mm256_or_si256(_mm256_and_si256(A, m4), _mm256_and_si256(_mm256_slli_epi16(H, 4), m30));
    q[1] = _mm256_or_si256(_mm256_and_si256(B, m4), _mm256_and_si256(_mm256_slli_epi16(H, 2), m30));
    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(A, 4), m4), _mm256_and_si256(H, m30));
    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(B, 4), m4),
                           _mm256_and_si256(_mm256_srli_epi16(H, 2), m30));
}

// One token's products with one group block, int32 per row: quants(h, i, q) gives the block's
// unpacked quarters (straight from the weights, or from a buffer unpacked once for many tokens;
// the same integer sums either way). scv: each sub-block's scales as P::scales_i8 makes them.
// (Two tokens per pass over the buffer measured slower: 175 against 185 GOP/s.)
template <class P, class Quants>
inline __m256i block_q6(const Quants& quants, const BlockQ8_K& y, const uint8_t* sc,
                        const __m256i* scv) {
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; h++) {
        const int8_t* q8 = y.qs + 128 * h;
        for (int is = 0; is < 2; is++) { // values 16is..16is+15 of each quarter
            typename P::Acc a[4] = {P::zero(), P::zero(), P::zero(), P::zero()};
            for (int j = 0; j < 4; j++) {
                const int i = 4 * is + j; // piece: values 4i..4i+3 of each quarter
                __m256i q[4];
                quants(h, i, q);
                for (int k = 0; k < 4; k++) a[k] = P::add(a[k], q[k], bcast4(q8 + 32 * k + 4 * i));
                if ((j + 1) % P::kQ6Run == 0)
                    for (int k = 0; k < 4; k++) { // quarter k: sub-block 8h + 2k + is
                        sumi = _mm256_add_epi32(sumi, P::mul_scale(a[k], scv[8 * h + 2 * k + is]));
                        a[k] = P::zero();
                    }
            }
        }
    }
    // the -32: lane k = (sc[k][j], sc[k][j+1]) against the Q8_K sums (bsums j, j+1)
    __m256i corr = _mm256_setzero_si256();
    for (int j = 0; j < 16; j += 2) {
        const __m256i sp = _mm256_cvtepi8_epi16(
            _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + 8 * j)),
                              _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + 8 * j + 8))));
        int32_t pair;
        std::memcpy(&pair, y.bsums + j, 4);
        corr = _mm256_add_epi32(corr, _mm256_madd_epi16(sp, _mm256_set1_epi32(pair)));
    }
    return _mm256_sub_epi32(sumi, _mm256_slli_epi32(corr, 5));
}

// T tokens: with T > 1 each block is unpacked once into a 2 KiB buffer (L1) that every token
// reads, instead of once per token — the unpacking was most of the work. A token's result is
// the same for any T.
template <class P, int T>
void groups_q6(int nb, const uint8_t* w, size_t group_bytes, int n_groups,
               const BlockQ8_K* const* y, float* const* out) {
    alignas(32) __m256i buf[T > 1 ? 64 : 1];
    for (int g = 0; g < n_groups; g++) {
        const uint8_t* group = w + size_t(g) * group_bytes;
        __m256 acc[T];
        for (int u = 0; u < T; u++) acc[u] = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t* blk = group + size_t(b) * kGroupBlock6;
            if (T < 4) prefetch_ahead<kHintL2>(blk, kGroupBlock6);
            const uint8_t* sc = blk + 1536;
            __m256i scv[16]; // each sub-block's scales, prepared once per block
            for (int j = 0; j < 16; j++) scv[j] = P::scales_i8(sc + 8 * j);
            const __m256 d =
                _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 1664)));
            if constexpr (T > 1)
                for (int h = 0; h < 2; h++)
                    for (int i = 0; i < 8; i++) unpack_q6(blk, h, i, buf + 4 * (8 * h + i));
            for (int u = 0; u < T; u++) {
                __m256i sumi;
                if constexpr (T > 1)
                    sumi = block_q6<P>(
                        [&](int h, int i, __m256i* q) {
                            for (int k = 0; k < 4; k++) q[k] = buf[4 * (8 * h + i) + k];
                        },
                        y[u][b], sc, scv);
                else
                    sumi = block_q6<P>([&](int h, int i, __m256i* q) { unpack_q6(blk, h, i, q); },
                                       y[u][b], sc, scv);
                acc[u] = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(y[u][b].d)),
                                         _mm256_cvtepi32_ps(sumi), acc[u]);
            }
        }
        for (int u = 0; u < T; u++) _mm256_storeu_ps(out[u] + 8 * g, acc[u]);
    }
}

template <class P>
void dot_q6_k(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
              size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
              size_t out_stride) {
    const int nb = n / QK_K;
    const auto* wb = static_cast<const uint8_t*>(w);
    // 8 tokens per unpacked block
    by_tokens<BlockQ8_K, 8>(
        act, act_stride, nullptr, nb, n_tokens, out, out_stride,
        [&]<int T>(const BlockQ8_K* const* y, const int32_t* const*, float* const* o) {
            groups_q6<P, T>(nb, wb, group_bytes, n_groups, y, o);
        });
}

// ---- IQ4_NL x Q8_0 --------------------------------------------------------------------------
// A group block is Q4_0's (d[8], then piece c of row k at 16 + 32c + 4k, low nibbles values
// 4c..4c+3, high nibbles 16+4c..16+4c+3); each nibble indexes the 16 signed levels kIq4nlValues
// (VPSHUFB). The looked-up pieces are signed bytes up to 127 in magnitude, so they take the
// Q8_0 path's products: P::s8 once per piece for every token of the pass (kS8Bias: +128, the
// 128 x the token's block sum taken out once per block).
inline __m256i iq4nl_lut() {
    return _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
}

// One 32-value block of the 8 rows (qs pieces 0..3 from qs, IQ4_NL's nibble order) looked up,
// its products with T tokens' 32 activation bytes yq[u] added to sum[u] (int32 per row, its 8
// products spread over the chains).
template <class P, int T>
inline void iq4_block(const uint8_t* qs, __m256i lut, const int8_t* const* yq,
                      Chains<P::kChains>* sum) {
    const __m256i m4 = _mm256_set1_epi8(15);
    for (int c = 0; c < 4; c++) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
        const typename P::S8 lo = P::s8(_mm256_shuffle_epi8(lut, _mm256_and_si256(v, m4)));
        const typename P::S8 hi =
            P::s8(_mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(v, 4), m4)));
        for (int u = 0; u < T; u++) {
            sum[u][2 * c] = P::add_s8(sum[u][2 * c], lo, bcast4(yq[u] + 4 * c));
            sum[u][2 * c + 1] = P::add_s8(sum[u][2 * c + 1], hi, bcast4(yq[u] + 16 + 4 * c));
        }
    }
}

template <class P, int T>
void groups_iq4_nl(int nb, const uint8_t* w, size_t group_bytes, int n_groups,
                   const BlockQ8_0* const* y, const int32_t* const* bsum, float* const* out) {
    const __m256i lut = iq4nl_lut();
    for (int g = 0; g < n_groups; g++) {
        const uint8_t* group = w + size_t(g) * group_bytes;
        __m256 acc[T];
        for (int u = 0; u < T; u++) acc[u] = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t* blk = group + size_t(b) * kGroupBlock;
            if (T < 4) prefetch_ahead<kHintL1>(blk, kGroupBlock);
            Chains<P::kChains> sum[T];
            const int8_t* yq[T];
            for (int u = 0; u < T; u++) yq[u] = y[u][b].qs;
            iq4_block<P, T>(blk + 16, lut, yq, sum);
            const __m256 dw =
                _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
            for (int u = 0; u < T; u++) {
                __m256i si = sum[u].total();
                if constexpr (P::kS8Bias)
                    si = _mm256_sub_epi32(si, _mm256_slli_epi32(_mm256_set1_epi32(bsum[u][b]), 7));
                const __m256 dy = _mm256_cvtph_ps(_mm_set1_epi16(short(y[u][b].d)));
                acc[u] = _mm256_fmadd_ps(_mm256_mul_ps(dw, dy), _mm256_cvtepi32_ps(si), acc[u]);
            }
        }
        for (int u = 0; u < T; u++) _mm256_storeu_ps(out[u] + 8 * g, acc[u]);
    }
}

template <class P>
void dot_iq4_nl(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                size_t out_stride) {
    const int nb = n / QK4_NL;
    const auto* wb = static_cast<const uint8_t*>(w);
    // 8 tokens per pass, as Q8_0: each looked-up piece serves all 8
    by_tokens<BlockQ8_0, 8>(
        act, act_stride, bsums, nb, n_tokens, out, out_stride,
        [&]<int T>(const BlockQ8_0* const* y, const int32_t* const* s, float* const* o) {
            groups_iq4_nl<P, T>(nb, wb, group_bytes, n_groups, y, s, o);
        });
}

// ---- IQ4_XS x Q8_K ---------------------------------------------------------------------------
// A group block: d[8], scales_h[8] (f16 and u16 pieces of 2), scales_l (row k's 4 bytes at 32 +
// 4k), then qs pieces at 64 + 32c + 4k: sub-block s (32 values) is pieces 4s..4s+3, an IQ4_NL
// block's qs (iq4_block). Each sub-block's int32 sums are multiplied by the 8 rows' signed 6-bit
// scales (VPMULLD), unpacked once per block; VNNI's +128 bias comes out per sub-block as 128 x
// its Q8_K sum (bsums 2s, 2s + 1).
constexpr size_t kGroupBlockXS = 8 * sizeof(BlockIQ4_XS);

// The 8 rows' scales of sub-blocks 0..7, int32 lanes: (4 bits at 4s of scales_l's word) | (2 bits
// at 2s of scales_h) << 4, less 32 (iq4_xs_scale).
inline void iq4_xs_scales8(const uint8_t* blk, __m256i sc[8]) {
    __m256i l = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 32));
    __m256i h = _mm256_slli_epi32(
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16))), 4);
    const __m256i m15 = _mm256_set1_epi32(15), m48 = _mm256_set1_epi32(48);
    for (int s = 0; s < 8; s++) {
        sc[s] =
            _mm256_sub_epi32(_mm256_or_si256(_mm256_and_si256(l, m15), _mm256_and_si256(h, m48)),
                             _mm256_set1_epi32(32));
        l = _mm256_srli_epi32(l, 4);
        h = _mm256_srli_epi32(h, 2);
    }
}

template <class P, int T>
void groups_iq4_xs(int nb, const uint8_t* w, size_t group_bytes, int n_groups,
                   const BlockQ8_K* const* y, float* const* out) {
    const __m256i lut = iq4nl_lut();
    for (int g = 0; g < n_groups; g++) {
        const uint8_t* group = w + size_t(g) * group_bytes;
        __m256 acc[T];
        for (int u = 0; u < T; u++) acc[u] = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t* blk = group + size_t(b) * kGroupBlockXS;
            if (T < 4) // (decode and a small batched decode stream their rows from memory)
                prefetch_ahead<kHintL2>(blk, kGroupBlockXS);
            __m256i sc[8];
            iq4_xs_scales8(blk, sc);
            __m256i sumi[T];
            for (int u = 0; u < T; u++) sumi[u] = _mm256_setzero_si256();
            for (int s = 0; s < 8; s++) {
                Chains<P::kChains> sum[T];
                const int8_t* yq[T];
                for (int u = 0; u < T; u++) yq[u] = y[u][b].qs + 32 * s;
                iq4_block<P, T>(blk + 64 + 128 * s, lut, yq, sum);
                for (int u = 0; u < T; u++) {
                    __m256i si = sum[u].total();
                    if constexpr (P::kS8Bias)
                        si = _mm256_sub_epi32(
                            si, _mm256_set1_epi32(
                                    (y[u][b].bsums[2 * s] + y[u][b].bsums[2 * s + 1]) * 128));
                    sumi[u] = _mm256_add_epi32(sumi[u], _mm256_mullo_epi32(si, sc[s]));
                }
            }
            const __m256 dw =
                _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
            for (int u = 0; u < T; u++)
                acc[u] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(y[u][b].d)),
                                         _mm256_cvtepi32_ps(sumi[u]), acc[u]);
        }
        for (int u = 0; u < T; u++) _mm256_storeu_ps(out[u] + 8 * g, acc[u]);
    }
}

template <class P>
void dot_iq4_xs(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                size_t out_stride) {
    const int nb = n / QK_K;
    const auto* wb = static_cast<const uint8_t*>(w);
    // 4 tokens per pass: each looked-up piece serves all 4
    by_tokens<BlockQ8_K, 4>(
        act, act_stride, nullptr, nb, n_tokens, out, out_stride,
        [&]<int T>(const BlockQ8_K* const* y, const int32_t* const*, float* const* o) {
            groups_iq4_xs<P, T>(nb, wb, group_bytes, n_groups, y, o);
        });
}

// ---- Q4_0, Q4_1, Q5_0, Q5_1 x Q8_0: one skeleton over the type ----------------------------------
// Each of these group blocks unpacks to 8 pieces of unsigned levels: q[2c] values 4c..4c+3 of the
// 8 rows (the low nibbles of qs piece c), q[2c+1] values 16+4c..16+4c+3 (the high nibbles), Q5's
// given their fifth bit as 0x10. Each token's products go into Accs of Ty::kRun pieces, widened
// and summed in int32; a level offset comes out once per block as the token's block sum << kShift,
// a minimum (x = d q + m) adds m dy x the block sum. A type Ty gives:
//   kBlock         the group block's bytes
//   unpack(blk, q) the 8 unpacked pieces
//   kRun           pieces per Acc: AVX2's int16 sums take 8 x 2 x 15 x 128 (nibbles) < 2^15, but
//                  only 4 of 5-bit levels (4 x 2 x 31 x 128)
//   kShift         value = level - (1 << kShift) (Q4_0: 3, Q5_0: 4); 0: the levels as they are
//   kMin           the 8 rows' f16 minimums follow the scales (at 16)

// qs pieces 0..3 (32 bytes apart from qs) as q[0..7]
inline void unpack_nibbles(const uint8_t* qs, __m256i q[8]) {
    const __m256i m4 = _mm256_set1_epi8(15);
    for (int c = 0; c < 4; c++) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
        q[2 * c] = _mm256_and_si256(v, m4);
        q[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    }
}

// The fifth bits of values j0..j0+3 (j0 a multiple of 4) of each row: byte i of lane k gets
// bit j0 + i of lane k's word in h, as 0x10.
template <int j0> inline __m256i fifth_bits_x8(__m256i h) {
    constexpr char b = char(j0 / 8); // the word's byte holding the 4 bits, copied to each byte
    const __m256i spread = _mm256_shuffle_epi8(
        h, _mm256_setr_epi8(b, b, b, b, b + 4, b + 4, b + 4, b + 4, b + 8, b + 8, b + 8, b + 8,
                            b + 12, b + 12, b + 12, b + 12, b, b, b, b, b + 4, b + 4, b + 4, b + 4,
                            b + 8, b + 8, b + 8, b + 8, b + 12, b + 12, b + 12, b + 12));
    const __m256i bit = _mm256_set1_epi32(int(0x08040201u << (j0 % 8)));
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit),
                            _mm256_set1_epi8(0x10));
}

// Q5's levels 0..31: the nibbles of qs with the fifth bits of the 8 rows' 32-bit words at qh
// (row k's at qh + 4k: one 32-byte load puts it in lane k)
inline void unpack_q5(const uint8_t* qh, const uint8_t* qs, __m256i q[8]) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh));
    const __m256i f[8] = {fifth_bits_x8<0>(h),  fifth_bits_x8<16>(h), fifth_bits_x8<4>(h),
                          fifth_bits_x8<20>(h), fifth_bits_x8<8>(h),  fifth_bits_x8<24>(h),
                          fifth_bits_x8<12>(h), fifth_bits_x8<28>(h)};
    unpack_nibbles(qs, q);
    for (int c = 0; c < 8; c++) q[c] = _mm256_or_si256(q[c], f[c]);
}

struct Q4_0 { // d[8], qs at 16
    static constexpr size_t kBlock = 8 * sizeof(BlockQ4_0);
    static constexpr int kRun = 8, kShift = 3;
    static constexpr bool kMin = false;
    static void unpack(const uint8_t* blk, __m256i q[8]) { unpack_nibbles(blk + 16, q); }
};
struct Q4_1 { // d[8], m[8], qs at 32
    static constexpr size_t kBlock = 8 * sizeof(BlockQ4_1);
    static constexpr int kRun = 8, kShift = 0;
    static constexpr bool kMin = true;
    static void unpack(const uint8_t* blk, __m256i q[8]) { unpack_nibbles(blk + 32, q); }
};
struct Q5_0 { // d[8], qh at 16, qs at 48
    static constexpr size_t kBlock = 8 * sizeof(BlockQ5_0);
    static constexpr int kRun = 4, kShift = 4;
    static constexpr bool kMin = false;
    static void unpack(const uint8_t* blk, __m256i q[8]) { unpack_q5(blk + 16, blk + 48, q); }
};
struct Q5_1 { // d[8], m[8], qh at 32, qs at 64
    static constexpr size_t kBlock = 8 * sizeof(BlockQ5_1);
    static constexpr int kRun = 4, kShift = 0;
    static constexpr bool kMin = true;
    static void unpack(const uint8_t* blk, __m256i q[8]) { unpack_q5(blk + 32, blk + 64, q); }
};

// One token's int32 sums with a block's unpacked pieces q[0..8), before the offset comes out, in
// any register width: V is P (zero, add, widen) with, for its vectors Vec, add_i32(a, b) and
// bcast(p) (4 bytes at p in every 32-bit lane): Levels256<P> here, dot_x8_vnni.cpp's 16-row pairs.
// The pieces go into N = max(V::kChains, 8 / kRun) Accs, piece c into Acc c % N (q[c]: piece c/2,
// high nibbles for odd c), each widened and summed.
template <class Ty, class V>
inline typename V::Vec level_sums(const typename V::Vec* q, const int8_t* yq) {
    constexpr int N = V::kChains > 8 / Ty::kRun ? V::kChains : 8 / Ty::kRun;
    typename V::Acc a[N];
    for (int h = 0; h < N; h++) a[h] = V::zero();
    for (int c = 0; c < 8; c++)
        a[c % N] = V::add(a[c % N], q[c], V::bcast(yq + 4 * (c / 2) + 16 * (c % 2)));
    typename V::Vec sum = V::widen(a[0]);
    for (int h = 1; h < N; h++) sum = V::add_i32(sum, V::widen(a[h]));
    return sum;
}

template <class P> struct Levels256 : P {
    using Vec = __m256i;
    static __m256i add_i32(__m256i a, __m256i b) { return _mm256_add_epi32(a, b); }
    static __m256i bcast(const int8_t* p) { return bcast4(p); }
};

// T tokens at once: each group's unpacked levels serve all T.
template <class P, class Ty, int T>
void groups_levels(int nb, const uint8_t* w, size_t group_bytes, int n_groups,
                   const BlockQ8_0* const* y, const int32_t* const* bsum, float* const* out) {
    for (int g = 0; g < n_groups; g++) {
        const uint8_t* group = w + size_t(g) * group_bytes;
        __m256 acc[T];
        for (int u = 0; u < T; u++) acc[u] = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t* blk = group + size_t(b) * Ty::kBlock;
            // (T > 1 too: a batched decode's pass streams its chunk of rows from memory once,
            // and the rows that follow, the thread's next chunk, are as far ahead)
            prefetch_ahead<kHintL2>(blk, Ty::kBlock);
            __m256i q[8];
            Ty::unpack(blk, q);
            const __m256 dw =
                _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
            __m256 dm = _mm256_setzero_ps();
            if constexpr (Ty::kMin)
                dm = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16)));
            for (int u = 0; u < T; u++) { // one token at a time: q[] and acc[] stay in registers
                __m256i sum = level_sums<Ty, Levels256<P>>(q, y[u][b].qs);
                // (broadcasts from memory, then shift / convert: fewer uops than scalar work)
                if constexpr (Ty::kShift > 0)
                    sum = _mm256_sub_epi32(
                        sum, _mm256_slli_epi32(_mm256_set1_epi32(bsum[u][b]), Ty::kShift));
                const __m256 dy = _mm256_cvtph_ps(_mm_set1_epi16(short(y[u][b].d)));
                acc[u] = _mm256_fmadd_ps(_mm256_mul_ps(dw, dy), _mm256_cvtepi32_ps(sum), acc[u]);
                if constexpr (Ty::kMin)
                    acc[u] = _mm256_fmadd_ps(_mm256_mul_ps(dm, dy),
                                             _mm256_set1_ps(float(bsum[u][b])), acc[u]);
            }
        }
        for (int u = 0; u < T; u++) _mm256_storeu_ps(out[u] + 8 * g, acc[u]);
    }
}

template <class P, class Ty>
void dot_levels(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                size_t out_stride) {
    const int nb = n / QK8_0;
    const auto* wb = static_cast<const uint8_t*>(w);
    // 4 tokens per pass: each group's unpacked levels serve all 4
    by_tokens<BlockQ8_0, 4>(
        act, act_stride, bsums, nb, n_tokens, out, out_stride,
        [&]<int T>(const BlockQ8_0* const* y, const int32_t* const* s, float* const* o) {
            groups_levels<P, Ty, T>(nb, wb, group_bytes, n_groups, y, s, o);
        });
}

} // namespace x8
} // namespace
} // namespace strata
