// Pieces shared by the NEON interleave8 kernel files (dot_x8_*_neon.cpp): the 8 rows' f16
// scales as floats, one 32-bit lane in every lane, sub-block sums times the 8 rows' signed byte
// scales, the passes of up to 4 tokens and the loop over groups and blocks. Like neon_byte_dots.h,
// include only from a .cpp, after <arm_neon.h> and <cstring>, inside an anonymous namespace (each
// file is compiled twice, once per NEON row).
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

// The token's 4 bytes at q + 32k + 4i for k = 0..3 (piece i of each of 4 consecutive 32-value
// quarters), each in every lane of yv[k]: what the 4 quarters' piece i of 4 rows is dotted with.
inline void quarter_bytes(const int8_t* q, int i, int8x16_t yv[4]) {
    for (int k = 0; k < 4; k++) {
        int32_t yw;
        std::memcpy(&yw, q + 32 * k + 4 * i, 4);
        yv[k] = vreinterpretq_s8_s32(vdupq_n_s32(yw));
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
// of kT tokens (4 or 1), then 1: pass.template operator()<T>(y, bsums, out) with T pointers each
// to the pass's activation blocks, block sums (bsums_stride apart; nullptr when bsums is) and
// outputs.
template <class Block, int kT = 4, class Pass>
void token_passes(const void* act, size_t act_stride, const int32_t* bsums, size_t bsums_stride,
                  int n_tokens, float* out, size_t out_stride, Pass pass) {
    static_assert(kT == 4 || kT == 1);
    const auto* ab = static_cast<const uint8_t*>(act);
    const Block* y[kT];
    const int32_t* s[kT];
    float* o[kT];
    auto take = [&](int t, int count) {
        for (int u = 0; u < count; u++) {
            y[u] = reinterpret_cast<const Block*>(ab + size_t(t + u) * act_stride);
            s[u] = bsums ? bsums + size_t(t + u) * bsums_stride : nullptr;
            o[u] = out + size_t(t + u) * out_stride;
        }
    };
    int t = 0;
    if constexpr (kT == 4)
        for (; t + 4 <= n_tokens; t += 4) {
            take(t, 4);
            pass.template operator()<4>(y, s, o);
        }
    for (; t < n_tokens; t++) {
        take(t, 1);
        pass.template operator()<1>(y, s, o);
    }
}

// The skeleton of every NEON x8 kernel: each group of 8 rows (group_bytes apart from w) against
// a pass of T tokens. acc[u][0..1] (token u's rows 0..3 and 4..7) start at zero, body(blk, b, acc)
// adds the group's block b (block_bytes apart, at blk) for every token, and acc goes to out[u] at
// the group's 8 rows.
template <int T, class Body>
void each_group_block(int nb, const uint8_t* w, size_t group_bytes, size_t block_bytes,
                      int n_groups, float* const* out, Body body) {
    for (int g = 0; g < n_groups; g++) {
        const uint8_t* group = w + size_t(g) * group_bytes;
        float32x4_t acc[T][2];
        for (int u = 0; u < T; u++) acc[u][0] = acc[u][1] = vdupq_n_f32(0);
        for (int b = 0; b < nb; b++) body(group + size_t(b) * block_bytes, b, acc);
        for (int u = 0; u < T; u++) {
            vst1q_f32(out[u] + 8 * size_t(g), acc[u][0]);
            vst1q_f32(out[u] + 8 * size_t(g) + 4, acc[u][1]);
        }
    }
}

// The one-token kernels' form of the two above: each token by itself, block(blk, y, acc) adding
// the group's block at blk against the token's activation block y to acc[0..1].
template <class Block, class Fn>
void one_token_blocks(int nb, const void* w, size_t group_bytes, size_t block_bytes, int n_groups,
                      const void* act, size_t act_stride, int n_tokens, float* out,
                      size_t out_stride, const Fn& block) {
    token_passes<Block, 1>(
        act, act_stride, nullptr, 0, n_tokens, out, out_stride,
        [&]<int T>(const Block* const* y, const int32_t* const*, float* const* o) {
            each_group_block<1>(nb, static_cast<const uint8_t*>(w), group_bytes, block_bytes,
                                n_groups, o, [&](const uint8_t* blk, int b, float32x4_t(*acc)[2]) {
                                    block(blk, y[0][b], acc[0]);
                                });
        });
}
