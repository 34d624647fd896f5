// Interleave8 Q2_K and Q3_K x Q8_K for NEON (core/interleave.h; the value layout as in
// ops/x86/dot_x8_lowbit_impl.h), one token at a time: a 16-byte load holds 4 quant bytes of 4
// rows, each byte's 2-bit fields j = values 128n + 32j + 4c.. of its row (Q3_K's made signed: -4
// where the hmask bit is clear) dotted 4 bytes per lane with the token's 4 matching bytes.
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

// The 8 rows' 16 signed scales, sc[8s + k], from the packed bytes at p (byte j of row k at
// p + 8j + k), 16 bytes at a time, as q3_k_scales.
inline void scales_q3(const uint8_t* p, int8_t* sc) {
    const uint8x16_t m4 = vdupq_n_u8(15), m30 = vdupq_n_u8(0x30);
    const int8x16_t k32 = vdupq_n_s8(32);
    for (int h = 0; h < 2; h++) { // bytes 2h, 2h + 1 of the 8 rows in each 16
        const uint8x16_t l0 = vld1q_u8(p + 16 * h), l1 = vld1q_u8(p + 32 + 16 * h);
        const uint8x16_t l2 = vld1q_u8(p + 64 + 16 * h);
        const uint8x16_t v[4] = {vorrq_u8(vandq_u8(l0, m4), vandq_u8(vshlq_n_u8(l2, 4), m30)),
                                 vorrq_u8(vandq_u8(l1, m4), vandq_u8(vshlq_n_u8(l2, 2), m30)),
                                 vorrq_u8(vshrq_n_u8(l0, 4), vandq_u8(l2, m30)),
                                 vorrq_u8(vshrq_n_u8(l1, 4), vandq_u8(vshrq_n_u8(l2, 2), m30))};
        for (int i = 0; i < 4; i++)
            vst1q_s8(sc + 32 * i + 16 * h, vsubq_s8(vreinterpretq_s8_u8(v[i]), k32));
    }
}

// Q2_K's scales (low nibbles) and mins (high) of the 8 rows, sc[8s + k] and mn[8s + k], from
// the 16 scale bytes at p (byte j of row k at p + 8j + k).
inline void scales_q2(const uint8_t* p, int8_t* sc, int8_t* mn) {
    for (int i = 0; i < 8; i++) {
        const uint8x16_t v = vld1q_u8(p + 16 * i);
        vst1q_s8(sc + 16 * i, vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(15))));
        vst1q_s8(mn + 16 * i, vreinterpretq_s8_u8(vshrq_n_u8(v, 4)));
    }
}

// Q2_K (kQ3 false) and Q3_K: one token at a time. Value 128n + 32j + 4c + i of a row is field j
// (bits 2j, 2j+1) of byte i of its qs piece 8n + c (Q2_K's qs at 128, Q3_K's at 256), Q3_K's
// less 4 where bit 4n + j of its hmask piece c (at 0) is clear; sub-block 8n + 2j + c / 4.
template <bool kQ3>
void dot_lowbit(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                size_t act_stride, int n_tokens, float* out, size_t out_stride) {
    constexpr size_t kBlock = 8 * (kQ3 ? sizeof(BlockQ3_K) : sizeof(BlockQ2_K));
    constexpr size_t kQs = kQ3 ? 256 : 128, kD = kQ3 ? 864 : 640;
    const int nb = n / QK_K;
    const uint8x16_t m3 = vdupq_n_u8(3), minus4 = vdupq_n_u8(0xFC);
    auto block = [&](const uint8_t* blk, const BlockQ8_K& y, float32x4_t acc[2]) {
        int8_t sc[128], mn[128];
        if constexpr (kQ3)
            scales_q3(blk + 768, sc);
        else
            scales_q2(blk, sc, mn);
        int32x4_t sumi[2] = {vdupq_n_s32(0), vdupq_n_s32(0)};
        for (int nn = 0; nn < 2; nn++)
            for (int is = 0; is < 2; is++) { // pieces 4is..: sub-blocks 8nn + 2j + is
                int32x4_t d[4][2];
                for (int j = 0; j < 4; j++) d[j][0] = d[j][1] = vdupq_n_s32(0);
                for (int i = 0; i < 4; i++) {
                    const int c = 4 * is + i;
                    int8x16_t yv[4]; // yv[j]: field j's 4 bytes
                    quarter_bytes(y.qs + 128 * nn, c, yv);
                    for (int r = 0; r < 2; r++) { // rows 0..3, 4..7
                        const uint8x16_t Q = vld1q_u8(blk + kQs + 32 * (8 * nn + c) + 16 * r);
                        const uint8x16_t H = vld1q_u8(blk + 32 * c + 16 * r);
                        for (int j = 0; j < 4; j++) {
                            uint8x16_t q = vandq_u8(vshlq_u8(Q, vdupq_n_s8(int8_t(-2 * j))), m3);
                            if constexpr (kQ3) // less 4 where the high bit is clear
                                q = vorrq_u8(
                                    q,
                                    vbicq_u8(minus4,
                                             vtstq_u8(H, vdupq_n_u8(uint8_t(1u << (4 * nn + j))))));
                            d[j][r] = dot4x4(d[j][r], vreinterpretq_s8_u8(q), yv[j]);
                        }
                    }
                }
                for (int j = 0; j < 4; j++) add_scaled8(sumi, d[j], sc + 8 * (8 * nn + 2 * j + is));
            }
        int32x4_t summin[2] = {vdupq_n_s32(0), vdupq_n_s32(0)};
        if constexpr (!kQ3)
            for (int s = 0; s < 16; s++) {
                const int16x8_t m16 = vmovl_s8(vld1_s8(mn + 8 * s));
                summin[0] = vmlaq_n_s32(summin[0], vmovl_s16(vget_low_s16(m16)), y.bsums[s]);
                summin[1] = vmlaq_n_s32(summin[1], vmovl_s16(vget_high_s16(m16)), y.bsums[s]);
            }
        float32x4_t dw[2], dm[2];
        f16x8(blk + kD, dw);
        if constexpr (!kQ3) f16x8(blk + kD + 16, dm); // dmin[8] after d[8]
        for (int r = 0; r < 2; r++) {
            float32x4_t v = vmulq_f32(dw[r], vcvtq_f32_s32(sumi[r]));
            if constexpr (!kQ3) v = vsubq_f32(v, vmulq_f32(dm[r], vcvtq_f32_s32(summin[r])));
            acc[r] = vmlaq_n_f32(acc[r], v, y.d);
        }
    };
    one_token_blocks<BlockQ8_K>(nb, w, group_bytes, kBlock, n_groups, act, act_stride, n_tokens,
                                out, out_stride, block);
}

} // namespace

void dot_x8_q2_k(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                 size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                 size_t out_stride) {
    dot_lowbit<false>(n, w, group_bytes, n_groups, act, act_stride, n_tokens, out, out_stride);
}

void dot_x8_q3_k(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                 size_t act_stride, const int32_t* /*bsums*/, int n_tokens, float* out,
                 size_t out_stride) {
    dot_lowbit<true>(n, w, group_bytes, n_groups, act, act_stride, n_tokens, out, out_stride);
}

} // namespace STRATA_NEON_TYPES_NS
} // namespace strata
