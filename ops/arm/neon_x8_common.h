// Pieces shared by the NEON interleave8 kernel files (dot_x8_*_neon.cpp): the 8 rows' f16
// scales as floats, one 32-bit lane in every lane, sub-block sums times the 8 rows' signed byte
// scales, and the passes of up to 4 tokens. Like neon_byte_dots.h, include only from a .cpp,
// inside an anonymous namespace (each file is compiled twice, once per NEON row).
#pragma once

// The 8 rows' f16 fields at p (row k at p + 2k) as floats: v[0] rows 0..3, v[1] rows 4..7.
inline void f16x8(const uint8_t* p, float32x4_t v[2]) {
    const float16x8_t h = vreinterpretq_f16_u8(vld1q_u8(p));
    v[0] = vcvt_f32_f16(vget_low_f16(h));
    v[1] = vcvt_high_f32_f16(h);
}

// v's 32-bit lane c (< 4) in every lane: a token's 4 activation bytes matching a piece c. (c must
// fold to a constant once the caller's loop over c unrolls, as the lane of DUP is an immediate.)
inline int32x4_t lane(int32x4_t v, int c) {
    switch (c) {
    case 0:
        return vdupq_laneq_s32(v, 0);
    case 1:
        return vdupq_laneq_s32(v, 1);
    case 2:
        return vdupq_laneq_s32(v, 2);
    default:
        return vdupq_laneq_s32(v, 3);
    }
}

// sumi[r] += d[r] x the 8 rows' signed byte scales of one sub-block (row k's at sc[k]), r = 0:
// rows 0..3, r = 1: rows 4..7. (Q2_K, Q3_K and Q6_K: their scales as sc[8s + k].)
inline void add_scaled8(int32x4_t sumi[2], const int32x4_t d[2], const int8_t* sc) {
    const int16x8_t s16 = vmovl_s8(vld1_s8(sc));
    sumi[0] = vmlaq_s32(sumi[0], d[0], vmovl_s16(vget_low_s16(s16)));
    sumi[1] = vmlaq_s32(sumi[1], d[1], vmovl_s16(vget_high_s16(s16)));
}

// n_tokens activation rows (Block = BlockQ8_0 or BlockQ8_K, act_stride bytes apart) in passes
// of 4 tokens, then 1: pass.template operator()<T>(y, bsums, out) with T pointers each to the
// pass's activation blocks, block sums (bsums_stride apart; nullptr when bsums is) and outputs.
template <class Block, class Pass>
void token_passes(const void* act, size_t act_stride, const int32_t* bsums, size_t bsums_stride,
                  int n_tokens, float* out, size_t out_stride, Pass pass) {
    const auto* ab = static_cast<const uint8_t*>(act);
    const Block* y[4];
    const int32_t* s[4];
    float* o[4];
    auto take = [&](int t, int count) {
        for (int u = 0; u < count; u++) {
            y[u] = reinterpret_cast<const Block*>(ab + size_t(t + u) * act_stride);
            s[u] = bsums ? bsums + size_t(t + u) * bsums_stride : nullptr;
            o[u] = out + size_t(t + u) * out_stride;
        }
    };
    int t = 0;
    for (; t + 4 <= n_tokens; t += 4) {
        take(t, 4);
        pass.template operator()<4>(y, s, o);
    }
    for (; t < n_tokens; t++) {
        take(t, 1);
        pass.template operator()<1>(y, s, o);
    }
}
