// Scalar references for Interleave8 matrices (core/interleave.h), one per type with the layout:
// the 32-value types against Q8_0 activations, the 256-value ones against Q8_K. Each row's sum is
// formed in the same order as the row-major reference (dot_q4_0_ref, dot_q8_0_ref, ...), so they
// agree exactly.
#include "core/half.h"
#include "core/quant_blocks.h"
#include "ops/dot_ref.h"

#include <cstring>

namespace strata {

namespace {

// out[t * out_stride + 8g + k] = the float sum, block column by block column in order, of
// block_sum(blk, k, y): blk group g's group block of that column (8 `Block`s' bytes), y token t's
// `Act` block of the same column. The loops (tokens x groups x rows x blocks) every reference
// shares; each gives only its one block's contribution to row k.
template <class Block, class Act, class BlockSum>
void each_block(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                size_t act_stride, int n_tokens, float* out, size_t out_stride,
                const BlockSum& block_sum) {
    constexpr size_t kGroupBlock = 8 * sizeof(Block);
    const int nb = n / int(sizeof(Act::qs)); // (one activation quant per value)
    for (int t = 0; t < n_tokens; t++) {
        const auto* y =
            reinterpret_cast<const Act*>(static_cast<const uint8_t*>(act) + size_t(t) * act_stride);
        for (int g = 0; g < n_groups; g++) {
            const uint8_t* group = static_cast<const uint8_t*>(w) + size_t(g) * group_bytes;
            for (int k = 0; k < 8; k++) {
                float sum = 0;
                for (int b = 0; b < nb; b++)
                    sum += block_sum(group + size_t(b) * kGroupBlock, k, y[b]);
                out[size_t(t) * out_stride + size_t(g) * 8 + size_t(k)] = sum;
            }
        }
    }
}

} // namespace

void block_sums_q8_0(int n, const void* act, size_t act_stride, int n_tokens, int32_t* out) {
    const int nb = n / QK8_0;
    for (int t = 0; t < n_tokens; t++) {
        const auto* y = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(act) +
                                                           size_t(t) * act_stride);
        for (int b = 0; b < nb; b++) {
            int32_t s = 0;
            for (int i = 0; i < QK8_0; i++) s += y[b].qs[i];
            out[size_t(t) * size_t(nb) + size_t(b)] = s;
        }
    }
}

namespace {

// Rows of 32-value blocks against Q8_0 activations: group blocks of `Block`s, the 8 rows' f16
// scales first (then, kMin: their f16 minimums, x = d q + m); isum(block, k, y) is row k's
// integer sum with activation block y.
template <class Block, bool kMin = false, class IntSum>
void x8_q8_act_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                   size_t act_stride, int n_tokens, float* out, size_t out_stride,
                   const IntSum& isum) {
    each_block<Block, BlockQ8_0>(
        n, w, group_bytes, n_groups, act, act_stride, n_tokens, out, out_stride,
        [&](const uint8_t* blk, int k, const BlockQ8_0& y) {
            uint16_t d;
            std::memcpy(&d, blk + 2 * k, 2);
            const float dy = f16_to_f32(y.d);
            if constexpr (kMin) { // (dot_with_min's order: d dy sum(q y) + m dy sum(y))
                uint16_t m;
                std::memcpy(&m, blk + 16 + 2 * k, 2);
                int ysum = 0;
                for (int i = 0; i < QK8_0; i++) ysum += y.qs[i];
                return f16_to_f32(d) * dy * float(isum(blk, k, y)) +
                       f16_to_f32(m) * dy * float(ysum);
            } else {
                return f16_to_f32(d) * dy * float(isum(blk, k, y));
            }
        });
}

// Row k's integer sum (level - kOffset) x y over one group block of the 32-value level types:
// nibbles from qs at kQs (piece c of row k at kQs + 32c + 4k; low nibbles values 0..15, high
// 16..31), with kQh >= 0 the fifth bit j of row k's word at kQh + 4k as 16.
template <int kQs, int kQh, int kOffset>
int level_isum(const uint8_t* blk, int k, const BlockQ8_0& y) {
    int s = 0;
    for (int j = 0; j < QK8_0; j++) {
        const uint8_t q = blk[kQs + (j % 16 / 4) * 32 + 4 * k + j % 4];
        int level = j < 16 ? q & 15 : q >> 4;
        if constexpr (kQh >= 0) level |= ((blk[kQh + 4 * k + j / 8] >> (j % 8)) & 1) << 4;
        s += (level - kOffset) * y.qs[j];
    }
    return s;
}

} // namespace

#define STRATA_X8_LEVELS_REF(name, Block, kMin, kQs, kQh, kOffset)                                 \
    void dot_x8_##name##_ref(int n, const void* w, size_t group_bytes, int n_groups,               \
                             const void* act, size_t act_stride, const int32_t* /*bsums*/,         \
                             int n_tokens, float* out, size_t out_stride) {                        \
        x8_q8_act_ref<Block, kMin>(n, w, group_bytes, n_groups, act, act_stride, n_tokens, out,    \
                                   out_stride, level_isum<kQs, kQh, kOffset>);                     \
    }
// d[8], qs at 16 / d[8], m[8], qs at 32 / d[8], qh at 16, qs at 48 / d[8], m[8], qh at 32, qs at 64
STRATA_X8_LEVELS_REF(q4_0, BlockQ4_0, false, 16, -1, 8)
STRATA_X8_LEVELS_REF(q4_1, BlockQ4_1, true, 32, -1, 0)
STRATA_X8_LEVELS_REF(q5_0, BlockQ5_0, false, 48, 16, 16)
STRATA_X8_LEVELS_REF(q5_1, BlockQ5_1, true, 64, 32, 0)
#undef STRATA_X8_LEVELS_REF

void dot_x8_iq4_nl_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                       size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                       size_t out_stride) {
    // Q4_0's group block (8 scales + 8 x 16 quant bytes), each nibble a level of kIq4nlValues
    x8_q8_act_ref<BlockIQ4_NL>(n, w, group_bytes, n_groups, act, act_stride, n_tokens, out,
                               out_stride, [](const uint8_t* blk, int k, const BlockQ8_0& y) {
                                   int s = 0;
                                   for (int j = 0; j < QK4_NL; j++) {
                                       const uint8_t q =
                                           blk[16 + (j % 16 / 4) * 32 + 4 * k + j % 4];
                                       s += kIq4nlValues[j < 16 ? q & 15 : q >> 4] * y.qs[j];
                                   }
                                   return s;
                               });
}

void dot_x8_q8_0_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                     size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                     size_t out_stride) {
    // 8 scales + 8 x 32 quant bytes
    x8_q8_act_ref<BlockQ8_0>(n, w, group_bytes, n_groups, act, act_stride, n_tokens, out,
                             out_stride, [](const uint8_t* blk, int k, const BlockQ8_0& y) {
                                 int s = 0;
                                 for (int i = 0; i < QK8_0; i++)
                                     s += int8_t(blk[16 + (i / 4) * 32 + 4 * k + i % 4]) * y.qs[i];
                                 return s;
                             });
}

namespace {

// Q4_K and Q5_K against Q8_K: d[8], dmin[8], the scale bytes (byte j of row k at 32 + 8j + k),
// [Q5_K: qh pieces at kQh], qs pieces at kQs; with kQh >= 0 value 64p + l (l < 32) gets the
// fifth bit 2p of qh[l] (value 64p + 32 + l: bit 2p + 1), as dot_q5_k_ref.
template <class Block, int kQs, int kQh>
void x8_k_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
              size_t act_stride, int n_tokens, float* out, size_t out_stride) {
    each_block<Block, BlockQ8_K>(
        n, w, group_bytes, n_groups, act, act_stride, n_tokens, out, out_stride,
        [](const uint8_t* blk, int k, const BlockQ8_K& y) {
            uint16_t d, dmin;
            std::memcpy(&d, blk + 2 * k, 2);
            std::memcpy(&dmin, blk + 16 + 2 * k, 2);
            uint8_t scales[K_SCALE_BYTES];
            for (int j = 0; j < K_SCALE_BYTES; j++) scales[j] = blk[32 + 8 * j + k];
            // byte i of row k's qs (qh) field
            auto qs = [&](int i) { return blk[kQs + (i / 4) * 32 + 4 * k + i % 4]; };
            auto qh = [&](int l) { return blk[kQh + (l / 4) * 32 + 4 * k + l % 4]; };
            int sumi = 0, summin = 0;
            for (int p = 0; p < 4; p++) {
                uint8_t sc0, m0, sc1, m1;
                q4_k_scale_min(2 * p, scales, &sc0, &m0);
                q4_k_scale_min(2 * p + 1, scales, &sc1, &m1);
                int s0 = 0, s1 = 0;
                for (int l = 0; l < 32; l++) {
                    int lo = qs(32 * p + l) & 15, hi = qs(32 * p + l) >> 4;
                    if constexpr (kQh >= 0) {
                        lo |= ((qh(l) >> (2 * p)) & 1) << 4;
                        hi |= ((qh(l) >> (2 * p + 1)) & 1) << 4;
                    }
                    s0 += lo * y.qs[64 * p + l];
                    s1 += hi * y.qs[64 * p + 32 + l];
                }
                sumi += sc0 * s0 + sc1 * s1;
                summin += m0 * (y.bsums[4 * p] + y.bsums[4 * p + 1]) +
                          m1 * (y.bsums[4 * p + 2] + y.bsums[4 * p + 3]);
            }
            return y.d * (f16_to_f32(d) * float(sumi) - f16_to_f32(dmin) * float(summin));
        });
}

} // namespace

void dot_x8_q4_k_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                     size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                     size_t out_stride) {
    // d[8] dmin[8] scales[96] qs[1024]
    x8_k_ref<BlockQ4_K, 128, -1>(n, w, group_bytes, n_groups, act, act_stride, n_tokens, out,
                                 out_stride);
}

void dot_x8_q5_k_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                     size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                     size_t out_stride) {
    // d[8] dmin[8] scales[96] qh[256] qs[1024]
    x8_k_ref<BlockQ5_K, 384, 128>(n, w, group_bytes, n_groups, act, act_stride, n_tokens, out,
                                  out_stride);
}

void dot_x8_q6_k_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                     size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                     size_t out_stride) {
    // group block: ql[1024] qh[512] scales[128] d[8]
    each_block<BlockQ6_K, BlockQ8_K>(
        n, w, group_bytes, n_groups, act, act_stride, n_tokens, out, out_stride,
        [](const uint8_t* blk, int k, const BlockQ8_K& y) {
            auto ql = [&](int i) { return blk[(i / 4) * 32 + 4 * k + i % 4]; };
            auto qh = [&](int i) { return blk[1024 + (i / 4) * 32 + 4 * k + i % 4]; };
            auto scale = [&](int j) { return int(int8_t(blk[1536 + 8 * j + k])); };
            uint16_t d;
            std::memcpy(&d, blk + 1664 + 2 * k, 2);
            int sumi = 0;
            for (int h = 0; h < 2; h++) {
                const int8_t* q8 = y.qs + 128 * h;
                int sub[8] = {};
                for (int l = 0; l < 32; l++) {
                    const int a = ql(64 * h + l), c = ql(64 * h + l + 32), e = qh(32 * h + l);
                    const int q1 = ((a & 15) | ((e & 3) << 4)) - 32;
                    const int q2 = ((c & 15) | (((e >> 2) & 3) << 4)) - 32;
                    const int q3 = ((a >> 4) | (((e >> 4) & 3) << 4)) - 32;
                    const int q4 = ((c >> 4) | (((e >> 6) & 3) << 4)) - 32;
                    const int is = l / 16;
                    sub[is + 0] += q1 * q8[l];
                    sub[is + 2] += q2 * q8[l + 32];
                    sub[is + 4] += q3 * q8[l + 64];
                    sub[is + 6] += q4 * q8[l + 96];
                }
                for (int s = 0; s < 8; s++) sumi += scale(8 * h + s) * sub[s];
            }
            return y.d * f16_to_f32(d) * float(sumi);
        });
}

void dot_x8_iq4_xs_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                       size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                       size_t out_stride) {
    // group block: d[8] scales_h[8] scales_l[32] qs[1024]
    each_block<BlockIQ4_XS, BlockQ8_K>(
        n, w, group_bytes, n_groups, act, act_stride, n_tokens, out, out_stride,
        [](const uint8_t* blk, int k, const BlockQ8_K& y) {
            BlockIQ4_XS x; // row k's scales (iq4_xs_scale reads them)
            std::memcpy(&x.d, blk + 2 * k, 2);
            std::memcpy(&x.scales_h, blk + 16 + 2 * k, 2);
            std::memcpy(x.scales_l, blk + 32 + 4 * k, 4);
            int sumi = 0;
            for (int s = 0; s < 8; s++) { // qs[16s + j]: piece 4s + j / 4, byte j % 4
                const int8_t* q8 = y.qs + 32 * s;
                int t = 0;
                for (int j = 0; j < 16; j++) {
                    const uint8_t q = blk[64 + (4 * s + j / 4) * 32 + 4 * k + j % 4];
                    t += kIq4nlValues[q & 15] * q8[j] + kIq4nlValues[q >> 4] * q8[j + 16];
                }
                sumi += iq4_xs_scale(x, s) * t;
            }
            return y.d * f16_to_f32(x.d) * float(sumi);
        });
}

void dot_x8_q3_k_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                     size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                     size_t out_stride) {
    // group block: hmask[256] qs[512] scales[96] d[8]
    each_block<BlockQ3_K, BlockQ8_K>(
        n, w, group_bytes, n_groups, act, act_stride, n_tokens, out, out_stride,
        [](const uint8_t* blk, int k, const BlockQ8_K& y) {
            auto hmask = [&](int i) { return blk[(i / 4) * 32 + 4 * k + i % 4]; };
            auto qs = [&](int i) { return blk[256 + (i / 4) * 32 + 4 * k + i % 4]; };
            uint8_t packed[12];
            for (int j = 0; j < 12; j++) packed[j] = blk[768 + 8 * j + k];
            int8_t sc[16];
            q3_k_scales(packed, sc);
            uint16_t d;
            std::memcpy(&d, blk + 864 + 2 * k, 2);
            int sub[16] = {}; // (dot_q3_k_ref's sums)
            for (int i = 0; i < QK_K; i++) {
                const int nn = i / 128, j = (i % 128) / 32, l = i % 32;
                const int lo = (qs(32 * nn + l) >> (2 * j)) & 3;
                const int high = (hmask(l) >> (4 * nn + j)) & 1;
                sub[i / 16] += (lo - (high ? 0 : 4)) * y.qs[i];
            }
            int sumi = 0;
            for (int s = 0; s < 16; s++) sumi += sc[s] * sub[s];
            return y.d * f16_to_f32(d) * float(sumi);
        });
}

void dot_x8_q2_k_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                     size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                     size_t out_stride) {
    // group block: scales[128] qs[512] d[8] dmin[8]
    each_block<BlockQ2_K, BlockQ8_K>(
        n, w, group_bytes, n_groups, act, act_stride, n_tokens, out, out_stride,
        [](const uint8_t* blk, int k, const BlockQ8_K& y) {
            auto qs = [&](int i) { return blk[128 + (i / 4) * 32 + 4 * k + i % 4]; };
            uint16_t d, dmin;
            std::memcpy(&d, blk + 640 + 2 * k, 2);
            std::memcpy(&dmin, blk + 656 + 2 * k, 2);
            int sub[16] = {}, summin = 0; // (dot_q2_k_ref's sums)
            for (int i = 0; i < QK_K; i++) {
                const int q = (qs(32 * (i / 128) + i % 32) >> (2 * ((i % 128) / 32))) & 3;
                sub[i / 16] += q * y.qs[i];
            }
            int sumi = 0;
            for (int s = 0; s < 16; s++) {
                const uint8_t sc = blk[8 * s + k];
                sumi += (sc & 15) * sub[s];
                summin += (sc >> 4) * y.bsums[s];
            }
            return y.d * (f16_to_f32(d) * float(sumi) - f16_to_f32(dmin) * float(summin));
        });
}

} // namespace strata
