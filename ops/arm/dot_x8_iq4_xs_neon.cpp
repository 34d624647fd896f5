// Interleave8 IQ4_XS x Q8_K for NEON (core/interleave.h): a group block is d[8], scales_h[8] (at
// 16 + 2k), scales_l (row k's 4 bytes at 32 + 4k), then qs pieces at 64 + 32c + 4k, sub-block s
// (32 values) being pieces 4s..4s+3 laid out as an interleaved IQ4_NL block's. The nibbles are
// looked up in the 16 levels (TBL) and dotted 4 bytes per lane with the token's 4 matching bytes,
// so each int32 lane collects its own row; a sub-block's sums are multiplied by the 8 rows'
// signed 6-bit scales, unpacked once per block. Up to 4 tokens share each looked-up piece.
// Compiled into both NEON rows (SDOT in the dotprod build), each in its own namespace.
#include "core/quant_blocks.h"
#include "ops/arm/dot_x8_neon.h"

#include <arm_neon.h>
#include <cstring>

namespace strata {
namespace STRATA_NEON_TYPES_NS {
namespace {

#include "ops/arm/neon_byte_dots.h"
#include "ops/arm/neon_x8_common.h"

constexpr size_t kGroupBlock = 8 * sizeof(BlockIQ4_XS); // d[8] scales_h[8] scales_l[32] qs[1024]

// The 8 rows' scales of sub-blocks 0..7 (sc[s][0]: rows 0..3, sc[s][1]: rows 4..7): (4 bits at
// 4s of scales_l's word) | (2 bits at 2s of scales_h) << 4, less 32 (iq4_xs_scale).
inline void iq4_xs_scales(const uint8_t* blk, int32x4_t sc[8][2]) {
    const uint32x4_t m15 = vdupq_n_u32(15), m48 = vdupq_n_u32(48);
    const int32x4_t k32 = vdupq_n_s32(32);
    for (int r = 0; r < 2; r++) {
        uint32x4_t l = vreinterpretq_u32_u8(vld1q_u8(blk + 32 + 16 * r));
        uint32x4_t h = vshlq_n_u32(vmovl_u16(vreinterpret_u16_u8(vld1_u8(blk + 16 + 8 * r))), 4);
        for (int s = 0; s < 8; s++) {
            sc[s][r] = vsubq_s32(
                vreinterpretq_s32_u32(vorrq_u32(vandq_u32(l, m15), vandq_u32(h, m48))), k32);
            l = vshrq_n_u32(l, 4);
            h = vshrq_n_u32(h, 2);
        }
    }
}

// T tokens (y[u], out[u]) against all groups.
template <int T>
void iq4_xs_groups(int nb, const uint8_t* w, size_t group_bytes, int n_groups,
                   const BlockQ8_K* const* y, float* const* out) {
    const uint8x16_t m4 = vdupq_n_u8(15);
    const int8x16_t levels = vld1q_s8(kIq4nlValues);
    each_group_block<T>(
        nb, w, group_bytes, kGroupBlock, n_groups, out,
        [&](const uint8_t* blk, int b, float32x4_t(*acc)[2]) {
            int32x4_t sc[8][2];
            iq4_xs_scales(blk, sc);
            int32x4_t sumi[T][2];
            for (int u = 0; u < T; u++) sumi[u][0] = sumi[u][1] = vdupq_n_s32(0);
            for (int s = 0; s < 8; s++) {
                const uint8_t* q = blk + 64 + 128 * s;
                int32x4_t ylo[T], yhi[T], d[T][2];
                for (int u = 0; u < T; u++) {
                    ylo[u] = vreinterpretq_s32_s8(vld1q_s8(y[u][b].qs + 32 * s));
                    yhi[u] = vreinterpretq_s32_s8(vld1q_s8(y[u][b].qs + 32 * s + 16));
                    d[u][0] = d[u][1] = vdupq_n_s32(0);
                }
#pragma GCC unroll 4 // (lane()'s c a constant: no branch on it)
                for (int c = 0; c < 4; c++)
                    for (int r = 0; r < 2; r++) { // rows 0..3, then 4..7
                        const uint8x16_t v = vld1q_u8(q + 32 * c + 16 * r);
                        const int8x16_t lo = vqtbl1q_s8(levels, vandq_u8(v, m4));  // values 4c..
                        const int8x16_t hi = vqtbl1q_s8(levels, vshrq_n_u8(v, 4)); // 16 + 4c..
                        for (int u = 0; u < T; u++) {
                            d[u][r] = dot4x4(d[u][r], lo, vreinterpretq_s8_s32(lane(ylo[u], c)));
                            d[u][r] = dot4x4(d[u][r], hi, vreinterpretq_s8_s32(lane(yhi[u], c)));
                        }
                    }
                for (int u = 0; u < T; u++)
                    for (int r = 0; r < 2; r++)
                        sumi[u][r] = vmlaq_s32(sumi[u][r], d[u][r], sc[s][r]);
            }
            float32x4_t dw[2];
            f16x8(blk, dw);
            for (int u = 0; u < T; u++)
                for (int r = 0; r < 2; r++)
                    acc[u][r] = vmlaq_f32(acc[u][r], vmulq_n_f32(dw[r], y[u][b].d),
                                          vcvtq_f32_s32(sumi[u][r]));
        });
}

} // namespace

void dot_x8_iq4_xs(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                   size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                   size_t out_stride) {
    const int nb = n / QK_K;
    const auto* wb = static_cast<const uint8_t*>(w);
    token_passes<BlockQ8_K>(
        act, act_stride, nullptr, 0, n_tokens, out, out_stride,
        [&]<int T>(const BlockQ8_K* const* y, const int32_t* const*, float* const* o) {
            iq4_xs_groups<T>(nb, wb, group_bytes, n_groups, y, o);
        });
}

} // namespace STRATA_NEON_TYPES_NS
} // namespace strata
