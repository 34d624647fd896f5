// NEON kernels for aarch64. Compiled twice: with -march=armv8.2-a+dotprod (byte dot products
// with SDOT) and with plain armv8-a (widening multiplies). The build passes STRATA_NEON_ROW to
// name the row's getter. Row-major dot products of the other types: dot_new_types_neon.cpp; the
// interleave8 kernels: dot_x8_*_neon.cpp (dot_x8_neon.h).
#include "core/half.h"
#include "core/quant_blocks.h"
#include "core/quantize_ref.h"
#include "ops/arm/dot_x8_neon.h"
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
    k[DType::Q8_0] = {.dot = dot_q8_0, .quantize = quantize_q8_0_ref};
    k[DType::Q4_0].dot = dot_q4_0;
    k[DType::Q4_K].dot = dot_q4_k;
    k[DType::Q6_K].dot = dot_q6_k;
    k[DType::Q8_K].quantize = quantize_q8_k_ref;
    STRATA_NEON_TYPES_NS::set_new_type_dots(k); // dot_new_types_neon.cpp's types
    STRATA_NEON_TYPES_NS::set_x8_kernels(k);    // every interleave8 type
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
