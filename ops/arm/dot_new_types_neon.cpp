// NEON dot products of the GGUF types beyond Q4_0/Q8_0/Q4_K/Q6_K, two skeletons over per-type
// unpackers (Q2_K, Q3_K, Q5_K and IQ4_XS x Q8_K: dot_k, below).
// Q4_1, Q5_0, Q5_1 and IQ4_NL rows against Q8_0 activations: one skeleton (dot_q32) over
// per-type unpackers that turn a block into its 32 weight bytes as two int8x16 halves (values
// 0..15 and 16..31). Every level fits a signed byte (Q4_1/Q5_1's 0..31 too), so one signed
// byte product serves all four; types with a minimum add min x dy x sum(y). The byte product is
// SDOT where the row has it (-march=armv8.2-a+dotprod) and widening multiplies otherwise.
#include "ops/arm/dot_new_types_neon.h"

#include "core/half.h"
#include "core/quant_blocks.h"

#include <arm_neon.h>
#include <cstring>

namespace strata {
namespace STRATA_NEON_TYPES_NS {
namespace {

#include "ops/arm/neon_byte_dots.h"

// A block's 32 levels: lo = values 0..15, hi = values 16..31.
struct Levels {
    int8x16_t lo, hi;
};

// 16 bytes of nibbles -> values 0..15 (low nibbles) and 16..31 (high nibbles).
inline void nibbles(const uint8_t* qs, uint8x16_t& lo, uint8x16_t& hi) {
    const uint8x16_t q = vld1q_u8(qs);
    lo = vandq_u8(q, vdupq_n_u8(15));
    hi = vshrq_n_u8(q, 4);
}

// Bit j of the little-endian word at qh as 0x10 in byte j: bytes 0..15 in lo, 16..31 in hi.
inline void fifth_bits(const uint8_t* qh, uint8x16_t& lo, uint8x16_t& hi) {
    static constexpr uint8_t kBit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t bit = vld1q_u8(kBit), ten = vdupq_n_u8(0x10);
    const uint8x16_t b01 = vcombine_u8(vdup_n_u8(qh[0]), vdup_n_u8(qh[1]));
    const uint8x16_t b23 = vcombine_u8(vdup_n_u8(qh[2]), vdup_n_u8(qh[3]));
    lo = vandq_u8(vtstq_u8(b01, bit), ten);
    hi = vandq_u8(vtstq_u8(b23, bit), ten);
}

// ---- the per-type unpackers: Block, kMin, levels(block) ------------------------------------

struct Q4_1 {
    using Block = BlockQ4_1;
    static constexpr bool kMin = true;
    static Levels levels(const Block& b) {
        uint8x16_t lo, hi;
        nibbles(b.qs, lo, hi);
        return {vreinterpretq_s8_u8(lo), vreinterpretq_s8_u8(hi)};
    }
};

struct Q5_1 {
    using Block = BlockQ5_1;
    static constexpr bool kMin = true;
    static Levels levels(const Block& b) {
        uint8x16_t lo, hi, h0, h1;
        nibbles(b.qs, lo, hi);
        fifth_bits(b.qh, h0, h1);
        return {vreinterpretq_s8_u8(vorrq_u8(lo, h0)), vreinterpretq_s8_u8(vorrq_u8(hi, h1))};
    }
};

struct Q5_0 {
    using Block = BlockQ5_0;
    static constexpr bool kMin = false;
    static Levels levels(const Block& b) {
        uint8x16_t lo, hi, h0, h1;
        nibbles(b.qs, lo, hi);
        fifth_bits(b.qh, h0, h1);
        const int8x16_t sixteen = vdupq_n_s8(16);
        return {vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, h0)), sixteen),
                vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(hi, h1)), sixteen)};
    }
};

struct IQ4_NL {
    using Block = BlockIQ4_NL;
    static constexpr bool kMin = false;
    static Levels levels(const Block& b) {
        const int8x16_t lut = vld1q_s8(kIq4nlValues);
        uint8x16_t lo, hi;
        nibbles(b.qs, lo, hi);
        return {vqtbl1q_s8(lut, lo), vqtbl1q_s8(lut, hi)};
    }
};

// ---- the skeleton ---------------------------------------------------------------------------

template <class T> float dot_q32(int n, const void* w, const void* a) {
    const auto* x = static_cast<const typename T::Block*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    float32x4_t acc = vdupq_n_f32(0);
    float sum_min = 0;
    for (int b = 0; b < n / QK8_0; b++) {
        const Levels q = T::levels(x[b]);
        const int8x16_t y0 = vld1q_s8(y[b].qs), y1 = vld1q_s8(y[b].qs + 16);
        const int32x4_t s = dot16(dot16(vdupq_n_s32(0), q.lo, y0), q.hi, y1);
        const float dy = f16_to_f32(y[b].d);
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), f16_to_f32(x[b].d) * dy);
        if constexpr (T::kMin)
            sum_min += f16_to_f32(x[b].m) * dy * float(int(vaddlvq_s8(y0)) + int(vaddlvq_s8(y1)));
    }
    return vaddvq_f32(acc) + sum_min;
}

// ---- Q2_K, Q3_K, Q5_K and IQ4_XS x Q8_K -----------------------------------------------------
// One skeleton (dot_k) over unpackers that turn a 256-value block into 16 groups of 16 signed
// levels (group g = values 16g .. 16g+15, Q8_K's bsums granularity), each group's integer scale,
// and the integer sum that the minimums contribute (types with a dmin).

struct KLevels {
    int8x16_t q[16];
    int32_t scale[16];
};

struct Q2_K {
    using Block = BlockQ2_K;
    static constexpr bool kMin = true;
    // value 128n + 32j + 16h + i: bits 2j of qs[32n + 16h + i]; group 8n + 2j + h
    static int unpack(const Block& b, const int16_t* bsums, KLevels& k) {
        const uint8x16_t three = vdupq_n_u8(3);
        for (int n = 0; n < 2; n++)
            for (int h = 0; h < 2; h++) {
                const uint8x16_t v = vld1q_u8(b.qs + 32 * n + 16 * h);
                k.q[8 * n + h] = vreinterpretq_s8_u8(vandq_u8(v, three));
                k.q[8 * n + 2 + h] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v, 2), three));
                k.q[8 * n + 4 + h] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v, 4), three));
                k.q[8 * n + 6 + h] = vreinterpretq_s8_u8(vshrq_n_u8(v, 6));
            }
        int summin = 0;
        for (int g = 0; g < 16; g++) {
            k.scale[g] = b.scales[g] & 15;
            summin += (b.scales[g] >> 4) * bsums[g];
        }
        return summin;
    }
};

struct Q3_K {
    using Block = BlockQ3_K;
    static constexpr bool kMin = false;
    // as Q2_K's low bits, plus bit 4n + j of hmask[16h + i]: q = (low | high << 2) - 4
    static int unpack(const Block& b, const int16_t*, KLevels& k) {
        const uint8x16_t three = vdupq_n_u8(3), four = vdupq_n_u8(4);
        const int8x16_t minus4 = vdupq_n_s8(4);
        for (int h = 0; h < 2; h++) {
            uint8x16_t hm = vld1q_u8(b.hmask + 16 * h);
            for (int n = 0; n < 2; n++) {
                uint8x16_t v = vld1q_u8(b.qs + 32 * n + 16 * h);
                for (int j = 0; j < 4; j++) { // hm's bit 0 is bit 4n + j of the original
                    const uint8x16_t level =
                        vorrq_u8(vandq_u8(v, three), vandq_u8(vshlq_n_u8(hm, 2), four));
                    k.q[8 * n + 2 * j + h] = vsubq_s8(vreinterpretq_s8_u8(level), minus4);
                    v = vshrq_n_u8(v, 2);
                    hm = vshrq_n_u8(hm, 1);
                }
            }
        }
        int8_t sc[16];
        q3_k_scales(b.scales, sc);
        for (int g = 0; g < 16; g++) k.scale[g] = sc[g];
        return 0;
    }
};

struct Q5_K {
    using Block = BlockQ5_K;
    static constexpr bool kMin = true;
    // value 64p + 32s + 16h + i: nibble s of qs[32p + 16h + i] | bit 2p + s of qh[16h + i] << 4;
    // group 4p + 2s + h, sub-block 2p + s
    static int unpack(const Block& b, const int16_t* bsums, KLevels& k) {
        const uint8x16_t m4 = vdupq_n_u8(15), ten = vdupq_n_u8(0x10);
        for (int h = 0; h < 2; h++) {
            uint8x16_t hb = vld1q_u8(b.qh + 16 * h);
            for (int p = 0; p < 4; p++) {
                const uint8x16_t v = vld1q_u8(b.qs + 32 * p + 16 * h);
                k.q[4 * p + h] = vreinterpretq_s8_u8(
                    vorrq_u8(vandq_u8(v, m4), vandq_u8(vshlq_n_u8(hb, 4), ten)));
                k.q[4 * p + 2 + h] = vreinterpretq_s8_u8(
                    vorrq_u8(vshrq_n_u8(v, 4), vandq_u8(vshlq_n_u8(hb, 3), ten)));
                hb = vshrq_n_u8(hb, 2);
            }
        }
        uint8_t sc[8];
        const int summin = q4_k_scales_and_summin(b.scales, bsums, sc);
        for (int g = 0; g < 16; g++) k.scale[g] = sc[g / 2];
        return summin;
    }
};

struct IQ4_XS {
    using Block = BlockIQ4_XS;
    static constexpr bool kMin = false;
    // sub-block s: low nibbles of qs[16s ..] are values 32s .., high nibbles 32s + 16 ..
    static int unpack(const Block& b, const int16_t*, KLevels& k) {
        const int8x16_t lut = vld1q_s8(kIq4nlValues);
        for (int s = 0; s < 8; s++) {
            uint8x16_t lo, hi;
            nibbles(b.qs + 16 * s, lo, hi);
            k.q[2 * s] = vqtbl1q_s8(lut, lo);
            k.q[2 * s + 1] = vqtbl1q_s8(lut, hi);
            k.scale[2 * s] = k.scale[2 * s + 1] = iq4_xs_scale(b, s);
        }
        return 0;
    }
};

template <class T> float dot_k(int n, const void* w, const void* a) {
    const auto* x = static_cast<const typename T::Block*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    float sum = 0;
    for (int b = 0; b < n / QK_K; b++) {
        KLevels k;
        const int summin = T::unpack(x[b], y[b].bsums, k);
        int32x4_t acc = vdupq_n_s32(0);
        for (int g = 0; g < 16; g++)
            acc = vmlaq_n_s32(acc, dot16(vdupq_n_s32(0), k.q[g], vld1q_s8(y[b].qs + 16 * g)),
                              k.scale[g]);
        float block = f16_to_f32(x[b].d) * float(vaddvq_s32(acc));
        if constexpr (T::kMin) block -= f16_to_f32(x[b].dmin) * float(summin);
        sum += y[b].d * block;
    }
    return sum;
}

} // namespace

float dot_q4_1(int n, const void* w, const void* a) { return dot_q32<Q4_1>(n, w, a); }
float dot_q5_0(int n, const void* w, const void* a) { return dot_q32<Q5_0>(n, w, a); }
float dot_q5_1(int n, const void* w, const void* a) { return dot_q32<Q5_1>(n, w, a); }
float dot_iq4_nl(int n, const void* w, const void* a) { return dot_q32<IQ4_NL>(n, w, a); }
float dot_q2_k(int n, const void* w, const void* a) { return dot_k<Q2_K>(n, w, a); }
float dot_q3_k(int n, const void* w, const void* a) { return dot_k<Q3_K>(n, w, a); }
float dot_q5_k(int n, const void* w, const void* a) { return dot_k<Q5_K>(n, w, a); }
float dot_iq4_xs(int n, const void* w, const void* a) { return dot_k<IQ4_XS>(n, w, a); }

} // namespace STRATA_NEON_TYPES_NS
} // namespace strata
