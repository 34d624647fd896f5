// Interleave8 Q4_K, Q5_K and Q6_K x Q8_K for NEON (core/interleave.h), one token at a time.
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

// Interleave8 Q4_K and Q5_K x Q8_K, one token at a time (core/interleave.h): sub-block s of 4
// rows is 8 pieces of 16 bytes at kQs (low nibbles for even s, high for odd; Q5_K's fifth bits:
// bit s of qh's 8 pieces at kQh), each dotted with the token's 4 matching bytes in every lane; the
// 8 rows' 6-bit scales and mins are unpacked 16 bytes at a time (byte j of row k at 32 + 8j + k).
template <class Block, int kQs, int kQh>
void dot_x8_k(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
              size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
              size_t out_stride) {
    const int nb = n / QK_K;
    const uint8x16_t m4 = vdupq_n_u8(15), m63 = vdupq_n_u8(63), top2 = vdupq_n_u8(0xC0);
    auto block = [&](const uint8_t* blk, const BlockQ8_K& y, float32x4_t acc[2]) {
        uint8_t sc[64], mn[64]; // [8s + k]
        for (int h = 0; h < 2; h++) {
            const uint8x16_t l0 = vld1q_u8(blk + 32 + 16 * h);
            const uint8x16_t l1 = vld1q_u8(blk + 64 + 16 * h);
            const uint8x16_t l2 = vld1q_u8(blk + 96 + 16 * h);
            vst1q_u8(sc + 16 * h, vandq_u8(l0, m63));
            vst1q_u8(mn + 16 * h, vandq_u8(l1, m63));
            vst1q_u8(sc + 32 + 16 * h,
                     vorrq_u8(vandq_u8(l2, m4), vshrq_n_u8(vandq_u8(l0, top2), 2)));
            vst1q_u8(mn + 32 + 16 * h,
                     vorrq_u8(vshrq_n_u8(l2, 4), vshrq_n_u8(vandq_u8(l1, top2), 2)));
        }
        int32x4_t sumi[2] = {vdupq_n_s32(0), vdupq_n_s32(0)};
        int32x4_t summin[2] = {vdupq_n_s32(0), vdupq_n_s32(0)};
        for (int s = 0; s < 8; s++) {
            const uint16x8_t scw = vmovl_u8(vld1_u8(sc + 8 * s));
            const uint16x8_t mnw = vmovl_u8(vld1_u8(mn + 8 * s));
            const int Y = y.bsums[2 * s] + y.bsums[2 * s + 1];
            const int p = s / 2;
            int32x4_t dots[2] = {vdupq_n_s32(0), vdupq_n_s32(0)};
            for (int i = 0; i < 8; i++) {
                int32_t yw;
                std::memcpy(&yw, y.qs + 64 * p + 32 * (s % 2) + 4 * i, 4);
                const int8x16_t yv = vreinterpretq_s8_s32(vdupq_n_s32(yw));
                for (int h = 0; h < 2; h++) {
                    const uint8x16_t q = vld1q_u8(blk + kQs + 256 * p + 32 * i + 16 * h);
                    uint8x16_t nib = s % 2 ? vshrq_n_u8(q, 4) : vandq_u8(q, m4);
                    if constexpr (kQh >= 0) // bit s to bit 4 (a negative shift: right)
                        nib = vorrq_u8(nib, vandq_u8(vshlq_u8(vld1q_u8(blk + kQh + 32 * i + 16 * h),
                                                              vdupq_n_s8(int8_t(4 - s))),
                                                     vdupq_n_u8(0x10)));
                    dots[h] = dot4x4(dots[h], vreinterpretq_s8_u8(nib), yv);
                }
            }
            const int32x4_t sc_lo = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(scw)));
            const int32x4_t sc_hi = vreinterpretq_s32_u32(vmovl_u16(vget_high_u16(scw)));
            const int32x4_t mn_lo = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(mnw)));
            const int32x4_t mn_hi = vreinterpretq_s32_u32(vmovl_u16(vget_high_u16(mnw)));
            sumi[0] = vmlaq_s32(sumi[0], dots[0], sc_lo);
            sumi[1] = vmlaq_s32(sumi[1], dots[1], sc_hi);
            summin[0] = vmlaq_n_s32(summin[0], mn_lo, Y);
            summin[1] = vmlaq_n_s32(summin[1], mn_hi, Y);
        }
        float32x4_t d[2], dmin[2];
        f16x8(blk, d);
        f16x8(blk + 16, dmin);
        for (int h = 0; h < 2; h++) {
            const float32x4_t v = vsubq_f32(vmulq_f32(d[h], vcvtq_f32_s32(sumi[h])),
                                            vmulq_f32(dmin[h], vcvtq_f32_s32(summin[h])));
            acc[h] = vmlaq_n_f32(acc[h], v, y.d);
        }
    };
    one_token_blocks<BlockQ8_K>(nb, w, group_bytes, 8 * sizeof(Block), n_groups, act, act_stride,
                                n_tokens, out, out_stride, block);
}

} // namespace

void dot_x8_q4_k(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                 size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                 size_t out_stride) {
    dot_x8_k<BlockQ4_K, 128, -1>(n, w, group_bytes, n_groups, act, act_stride, bsums, n_tokens, out,
                                 out_stride);
}

void dot_x8_q5_k(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                 size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                 size_t out_stride) {
    dot_x8_k<BlockQ5_K, 384, 128>(n, w, group_bytes, n_groups, act, act_stride, bsums, n_tokens,
                                  out, out_stride);
}

// Interleave8 Q6_K x Q8_K, one token at a time (core/interleave.h, ops/x86/dot_x8_impl.h for
// the value layout): the 6-bit values are made signed (-32) here and dotted 4 bytes per lane.
void dot_x8_q6_k(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                 size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                 size_t out_stride) {
    const int nb = n / QK_K;
    const uint8x16_t m4 = vdupq_n_u8(15), m30 = vdupq_n_u8(0x30);
    const int8x16_t k32 = vdupq_n_s8(32);
    auto val = [&](uint8x16_t lo4, uint8x16_t hi2) { // (lo4 | hi2) - 32
        return vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo4, hi2)), k32);
    };
    auto block = [&](const uint8_t* blk, const BlockQ8_K& y, float32x4_t acc[2]) {
        const auto* sc = reinterpret_cast<const int8_t*>(blk + 1536);
        int32x4_t sumi[2] = {vdupq_n_s32(0), vdupq_n_s32(0)};
        for (int h = 0; h < 2; h++) {
            const int8_t* q8 = y.qs + 128 * h;
            for (int is = 0; is < 2; is++) {
                int32x4_t d[4][2];
                for (int k = 0; k < 4; k++) d[k][0] = d[k][1] = vdupq_n_s32(0);
                for (int j = 0; j < 4; j++) {
                    const int i = 4 * is + j;
                    int8x16_t yv[4];
                    quarter_bytes(q8, i, yv);
                    for (int r = 0; r < 2; r++) { // rows 0..3, 4..7
                        const uint8x16_t A = vld1q_u8(blk + 32 * (16 * h + i) + 16 * r);
                        const uint8x16_t B = vld1q_u8(blk + 32 * (16 * h + 8 + i) + 16 * r);
                        const uint8x16_t H = vld1q_u8(blk + 1024 + 32 * (8 * h + i) + 16 * r);
                        d[0][r] = dot4x4(
                            d[0][r], val(vandq_u8(A, m4), vandq_u8(vshlq_n_u8(H, 4), m30)), yv[0]);
                        d[1][r] = dot4x4(
                            d[1][r], val(vandq_u8(B, m4), vandq_u8(vshlq_n_u8(H, 2), m30)), yv[1]);
                        d[2][r] = dot4x4(d[2][r], val(vshrq_n_u8(A, 4), vandq_u8(H, m30)), yv[2]);
                        d[3][r] = dot4x4(
                            d[3][r], val(vshrq_n_u8(B, 4), vandq_u8(vshrq_n_u8(H, 2), m30)), yv[3]);
                    }
                }
                for (int k = 0; k < 4; k++) // quarter k: sub-block 8h + 2k + is
                    add_scaled8(sumi, d[k], sc + 8 * (8 * h + 2 * k + is));
            }
        }
        float32x4_t dw[2];
        f16x8(blk + 1664, dw);
        for (int r = 0; r < 2; r++)
            acc[r] = vmlaq_f32(acc[r], vmulq_n_f32(dw[r], y.d), vcvtq_f32_s32(sumi[r]));
    };
    one_token_blocks<BlockQ8_K>(nb, w, group_bytes, 8 * sizeof(BlockQ6_K), n_groups, act,
                                act_stride, n_tokens, out, out_stride, block);
}

} // namespace STRATA_NEON_TYPES_NS
} // namespace strata
