// NEON kernels for aarch64. Compiled twice: with -march=armv8.2-a+dotprod (byte dot products
// with SDOT) and with plain armv8-a (widening multiplies). The build passes STRATA_NEON_ROW to
// name the row's getter.
#include "core/half.h"
#include "core/quant_blocks.h"
#include "core/quantize_ref.h"
#include "ops/arm/dot_new_types_neon.h"
#include "ops/dot_ref.h"
#include "ops/kernels.h"

#include <arm_neon.h>
#include <cmath>
#include <cstring>

#ifndef STRATA_NEON_ROW
#error "STRATA_NEON_ROW must name the table getter"
#endif

namespace strata {
namespace {

#include "ops/arm/neon_byte_dots.h"

float dot_f32(int n, const void* w, const void* a) {
    const float* x = static_cast<const float*>(w);
    const float* y = static_cast<const float*>(a);
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        acc0 = vfmaq_f32(acc0, vld1q_f32(x + i), vld1q_f32(y + i));
        acc1 = vfmaq_f32(acc1, vld1q_f32(x + i + 4), vld1q_f32(y + i + 4));
    }
    float sum = vaddvq_f32(vaddq_f32(acc0, acc1));
    for (; i < n; i++) sum += x[i] * y[i];
    return sum;
}

// F16 and BF16 rows against F32 activations: the skeleton of ops/dot_half_impl.h, 8 values per
// step.
struct HalfNeon {
    using Vec = float32x4_t;
    static constexpr int kStep = 8;
    static Vec zero() { return vdupq_n_f32(0); }
    static void act(const float* y, Vec& a0, Vec& a1) { a0 = vld1q_f32(y), a1 = vld1q_f32(y + 4); }
    static Vec fma(Vec w, Vec a, Vec acc) { return vfmaq_f32(acc, w, a); }
    static float hsum(Vec a, Vec b) { return vaddvq_f32(vaddq_f32(a, b)); }
};
struct HalfF16 : HalfNeon {
    static void weights(const uint16_t* x, float32x4_t& w0, float32x4_t& w1) {
        const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(x));
        w0 = vcvt_f32_f16(vget_low_f16(h));
        w1 = vcvt_high_f32_f16(h);
    }
    static float widen(uint16_t v) { return f16_to_f32(v); }
};
struct HalfBF16 : HalfNeon {
    static void weights(const uint16_t* x, float32x4_t& w0, float32x4_t& w1) {
        const uint16x8_t h = vld1q_u16(x);
        w0 = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16));
        w1 = vreinterpretq_f32_u32(vshll_high_n_u16(h, 16));
    }
    static float widen(uint16_t v) { return bf16_to_f32(v); }
};

#include "ops/dot_half_impl.h"

float dot_f16(int n, const void* w, const void* a) { return dot_half_row<HalfF16>(n, w, a); }
float dot_bf16(int n, const void* w, const void* a) { return dot_half_row<HalfBF16>(n, w, a); }

float dot_q8_0(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ8_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    float32x4_t acc = vdupq_n_f32(0);
    for (int b = 0; b < n / QK8_0; b++) {
        int32x4_t s = dot16(vdupq_n_s32(0), vld1q_s8(x[b].qs), vld1q_s8(y[b].qs));
        s = dot16(s, vld1q_s8(x[b].qs + 16), vld1q_s8(y[b].qs + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), f16_to_f32(x[b].d) * f16_to_f32(y[b].d));
    }
    return vaddvq_f32(acc);
}

float dot_q4_0(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ4_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    float32x4_t acc = vdupq_n_f32(0);
    const uint8x16_t m4 = vdupq_n_u8(15);
    const int8x16_t eight = vdupq_n_s8(8);
    for (int b = 0; b < n / QK4_0; b++) {
        const uint8x16_t q = vld1q_u8(x[b].qs);
        const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, m4)), eight);
        const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight);
        int32x4_t s = dot16(vdupq_n_s32(0), lo, vld1q_s8(y[b].qs));
        s = dot16(s, hi, vld1q_s8(y[b].qs + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), f16_to_f32(x[b].d) * f16_to_f32(y[b].d));
    }
    return vaddvq_f32(acc);
}

float dot_q4_k(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ4_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    float sum = 0;
    const uint8x16_t m4 = vdupq_n_u8(15);
    for (int b = 0; b < n / QK_K; b++) {
        uint8_t sc[8];
        const int summin = q4_k_scales_and_summin(x[b].scales, y[b].bsums, sc);
        int sumi = 0;
        for (int p = 0; p < 4; p++) {
            const uint8_t* q = x[b].qs + 32 * p;
            const int8_t* q8 = y[b].qs + 64 * p;
            int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0);
            for (int k = 0; k < 2; k++) {
                const uint8x16_t v = vld1q_u8(q + 16 * k);
                lo = dot16(lo, vreinterpretq_s8_u8(vandq_u8(v, m4)), vld1q_s8(q8 + 16 * k));
                hi = dot16(hi, vreinterpretq_s8_u8(vshrq_n_u8(v, 4)), vld1q_s8(q8 + 32 + 16 * k));
            }
            sumi += sc[2 * p] * vaddvq_s32(lo) + sc[2 * p + 1] * vaddvq_s32(hi);
        }
        sum += y[b].d * (f16_to_f32(x[b].d) * float(sumi) - f16_to_f32(x[b].dmin) * float(summin));
    }
    return sum;
}

float dot_q6_k(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ6_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    float sum = 0;
    const uint8x16_t m4 = vdupq_n_u8(15), m2 = vdupq_n_u8(3);
    for (int b = 0; b < n / QK_K; b++) {
        const int offset = q6_k_scaled_bsum(x[b].scales, y[b].bsums);
        int sumi = 0;
        for (int h = 0; h < 2; h++) {
            const uint8_t* ql = x[b].ql + 64 * h;
            const uint8_t* qh = x[b].qh + 32 * h;
            const int8_t* q8 = y[b].qs + 128 * h;
            const int8_t* sc = x[b].scales + 8 * h;
            for (int k = 0; k < 2; k++) { // l = 16k .. 16k+15: sub-blocks k, k+2, k+4, k+6
                const uint8x16_t l0 = vld1q_u8(ql + 16 * k), l1 = vld1q_u8(ql + 32 + 16 * k);
                const uint8x16_t hb = vld1q_u8(qh + 16 * k);
                const uint8x16_t q1 = vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(hb, m2), 4));
                const uint8x16_t q2 =
                    vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), m2), 4));
                const uint8x16_t q3 =
                    vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), m2), 4));
                const uint8x16_t q4 = vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4));
                const uint8x16_t qs[4] = {q1, q2, q3, q4};
                for (int j = 0; j < 4; j++) {
                    const int32x4_t d = dot16(vdupq_n_s32(0), vreinterpretq_s8_u8(qs[j]),
                                              vld1q_s8(q8 + 32 * j + 16 * k));
                    sumi += sc[k + 2 * j] * vaddvq_s32(d);
                }
            }
        }
        sum += y[b].d * f16_to_f32(x[b].d) * float(sumi - 32 * offset);
    }
    return sum;
}

void rmsnorm(int n, const float* x, const float* w, float eps, float* y) {
    float32x4_t acc = vdupq_n_f32(0);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t v = vld1q_f32(x + i);
        acc = vfmaq_f32(acc, v, v);
    }
    double ss = vaddvq_f32(acc);
    for (; i < n; i++) ss += double(x[i]) * x[i];
    const float scale = float(1.0 / std::sqrt(ss / n + eps));
    for (i = 0; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vmulq_f32(vmulq_n_f32(vld1q_f32(x + i), scale), vld1q_f32(w + i)));
    for (; i < n; i++) y[i] = x[i] * scale * w[i];
}

// e^x for 4 floats (same method as the AVX2 file: x = n ln2 + r, degree-6 polynomial, 2^n in
// the exponent bits; inputs clamped to [-87, 88]).
inline float32x4_t exp4(float32x4_t x) {
    x = vmaxq_f32(vminq_f32(x, vdupq_n_f32(88.0f)), vdupq_n_f32(-87.0f));
    const float32x4_t n = vrndnq_f32(vmulq_n_f32(x, 1.44269504f));
    float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693145752f));
    r = vfmsq_f32(r, n, vdupq_n_f32(1.42860677e-6f));
    float32x4_t p = vdupq_n_f32(1.0f / 720);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 120), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 24), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 6), p, r);
    p = vfmaq_f32(vdupq_n_f32(0.5f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    const int32x4_t e = vshlq_n_s32(vcvtq_s32_f32(n), 23);
    return vreinterpretq_f32_s32(vaddq_s32(vreinterpretq_s32_f32(p), e));
}

void softmax(int n, float* x) {
    int i = 0;
    float32x4_t vm = vdupq_n_f32(-INFINITY);
    for (; i + 4 <= n; i += 4) vm = vmaxq_f32(vm, vld1q_f32(x + i));
    float max = vmaxvq_f32(vm);
    for (; i < n; i++) max = std::fmax(max, x[i]);
    float32x4_t vs = vdupq_n_f32(0);
    for (i = 0; i + 4 <= n; i += 4) {
        const float32x4_t e = exp4(vsubq_f32(vld1q_f32(x + i), vdupq_n_f32(max)));
        vst1q_f32(x + i, e);
        vs = vaddq_f32(vs, e);
    }
    double sum = vaddvq_f32(vs);
    for (; i < n; i++) sum += x[i] = std::exp(x[i] - max);
    const float inv = float(1.0 / sum);
    for (i = 0; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_n_f32(vld1q_f32(x + i), inv));
    for (; i < n; i++) x[i] *= inv;
}

void swiglu(int n, const float* gate, const float* up, float* out) {
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t g = vld1q_f32(gate + i);
        const float32x4_t silu = vdivq_f32(g, vaddq_f32(vdupq_n_f32(1.0f), exp4(vnegq_f32(g))));
        vst1q_f32(out + i, vmulq_f32(silu, vld1q_f32(up + i)));
    }
    if (i < n) swiglu_ref(n - i, gate + i, up + i, out + i);
}

void geglu(int n, const float* gate, const float* up, float* out) {
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t g = vld1q_f32(gate + i);
        const float32x4_t y =
            vmulq_n_f32(vfmaq_f32(g, vmulq_n_f32(g, 0.044715f), vmulq_f32(g, g)), 0.7978845608f);
        const float32x4_t t = vsubq_f32(
            vdupq_n_f32(1.0f),
            vdivq_f32(vdupq_n_f32(2.0f), vaddq_f32(exp4(vmulq_n_f32(y, 2.0f)), vdupq_n_f32(1.0f))));
        vst1q_f32(out + i,
                  vmulq_f32(vmulq_f32(vmulq_n_f32(g, 0.5f), vaddq_f32(vdupq_n_f32(1.0f), t)),
                            vld1q_f32(up + i)));
    }
    if (i < n) geglu_ref(n - i, gate + i, up + i, out + i);
}

void rope(const RopeParams& p, const float* inv_freq, int pos, float* x, int n_heads) {
    const int half = p.rope_dim / 2;
    if (half > 256 || half % 4 != 0) {
        rope_apply_ref(p, inv_freq, pos, x, n_heads);
        return;
    }
    float c[256], s[256];
    for (int i = 0; i < half; i++) {
        const double angle = double(pos) * inv_freq[i];
        c[i] = float(std::cos(angle)), s[i] = float(std::sin(angle));
    }
    for (int h = 0; h < n_heads; h++) {
        float* v = x + size_t(h) * size_t(p.head_dim);
        for (int i = 0; i < half; i += 4) {
            const float32x4_t ci = vld1q_f32(c + i), si = vld1q_f32(s + i);
            if (p.neox) {
                const float32x4_t a = vld1q_f32(v + i), b = vld1q_f32(v + i + half);
                vst1q_f32(v + i, vfmsq_f32(vmulq_f32(a, ci), b, si));
                vst1q_f32(v + i + half, vfmaq_f32(vmulq_f32(a, si), b, ci));
            } else { // adjacent pairs: de-interleave 4 pairs
                float32x4x2_t ab = vld2q_f32(v + 2 * i);
                const float32x4_t a = ab.val[0], b = ab.val[1];
                ab.val[0] = vfmsq_f32(vmulq_f32(a, ci), b, si);
                ab.val[1] = vfmaq_f32(vmulq_f32(a, si), b, ci);
                vst2q_f32(v + 2 * i, ab);
            }
        }
    }
}

void dequantize_q8_0(const void* vx, float* y, int n) {
    const auto* x = static_cast<const BlockQ8_0*>(vx);
    for (int b = 0; b < n / QK8_0; b++, y += QK8_0) {
        const float d = f16_to_f32(x[b].d);
        for (int k = 0; k < 32; k += 8) {
            const int16x8_t w = vmovl_s8(vld1_s8(x[b].qs + k));
            vst1q_f32(y + k, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(w))), d));
            vst1q_f32(y + k + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(w)), d));
        }
    }
}

void dequantize_q4_0(const void* vx, float* y, int n) {
    const auto* x = static_cast<const BlockQ4_0*>(vx);
    for (int b = 0; b < n / QK4_0; b++, y += QK4_0) {
        const float d = f16_to_f32(x[b].d);
        const uint8x16_t q = vld1q_u8(x[b].qs);
        const int8x16_t halves[2] = {
            vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(15))), vdupq_n_s8(8)),
            vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), vdupq_n_s8(8))};
        for (int h = 0; h < 2; h++) {
            const int16x8_t lo = vmovl_s8(vget_low_s8(halves[h])), hi = vmovl_high_s8(halves[h]);
            vst1q_f32(y + 16 * h, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), d));
            vst1q_f32(y + 16 * h + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(lo)), d));
            vst1q_f32(y + 16 * h + 8, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), d));
            vst1q_f32(y + 16 * h + 12, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(hi)), d));
        }
    }
}

// Rows of any type to floats: F16, BF16, Q8_0 and Q4_0 with NEON, the K-quants by reference.
void dequantize(DType t, const void* x, float* y, int n) {
    const auto* h = static_cast<const uint8_t*>(x);
    int i = 0;
    switch (t) {
    case DType::F16:
        for (; i + 4 <= n; i += 4) {
            uint16_t v[4];
            std::memcpy(v, h + 2 * i, 8);
            vst1q_f32(y + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(v))));
        }
        if (i < n) dequantize_row_ref(t, h + 2 * i, y + i, n - i);
        return;
    case DType::BF16:
        for (; i + 4 <= n; i += 4) {
            uint16_t v[4];
            std::memcpy(v, h + 2 * i, 8);
            vst1q_f32(y + i, vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(v), 16)));
        }
        if (i < n) dequantize_row_ref(t, h + 2 * i, y + i, n - i);
        return;
    case DType::Q8_0:
        dequantize_q8_0(x, y, n);
        return;
    case DType::Q4_0:
        dequantize_q4_0(x, y, n);
        return;
    default:
        dequantize_row_ref(t, x, y, n);
        return;
    }
}

struct NeonPrims {
    static void load(DType t, const uint8_t* row, float* out, int n) {
        if (t == DType::F32) {
            std::memcpy(out, row, size_t(n) * 4);
            return;
        }
        if (t == DType::Q8_0) {
            dequantize_q8_0(row, out, n);
            return;
        }
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            uint16_t h[4];
            std::memcpy(h, row + 2 * i, 8);
            vst1q_f32(out + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h))));
        }
        for (; i < n; i++) {
            uint16_t h;
            std::memcpy(&h, row + 2 * i, 2);
            out[i] = f16_to_f32(h);
        }
    }
    static float dot(const float* a, const float* b, int n) {
        float32x4_t acc = vdupq_n_f32(0);
        int i = 0;
        for (; i + 4 <= n; i += 4) acc = vfmaq_f32(acc, vld1q_f32(a + i), vld1q_f32(b + i));
        float s = vaddvq_f32(acc);
        for (; i < n; i++) s += a[i] * b[i];
        return s;
    }
    static void axpy(float a, const float* x, float* y, int n) {
        int i = 0;
        for (; i + 4 <= n; i += 4)
            vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
        for (; i < n; i++) y[i] += a * x[i];
    }
    static void scale(float* y, float a, int n) {
        int i = 0;
        for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vmulq_n_f32(vld1q_f32(y + i), a));
        for (; i < n; i++) y[i] *= a;
    }
    // 8 rows at a time: 8 independent FMA chains, reduced by pairwise adds into 2 registers
    static void dots(const float* q, const float* rows, int n_rows, int n, float scale,
                     float* out) {
        int j = 0;
        if (n % 4 == 0)
            for (; j + 8 <= n_rows; j += 8) {
                const float* r = rows + size_t(j) * size_t(n);
                float32x4_t acc[8];
                for (int k = 0; k < 8; k++) acc[k] = vdupq_n_f32(0);
                for (int i = 0; i < n; i += 4) {
                    const float32x4_t qv = vld1q_f32(q + i);
                    for (int k = 0; k < 8; k++)
                        acc[k] = vfmaq_f32(acc[k], qv, vld1q_f32(r + size_t(k) * n + i));
                }
                const float32x4_t lo =
                    vpaddq_f32(vpaddq_f32(acc[0], acc[1]), vpaddq_f32(acc[2], acc[3]));
                const float32x4_t hi =
                    vpaddq_f32(vpaddq_f32(acc[4], acc[5]), vpaddq_f32(acc[6], acc[7]));
                vst1q_f32(out + j, vmulq_n_f32(lo, scale));
                vst1q_f32(out + j + 4, vmulq_n_f32(hi, scale));
            }
        for (; j < n_rows; j++) out[j] = dot(q, rows + size_t(j) * size_t(n), n) * scale;
    }
    // y kept in W registers over all rows
    template <int W>
    static int axpys_pass(const float* s, const float* rows, int n_rows, int n, float* y, int i) {
        for (; i + 4 * W <= n; i += 4 * W) {
            float32x4_t acc[W];
            for (int w = 0; w < W; w++) acc[w] = vld1q_f32(y + i + 4 * w);
            for (int j = 0; j < n_rows; j++) {
                const float* r = rows + size_t(j) * size_t(n) + i;
                for (int w = 0; w < W; w++)
                    acc[w] = vfmaq_n_f32(acc[w], vld1q_f32(r + 4 * w), s[j]);
            }
            for (int w = 0; w < W; w++) vst1q_f32(y + i + 4 * w, acc[w]);
        }
        return i;
    }
    static void axpys(const float* s, const float* rows, int n_rows, int n, float* y) {
        int i = axpys_pass<16>(s, rows, n_rows, n, y, 0);
        i = axpys_pass<4>(s, rows, n_rows, n, y, i);
        i = axpys_pass<1>(s, rows, n_rows, n, y, i);
        for (; i < n; i++)
            for (int j = 0; j < n_rows; j++) y[i] += s[j] * rows[size_t(j) * size_t(n) + size_t(i)];
    }
    static float exp(float x) { return std::exp(x); }
    static float exp_sum(float* x, int n, float m) {
        float32x4_t acc = vdupq_n_f32(0.0f);
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            const float32x4_t e = exp4(vsubq_f32(vld1q_f32(x + j), vdupq_n_f32(m)));
            vst1q_f32(x + j, e);
            acc = vaddq_f32(acc, e);
        }
        float s = vaddvq_f32(acc);
        for (; j < n; j++) s += x[j] = std::exp(x[j] - m);
        return s;
    }
};

#include "ops/attention_impl.h"

void attention(const AttentionArgs& a, int g0, int g1) { attention_impl<NeonPrims>(a, g0, g1); }

// Interleave8 Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and IQ4_NL (core/interleave.h) x Q8_0, T tokens per
// pass over a group's blocks. A 16-byte load holds 4 quant bytes of 4 rows; against the token's 4
// matching activation bytes copied to every lane, each int32 lane collects its own row: no
// horizontal sums. Piece c of the nibble types holds values 4c.. (low nibbles) and 16 + 4c..
// (high): Q4_0's made signed by -8 here, IQ4_NL's looked up in its 16 levels (TBL), Q5's given
// their fifth bits (Q5_0's then less 16), Q4_1/Q5_1's levels 0..31 taken as they are and their
// minimums added as m dy x the token's block sum; Q8_0's pieces c and c + 4 hold them as they are.
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
    for (int g = 0; g < n_groups; g++) {
        const uint8_t* group = w + size_t(g) * group_bytes;
        float32x4_t acc[T][2];
        for (int u = 0; u < T; u++) acc[u][0] = acc[u][1] = vdupq_n_f32(0);
        for (int b = 0; b < nb; b++) {
            const uint8_t* blk = group + size_t(b) * kBlock;
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
                        int32x4_t yl, yh;
                        switch (c) { // the lane index must be a constant
                        case 0:
                            yl = vdupq_laneq_s32(ylo[u], 0), yh = vdupq_laneq_s32(yhi[u], 0);
                            break;
                        case 1:
                            yl = vdupq_laneq_s32(ylo[u], 1), yh = vdupq_laneq_s32(yhi[u], 1);
                            break;
                        case 2:
                            yl = vdupq_laneq_s32(ylo[u], 2), yh = vdupq_laneq_s32(yhi[u], 2);
                            break;
                        default:
                            yl = vdupq_laneq_s32(ylo[u], 3), yh = vdupq_laneq_s32(yhi[u], 3);
                            break;
                        }
                        s[u][h] = dot4x4(s[u][h], lo, vreinterpretq_s8_s32(yl));
                        s[u][h] = dot4x4(s[u][h], hi, vreinterpretq_s8_s32(yh));
                    }
                }
            // the 8 rows' scales (and minimums) as floats
            auto f16x8 = [](const uint8_t* p, float32x4_t* v) {
                uint16_t d[8];
                std::memcpy(d, p, 16);
                float f[8];
                for (int k = 0; k < 8; k++) f[k] = f16_to_f32(d[k]);
                v[0] = vld1q_f32(f), v[1] = vld1q_f32(f + 4);
            };
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
        }
        for (int u = 0; u < T; u++) {
            vst1q_f32(out[u] + 8 * g, acc[u][0]);
            vst1q_f32(out[u] + 8 * g + 4, acc[u][1]);
        }
    }
}

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
    for (int t = 0; t < n_tokens; t++) {
        const auto* y = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(act) +
                                                           size_t(t) * act_stride);
        for (int g = 0; g < n_groups; g++) {
            const uint8_t* group = static_cast<const uint8_t*>(w) + size_t(g) * group_bytes;
            float32x4_t acc[2] = {vdupq_n_f32(0), vdupq_n_f32(0)};
            for (int b = 0; b < nb; b++) {
                const uint8_t* blk = group + size_t(b) * 8 * sizeof(Block);
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
                    const int Y = y[b].bsums[2 * s] + y[b].bsums[2 * s + 1];
                    const int p = s / 2;
                    int32x4_t dots[2] = {vdupq_n_s32(0), vdupq_n_s32(0)};
                    for (int i = 0; i < 8; i++) {
                        int32_t yw;
                        std::memcpy(&yw, y[b].qs + 64 * p + 32 * (s % 2) + 4 * i, 4);
                        const int8x16_t yv = vreinterpretq_s8_s32(vdupq_n_s32(yw));
                        for (int h = 0; h < 2; h++) {
                            const uint8x16_t q = vld1q_u8(blk + kQs + 256 * p + 32 * i + 16 * h);
                            uint8x16_t nib = s % 2 ? vshrq_n_u8(q, 4) : vandq_u8(q, m4);
                            if constexpr (kQh >= 0) // bit s to bit 4 (a negative shift: right)
                                nib = vorrq_u8(
                                    nib, vandq_u8(vshlq_u8(vld1q_u8(blk + kQh + 32 * i + 16 * h),
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
                for (int h = 0; h < 2; h++) {
                    float d[4], dmin[4];
                    for (int k = 0; k < 4; k++) {
                        uint16_t dh, mh;
                        std::memcpy(&dh, blk + 2 * (4 * h + k), 2);
                        std::memcpy(&mh, blk + 16 + 2 * (4 * h + k), 2);
                        d[k] = f16_to_f32(dh), dmin[k] = f16_to_f32(mh);
                    }
                    const float32x4_t v =
                        vsubq_f32(vmulq_f32(vld1q_f32(d), vcvtq_f32_s32(sumi[h])),
                                  vmulq_f32(vld1q_f32(dmin), vcvtq_f32_s32(summin[h])));
                    acc[h] = vmlaq_n_f32(acc[h], v, y[b].d);
                }
            }
            vst1q_f32(out + size_t(t) * out_stride + 8 * size_t(g), acc[0]);
            vst1q_f32(out + size_t(t) * out_stride + 8 * size_t(g) + 4, acc[1]);
        }
    }
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
    for (int t = 0; t < n_tokens; t++) {
        const auto* y = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(act) +
                                                           size_t(t) * act_stride);
        for (int g = 0; g < n_groups; g++) {
            const uint8_t* group = static_cast<const uint8_t*>(w) + size_t(g) * group_bytes;
            float32x4_t acc[2] = {vdupq_n_f32(0), vdupq_n_f32(0)};
            for (int b = 0; b < nb; b++) {
                const uint8_t* blk = group + size_t(b) * 8 * sizeof(BlockQ6_K);
                const uint8_t* sc = blk + 1536;
                int32x4_t sumi[2] = {vdupq_n_s32(0), vdupq_n_s32(0)};
                for (int h = 0; h < 2; h++) {
                    const int8_t* q8 = y[b].qs + 128 * h;
                    for (int is = 0; is < 2; is++) {
                        int32x4_t d[4][2];
                        for (int k = 0; k < 4; k++) d[k][0] = d[k][1] = vdupq_n_s32(0);
                        for (int j = 0; j < 4; j++) {
                            const int i = 4 * is + j;
                            int8x16_t yv[4];
                            for (int k = 0; k < 4; k++) {
                                int32_t yw;
                                std::memcpy(&yw, q8 + 32 * k + 4 * i, 4);
                                yv[k] = vreinterpretq_s8_s32(vdupq_n_s32(yw));
                            }
                            for (int r = 0; r < 2; r++) { // rows 0..3, 4..7
                                const uint8x16_t A = vld1q_u8(blk + 32 * (16 * h + i) + 16 * r);
                                const uint8x16_t B = vld1q_u8(blk + 32 * (16 * h + 8 + i) + 16 * r);
                                const uint8x16_t H =
                                    vld1q_u8(blk + 1024 + 32 * (8 * h + i) + 16 * r);
                                d[0][r] = dot4x4(
                                    d[0][r], val(vandq_u8(A, m4), vandq_u8(vshlq_n_u8(H, 4), m30)),
                                    yv[0]);
                                d[1][r] = dot4x4(
                                    d[1][r], val(vandq_u8(B, m4), vandq_u8(vshlq_n_u8(H, 2), m30)),
                                    yv[1]);
                                d[2][r] =
                                    dot4x4(d[2][r], val(vshrq_n_u8(A, 4), vandq_u8(H, m30)), yv[2]);
                                d[3][r] = dot4x4(
                                    d[3][r], val(vshrq_n_u8(B, 4), vandq_u8(vshrq_n_u8(H, 2), m30)),
                                    yv[3]);
                            }
                        }
                        for (int k = 0; k < 4; k++) { // quarter k: sub-block 8h + 2k + is
                            const int16x8_t s16 = vmovl_s8(vld1_s8(
                                reinterpret_cast<const int8_t*>(sc) + 8 * (8 * h + 2 * k + is)));
                            sumi[0] = vmlaq_s32(sumi[0], d[k][0], vmovl_s16(vget_low_s16(s16)));
                            sumi[1] = vmlaq_s32(sumi[1], d[k][1], vmovl_s16(vget_high_s16(s16)));
                        }
                    }
                }
                for (int r = 0; r < 2; r++) {
                    float dw[4];
                    for (int k = 0; k < 4; k++) {
                        uint16_t dh;
                        std::memcpy(&dh, blk + 1664 + 2 * (4 * r + k), 2);
                        dw[k] = f16_to_f32(dh);
                    }
                    acc[r] = vmlaq_f32(acc[r], vmulq_n_f32(vld1q_f32(dw), y[b].d),
                                       vcvtq_f32_s32(sumi[r]));
                }
            }
            vst1q_f32(out + size_t(t) * out_stride + 8 * size_t(g), acc[0]);
            vst1q_f32(out + size_t(t) * out_stride + 8 * size_t(g) + 4, acc[1]);
        }
    }
}

template <X8Kind kKind>
void x8_tokens(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
               size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
               size_t out_stride) {
    const int nb = n / QK8_0;
    const auto* wb = static_cast<const uint8_t*>(w);
    const auto* ab = static_cast<const uint8_t*>(act);
    const BlockQ8_0* y[4];
    const int32_t* s[4];
    float* o[4];
    auto take = [&](int t, int count) {
        for (int u = 0; u < count; u++) {
            y[u] = reinterpret_cast<const BlockQ8_0*>(ab + size_t(t + u) * act_stride);
            s[u] = bsums ? bsums + size_t(t + u) * size_t(nb) : nullptr;
            o[u] = out + size_t(t + u) * out_stride;
        }
    };
    int t = 0;
    for (; t + 4 <= n_tokens; t += 4) {
        take(t, 4);
        x8_groups<4, kKind>(nb, wb, group_bytes, n_groups, y, s, o);
    }
    for (; t < n_tokens; t++) {
        take(t, 1);
        x8_groups<1, kKind>(nb, wb, group_bytes, n_groups, y, s, o);
    }
}

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

} // namespace

#ifdef __ARM_FEATURE_DOTPROD
#define STRATA_ROW_NAME "neon_dotprod"
#else
#define STRATA_ROW_NAME "neon"
#endif

namespace {

// Types without an entry here use the reference row's dot product (ops/kernels.cpp).
constexpr Kernels make_neon_row() {
    Kernels k{.name = STRATA_ROW_NAME};
    k[DType::F32].dot = dot_f32;
    k[DType::F16] = {.dot = dot_f16, .rows = dot_rows_half<HalfF16>};
    k[DType::BF16] = {.dot = dot_bf16, .rows = dot_rows_half<HalfBF16>};
    k[DType::Q8_0] = {.dot = dot_q8_0, .x8 = dot_x8_q8_0, .quantize = quantize_q8_0_ref};
    k[DType::Q4_0] = {.dot = dot_q4_0, .x8 = dot_x8_q4_0};
    k[DType::Q4_K] = {.dot = dot_q4_k, .x8 = dot_x8_k<BlockQ4_K, 128, -1>};
    k[DType::Q6_K] = {.dot = dot_q6_k, .x8 = dot_x8_q6_k};
    k[DType::Q8_K].quantize = quantize_q8_k_ref;
    STRATA_NEON_TYPES_NS::set_new_type_dots(k); // Q4_1, Q5_0, Q5_1, IQ4_NL
    k[DType::IQ4_NL].x8 = dot_x8_iq4_nl;
    k[DType::Q5_0].x8 = dot_x8_q5_0;
    k[DType::Q4_1].x8 = dot_x8_q4_1;
    k[DType::Q5_1].x8 = dot_x8_q5_1;
    k[DType::Q5_K].x8 = dot_x8_k<BlockQ5_K, 384, 128>;
    k[DType::Q2_K].x8 = STRATA_NEON_TYPES_NS::dot_x8_q2_k;
    k[DType::Q3_K].x8 = STRATA_NEON_TYPES_NS::dot_x8_q3_k;
    k[DType::IQ4_XS].x8 = STRATA_NEON_TYPES_NS::dot_x8_iq4_xs;
    k.rmsnorm = rmsnorm;
    k.softmax = softmax;
    k.swiglu = swiglu;
    k.geglu = geglu;
    k.rope = rope;
    k.attention = attention;
    k.dequantize = dequantize;
    return k;
}

constinit const Kernels kRow = make_neon_row();

} // namespace

const Kernels* STRATA_NEON_ROW() { return &kRow; }

} // namespace strata
