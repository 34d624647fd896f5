// Interleave8 Q2_K and Q3_K against Q8_K activations, AVX-512 VNNI (the avx512_vnni kernel row
// only, with its flags): one token's groups through the 256-bit x8::groups_lowbit
// (ops/x86/dot_x8_lowbit_impl.h) where a group has no partner, 1-2 tokens in pairs of groups
// straight from the weights (pair_lowbit_few), 4 and 8 from a pair unpacked once (pair_lowbit).
#include "ops/x86/dot_x8_lowbit_impl.h"
#include "ops/x86/dot_x8_vnni_impl.h"
#include "ops/x86/x86_shared.h"

#include <type_traits>

namespace strata {
namespace {

// Q2_K, Q3_K: x8::groups_lowbit 16 rows wide for T > 1 tokens, each group's block unpacked by the
// 256-bit code and the pair joined once into a 4 KiB buffer that the tokens read, 4 at a time; a
// row's arithmetic is the 256-bit kernel's lane for lane.
template <class Ty, int T>
void pair_lowbit(int nb, const uint8_t* g0, const uint8_t* g1, const BlockQ8_K* const* y,
                 float* const* out) {
    static_assert(T > 1, "one token runs the 256-bit groups (by_pairs)");
    constexpr bool kQ3 = std::is_same_v<Ty, x8::Q3K>;
    alignas(64) __m512i buf[64];
    alignas(32) int8_t sc0[128], sc1[128];
    auto join = [](__m256i lo, __m256i hi) {
        return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    };
    __m512 acc[T];
    for (int u = 0; u < T; u++) acc[u] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t* b0 = g0 + size_t(b) * Ty::kBlock;
        const uint8_t* b1 = g1 + size_t(b) * Ty::kBlock;
        __m256i p0[8], p1[8];
        Ty::scales(b0, sc0, p0);
        Ty::scales(b1, sc1, p1);
        __m512i pairs[8], scv[16];
        for (int i = 0; i < 8; i++) pairs[i] = join(p0[i], p1[i]);
        for (int s = 0; s < 16; s++)
            scv[s] = _mm512_cvtepi8_epi32(
                _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc0 + 8 * s)),
                                   _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc1 + 8 * s))));
        for (int c = 0; c < 16; c++) {
            __m256i q0[4], q1[4];
            if (c < 8) {
                Ty::template unpack<0>(b0, c, q0);
                Ty::template unpack<0>(b1, c, q1);
            } else {
                Ty::template unpack<1>(b0, c - 8, q0);
                Ty::template unpack<1>(b1, c - 8, q1);
            }
            for (int j = 0; j < 4; j++) buf[4 * c + j] = join(q0[j], q1[j]);
        }
        const size_t dof = kQ3 ? 864 : 640;
        const __m512 d = scales_pair(b0 + dof, b1 + dof);
        // kNT tokens per read of the buffer (one token per read was bound by the loads, as
        // Q6_K's pairs were: dot_x8_vnni.cpp)
        constexpr int kNT = T % 4 == 0 ? 4 : T % 2 == 0 ? 2 : 1;
        for (int u0 = 0; u0 < T; u0 += kNT) {
            __m512i sumi[kNT];
            for (int v = 0; v < kNT; v++) sumi[v] = _mm512_setzero_si512();
            for (int n = 0; n < 2; n++)
                for (int is = 0; is < 2; is++) {
                    __m512i a[kNT][4];
                    for (int v = 0; v < kNT; v++)
                        for (int j = 0; j < 4; j++) a[v][j] = _mm512_setzero_si512();
                    for (int i = 0; i < 4; i++) {
                        const int c = 4 * is + i;
                        for (int j = 0; j < 4; j++) {
                            const __m512i q = _mm512_load_si512(buf + 4 * (8 * n + c) + j);
                            for (int v = 0; v < kNT; v++)
                                a[v][j] = _mm512_dpbusd_epi32(
                                    a[v][j], q,
                                    bcast4_512(y[u0 + v][b].qs + 128 * n + 32 * j + 4 * c));
                        }
                    }
                    for (int v = 0; v < kNT; v++)
                        for (int j = 0; j < 4; j++)
                            sumi[v] = _mm512_add_epi32(
                                sumi[v], _mm512_mullo_epi32(a[v][j], scv[8 * n + 2 * j + is]));
                }
            for (int v = 0; v < kNT; v++) {
                const int u = u0 + v;
                const BlockQ8_K& yb = y[u][b];
                __m512i bs = _mm512_setzero_si512(); // x8::dot_bsums
                for (int s = 0; s < 16; s += 2) {
                    int32_t w;
                    std::memcpy(&w, yb.bsums + s, 4);
                    bs =
                        _mm512_add_epi32(bs, _mm512_madd_epi16(pairs[s / 2], _mm512_set1_epi32(w)));
                }
                if constexpr (kQ3) { // as x8::Q3K::add
                    const __m512i si = _mm512_sub_epi32(sumi[v], _mm512_slli_epi32(bs, 2));
                    acc[u] = _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_set1_ps(yb.d)),
                                             _mm512_cvtepi32_ps(si), acc[u]);
                } else { // as x8::Q2K::add
                    const __m512 dm = scales_pair(b0 + 656, b1 + 656);
                    const __m512 t = _mm512_fmsub_ps(d, _mm512_cvtepi32_ps(sumi[v]),
                                                     _mm512_mul_ps(dm, _mm512_cvtepi32_ps(bs)));
                    acc[u] = _mm512_fmadd_ps(_mm512_set1_ps(yb.d), t, acc[u]);
                }
            }
        }
    }
    for (int u = 0; u < T; u++) store_pair(out[u], acc[u]);
}

// Q2_K and Q3_K for 1 or 2 tokens (decode, a small batched decode): 16 rows per VPDPBUSD straight
// from the weights. The 256-bit groups were bound by their instructions, not by memory (Q2_K: 12
// GB/s per core on the Zen 5 VM, in L2 as from memory). The sums of sub-blocks 2p and 2p + 1 (is 0
// and 1: |sum| <= 4 x 4 x 7 x 128) go into one int16 pair per row, and one VPDPWSSD multiplies
// them by the rows' scale pair, as another the Q8_K block sums by the min pair (Q2_K) or the
// scale pair (Q3_K's -4). Q2_K masks each 2-bit level j of a byte in place (bits 2j, 2j + 1: the
// level x 4^j, exact in int32; the pair step shifts it out); Q3_K unpacks as its 256-bit code,
// 16 rows wide. The integer sums are the 256-bit kernel's and the float steps its steps, so a
// row's result does not depend on the path. The prefetch fills L2 with each stream's block of
// the next pair, 2 groups ahead: into L1 (T0), where 2 x 2 groups of a 5632-column matrix do not
// fit, it was slower than the 256-bit groups; with T1 TinyLlama Q2_K generation went from 42-47
// to 74-77 t/s at 1 thread and 80 to 85-86 at 2 (Zen 5 VM, 2026-12-03; 4 KiB ahead on each
// stream, its own group's rest and then the next pair's, measured the same).
template <class Ty, int T>
void pair_lowbit_few(int nb, const uint8_t* g0, const uint8_t* g1, const BlockQ8_K* const* y,
                     float* const* out) {
    static_assert(T <= 2, "4 and 8 tokens unpack each pair once (pair_lowbit)");
    constexpr bool kQ3 = std::is_same_v<Ty, x8::Q3K>;
    const ptrdiff_t next = 2 * (g1 - g0);
    const __m512i m15 = _mm512_set1_epi16(15), m3 = _mm512_set1_epi8(3);
    __m512 acc[T];
    for (int u = 0; u < T; u++) acc[u] = _mm512_setzero_ps();
    alignas(32) int8_t sc0[128], sc1[128];
    for (int b = 0; b < nb; b++) {
        const uint8_t* b0 = g0 + size_t(b) * Ty::kBlock;
        const uint8_t* b1 = g1 + size_t(b) * Ty::kBlock;
        x8::prefetch_bytes<x8::kHintL2>(b0 + next, Ty::kBlock);
        x8::prefetch_bytes<x8::kHintL2>(b1 + next, Ty::kBlock);
        // lane k: (the value of sub-block 2p, of 2p + 1) as int16: scales, and Q2_K's mins
        __m512i scp[8], mnp[8];
        if constexpr (kQ3) {
            x8::scales_q3(b0 + 768, sc0);
            x8::scales_q3(b1 + 768, sc1);
            for (int p = 0; p < 8; p++)
                scp[p] = _mm512_cvtepi8_epi16(
                    pair_bytes16(reinterpret_cast<const uint8_t*>(sc0 + 16 * p),
                                 reinterpret_cast<const uint8_t*>(sc1 + 16 * p)));
        } else
            for (int p = 0; p < 8; p++) {
                const __m512i v = _mm512_cvtepu8_epi16(pair_bytes16(b0 + 16 * p, b1 + 16 * p));
                scp[p] = _mm512_and_si512(v, m15);
                mnp[p] = _mm512_srli_epi16(v, 4);
            }
        __m512i sumi[T], bs[T]; // bs: the block sums times the mins (Q2_K) or scales (Q3_K)
        for (int u = 0; u < T; u++) {
            sumi[u] = bs[u] = _mm512_setzero_si512();
            for (int p = 0; p < 8; p++) {
                int32_t v;
                std::memcpy(&v, y[u][b].bsums + 2 * p, 4);
                bs[u] = _mm512_dpwssd_epi32(bs[u], kQ3 ? scp[p] : mnp[p], _mm512_set1_epi32(v));
            }
        }
#pragma GCC unroll 2
        for (int n = 0; n < 2; n++) {
            __m512i a[2][T][4]; // [is][token][j]
#pragma GCC unroll 2
            for (int is = 0; is < 2; is++) {
                for (int u = 0; u < T; u++)
                    for (int j = 0; j < 4; j++) a[is][u][j] = _mm512_setzero_si512();
#pragma GCC unroll 4
                for (int i = 0; i < 4; i++) {
                    const int c = 4 * is + i;
                    __m512i q[4];
                    if constexpr (kQ3) { // x8::unpack_q3, 16 rows
                        const __m512i Q =
                            load_pair(b0 + 256 + 32 * (8 * n + c), b1 + 256 + 32 * (8 * n + c));
                        const __m512i H = load_pair(b0 + 32 * c, b1 + 32 * c);
                        const __m512i four = _mm512_set1_epi8(4);
                        for (int j = 0; j < 4; j++) {
                            const int hb = 4 * n + j; // H's bit, to bit 2
                            const __m512i h = hb < 2    ? _mm512_slli_epi16(H, 2 - hb)
                                              : hb == 2 ? H
                                                        : _mm512_srli_epi16(H, hb - 2);
                            q[j] = _mm512_or_si512(
                                _mm512_and_si512(j ? _mm512_srli_epi16(Q, 2 * j) : Q, m3),
                                _mm512_and_si512(h, four));
                        }
                    } else {
                        const __m512i Q =
                            load_pair(b0 + 128 + 32 * (8 * n + c), b1 + 128 + 32 * (8 * n + c));
                        for (int j = 0; j < 4; j++)
                            q[j] = _mm512_and_si512(Q, _mm512_set1_epi8(char(3 << 2 * j)));
                    }
                    for (int j = 0; j < 4; j++)
                        for (int u = 0; u < T; u++)
                            a[is][u][j] = _mm512_dpbusd_epi32(
                                a[is][u][j], q[j],
                                bcast4_512(y[u][b].qs + 128 * n + 32 * j + 4 * c));
                }
            }
            for (int u = 0; u < T; u++)
                for (int j = 0; j < 4; j++) { // sub-blocks 8n + 2j + is: scale pair 4n + j
                    const int sh = kQ3 ? 0 : 2 * j;
                    const __m512i lo = _mm512_srai_epi32(a[0][u][j], sh);
                    const __m512i hi = _mm512_slli_epi32(a[1][u][j], 16 - sh);
                    const __m512i pr = _mm512_mask_blend_epi16(0xAAAAAAAA, lo, hi);
                    sumi[u] = _mm512_dpwssd_epi32(sumi[u], pr, scp[4 * n + j]);
                }
        }
        if constexpr (kQ3) { // as x8::Q3K::add
            const __m512 d = scales_pair(b0 + 864, b1 + 864);
            for (int u = 0; u < T; u++) {
                const __m512i si = _mm512_sub_epi32(sumi[u], _mm512_slli_epi32(bs[u], 2));
                acc[u] = _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_set1_ps(y[u][b].d)),
                                         _mm512_cvtepi32_ps(si), acc[u]);
            }
        } else { // as x8::Q2K::add
            const __m512 d = scales_pair(b0 + 640, b1 + 640);
            const __m512 dm = scales_pair(b0 + 656, b1 + 656);
            for (int u = 0; u < T; u++) {
                const __m512 t = _mm512_fmsub_ps(d, _mm512_cvtepi32_ps(sumi[u]),
                                                 _mm512_mul_ps(dm, _mm512_cvtepi32_ps(bs[u])));
                acc[u] = _mm512_fmadd_ps(_mm512_set1_ps(y[u][b].d), t, acc[u]);
            }
        }
    }
    for (int u = 0; u < T; u++) store_pair(out[u], acc[u]);
}

template <class Ty>
void dot_lowbit(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                size_t act_stride, int n_tokens, float* out, size_t out_stride) {
    // 8 tokens per unpacked pair; 1 and 2 in pairs too, straight from the weights
    by_pairs<BlockQ8_K, 8, 1>(
        n, QK_K, w, group_bytes, n_groups, act, act_stride, nullptr, n_tokens, out, out_stride,
        []<int T>(int nb, const uint8_t* g0, const uint8_t* g1, const BlockQ8_K* const* y,
                  const int32_t* const*, float* const* o) {
            if constexpr (T <= 2)
                pair_lowbit_few<Ty, T>(nb, g0, g1, y, o);
            else
                pair_lowbit<Ty, T>(nb, g0, g1, y, o);
        },
        [&]<int T>(int nb, const uint8_t* g, int count, const BlockQ8_K* const* y,
                   const int32_t* const*, float* const* o) {
            x8::groups_lowbit<VnniProducts, Ty, T>(nb, g, group_bytes, count, y, o);
        });
}

} // namespace

// Q2_K and Q3_K: pairs of groups for any number of tokens, an odd last group through
// x8::groups_lowbit (ops/x86/dot_x8_lowbit_impl.h)
void dot_x8_q2_k_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                      size_t out_stride) {
    dot_lowbit<x8::Q2K>(n, w, group_bytes, n_groups, act, act_stride, n_tokens, out, out_stride);
}

void dot_x8_q3_k_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                      size_t out_stride) {
    dot_lowbit<x8::Q3K>(n, w, group_bytes, n_groups, act, act_stride, n_tokens, out, out_stride);
}

} // namespace strata
