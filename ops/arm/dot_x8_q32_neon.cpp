// Interleave8 Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and IQ4_NL (core/interleave.h) x Q8_0, T tokens per
// pass over a group's blocks. A 16-byte load holds 4 quant bytes of 4 rows; against the token's 4
// matching activation bytes copied to every lane, each int32 lane collects its own row: no
// horizontal sums. Piece c of the nibble types holds values 4c.. (low nibbles) and 16 + 4c..
// (high): Q4_0's made signed by -8 here, IQ4_NL's looked up in its 16 levels (TBL), Q5's given
// their fifth bits (Q5_0's then less 16), Q4_1/Q5_1's levels 0..31 taken as they are and their
// minimums added as m dy x the token's block sum; Q8_0's pieces c and c + 4 hold them as they are.
// Compiled into both NEON rows (SDOT in the dotprod build), each in its own namespace.
#include "core/half.h"
#include "core/quant_blocks.h"
#include "ops/arm/dot_x8_neon.h"

#include <arm_neon.h>
#include <cstring>

namespace strata {
namespace STRATA_NEON_TYPES_NS {
namespace {

#include "ops/arm/neon_byte_dots.h"
#include "ops/arm/neon_x8_common.h"

enum class X8Kind { Q4_0, Q4_1, Q8_0, IQ4_NL, Q5_0, Q5_1 };

// Q5's fifth bits of values j0..j0+3 of 4 rows (their 32-bit words in h's lanes) as 0x10 in
// byte i of each lane (bit j0 + i of the lane's word).
inline uint8x16_t fifth_bits_x4(uint8x16_t h, int j0) {
    static constexpr uint8_t kLane[16] = {0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12};
    const uint8x16_t idx = vaddq_u8(vld1q_u8(kLane), vdupq_n_u8(uint8_t(j0 / 8)));
    const uint8x16_t spread = vqtbl1q_u8(h, idx);
    const uint8x16_t bit = vreinterpretq_u8_u32(vdupq_n_u32(0x08040201u << (j0 % 8)));
    return vandq_u8(vtstq_u8(spread, bit), vdupq_n_u8(0x10));
}

template <int T, X8Kind kKind>
void x8_groups(int nb, const uint8_t* w, size_t group_bytes, int n_groups,
               const BlockQ8_0* const* y, const int32_t* const* bsum, float* const* out) {
    constexpr bool kQ8 = kKind == X8Kind::Q8_0;
    constexpr bool kQ5 = kKind == X8Kind::Q5_0 || kKind == X8Kind::Q5_1;
    constexpr bool kMin = kKind == X8Kind::Q4_1 || kKind == X8Kind::Q5_1;
    constexpr size_t kBlock = 8 * (kQ8                     ? sizeof(BlockQ8_0)
                                   : kKind == X8Kind::Q4_1 ? sizeof(BlockQ4_1)
                                   : kKind == X8Kind::Q5_0 ? sizeof(BlockQ5_0)
                                   : kKind == X8Kind::Q5_1 ? sizeof(BlockQ5_1)
                                                           : sizeof(BlockQ4_0));
    // the group block's fields: d[8], [m[8]], [qh: row k's word at kQh + 4k], qs pieces at kQs
    constexpr size_t kQh = kMin ? 32 : 16;
    constexpr size_t kQs = 16 + (kMin ? 16 : 0) + (kQ5 ? 32 : 0);
    constexpr int kOffset = kKind == X8Kind::Q4_0 ? 8 : kKind == X8Kind::Q5_0 ? 16 : 0;
    const uint8x16_t m4 = vdupq_n_u8(15);
    const int8x16_t levels = vld1q_s8(kIq4nlValues);
    auto signed_level = [](uint8x16_t v) { // (a constant offset: no instruction when 0)
        return vsubq_s8(vreinterpretq_s8_u8(v), vdupq_n_s8(int8_t(kOffset)));
    };
    each_group_block<T>(
        nb, w, group_bytes, kBlock, n_groups, out,
        [&](const uint8_t* blk, int b, float32x4_t(*acc)[2]) {
            int32x4_t s[T][2];
            int32x4_t ylo[T], yhi[T];
            for (int u = 0; u < T; u++) {
                s[u][0] = s[u][1] = vdupq_n_s32(0);
                ylo[u] = vreinterpretq_s32_s8(vld1q_s8(y[u][b].qs));
                yhi[u] = vreinterpretq_s32_s8(vld1q_s8(y[u][b].qs + 16));
            }
            for (int c = 0; c < 4; c++)
                for (int h = 0; h < 2; h++) { // rows 0..3, then 4..7
                    int8x16_t lo, hi;         // values 4c..4c+3 and 16+4c..16+4c+3 of 4 rows
                    if constexpr (kQ8) {
                        lo = vld1q_s8(reinterpret_cast<const int8_t*>(blk) + 16 + 32 * c + 16 * h);
                        hi = vld1q_s8(reinterpret_cast<const int8_t*>(blk) + 144 + 32 * c + 16 * h);
                    } else if constexpr (kQ5) {
                        const uint8x16_t q = vld1q_u8(blk + kQs + 32 * c + 16 * h);
                        const uint8x16_t fh = vld1q_u8(blk + kQh + 16 * h);
                        lo = signed_level(vorrq_u8(vandq_u8(q, m4), fifth_bits_x4(fh, 4 * c)));
                        hi =
                            signed_level(vorrq_u8(vshrq_n_u8(q, 4), fifth_bits_x4(fh, 16 + 4 * c)));
                    } else if constexpr (kKind == X8Kind::IQ4_NL) {
                        const uint8x16_t q = vld1q_u8(blk + 16 + 32 * c + 16 * h);
                        lo = vqtbl1q_s8(levels, vandq_u8(q, m4));
                        hi = vqtbl1q_s8(levels, vshrq_n_u8(q, 4));
                    } else { // Q4_0, Q4_1
                        const uint8x16_t q = vld1q_u8(blk + kQs + 32 * c + 16 * h);
                        lo = signed_level(vandq_u8(q, m4));
                        hi = signed_level(vshrq_n_u8(q, 4));
                    }
                    for (int u = 0; u < T; u++) {
                        const int32x4_t yl = lane(ylo[u], c), yh = lane(yhi[u], c);
                        s[u][h] = dot4x4(s[u][h], lo, vreinterpretq_s8_s32(yl));
                        s[u][h] = dot4x4(s[u][h], hi, vreinterpretq_s8_s32(yh));
                    }
                }
            // the 8 rows' scales (and minimums) as floats
            float32x4_t dw[2], dm[2];
            f16x8(blk, dw);
            if constexpr (kMin) f16x8(blk + 16, dm);
            for (int u = 0; u < T; u++) {
                const float dy = f16_to_f32(y[u][b].d);
                for (int h = 0; h < 2; h++) {
                    acc[u][h] =
                        vmlaq_f32(acc[u][h], vmulq_n_f32(dw[h], dy), vcvtq_f32_s32(s[u][h]));
                    if constexpr (kMin)
                        acc[u][h] = vmlaq_f32(acc[u][h], vmulq_n_f32(dm[h], dy),
                                              vdupq_n_f32(float(bsum[u][b])));
                }
            }
        });
}

template <X8Kind kKind>
void x8_tokens(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
               size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
               size_t out_stride) {
    const int nb = n / QK8_0;
    const auto* wb = static_cast<const uint8_t*>(w);
    token_passes<BlockQ8_0>(
        act, act_stride, bsums, size_t(nb), n_tokens, out, out_stride,
        [&]<int T>(const BlockQ8_0* const* y, const int32_t* const* s, float* const* o) {
            x8_groups<T, kKind>(nb, wb, group_bytes, n_groups, y, s, o);
        });
}

} // namespace

#define STRATA_NEON_X8(name, kind)                                                                 \
    void dot_x8_##name(int n, const void* w, size_t group_bytes, int n_groups, const void* act,    \
                       size_t act_stride, const int32_t* bsums, int n_tokens, float* out,          \
                       size_t out_stride) {                                                        \
        x8_tokens<X8Kind::kind>(n, w, group_bytes, n_groups, act, act_stride, bsums, n_tokens,     \
                                out, out_stride);                                                  \
    }
STRATA_NEON_X8(q4_0, Q4_0)
STRATA_NEON_X8(q4_1, Q4_1)
STRATA_NEON_X8(q5_0, Q5_0)
STRATA_NEON_X8(q5_1, Q5_1)
STRATA_NEON_X8(iq4_nl, IQ4_NL)
STRATA_NEON_X8(q8_0, Q8_0)
#undef STRATA_NEON_X8

} // namespace STRATA_NEON_TYPES_NS
} // namespace strata
