// Scalar reference dot products: each weight type against its activation type.
#include "ops/dot_ref.h"
#include "core/half.h"
#include "core/quant_blocks.h"
#include "core/quantize_ref.h"

#include <cstring>

namespace strata {

float dot_f32_ref(int n, const void* w, const void* a) {
    const float* x = static_cast<const float*>(w);
    const float* y = static_cast<const float*>(a);
    float sum = 0;
    for (int i = 0; i < n; i++) sum += x[i] * y[i];
    return sum;
}

float dot_f16_ref(int n, const void* w, const void* a) {
    const uint16_t* x = static_cast<const uint16_t*>(w);
    const float* y = static_cast<const float*>(a);
    float sum = 0;
    for (int i = 0; i < n; i++) sum += f16_to_f32(x[i]) * y[i];
    return sum;
}

float dot_bf16_ref(int n, const void* w, const void* a) {
    const uint16_t* x = static_cast<const uint16_t*>(w);
    const float* y = static_cast<const float*>(a);
    float sum = 0;
    for (int i = 0; i < n; i++) sum += bf16_to_f32(x[i]) * y[i];
    return sum;
}

float dot_q8_0_ref(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ8_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    float sum = 0;
    for (int b = 0; b < n / QK8_0; b++) {
        int s = 0;
        for (int i = 0; i < QK8_0; i++) s += x[b].qs[i] * y[b].qs[i];
        sum += f16_to_f32(x[b].d) * f16_to_f32(y[b].d) * float(s);
    }
    return sum;
}

float dot_q4_0_ref(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ4_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    float sum = 0;
    for (int b = 0; b < n / QK4_0; b++) {
        int s = 0;
        for (int j = 0; j < QK4_0 / 2; j++) {
            s += ((x[b].qs[j] & 15) - 8) * y[b].qs[j];
            s += ((x[b].qs[j] >> 4) - 8) * y[b].qs[j + QK4_0 / 2];
        }
        sum += f16_to_f32(x[b].d) * f16_to_f32(y[b].d) * float(s);
    }
    return sum;
}

float dot_q4_k_ref(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ4_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    float sum = 0;
    for (int b = 0; b < n / QK_K; b++) {
        int sumi = 0, summin = 0;
        for (int p = 0; p < 4; p++) {
            uint8_t sc0, m0, sc1, m1;
            q4_k_scale_min(2 * p, x[b].scales, &sc0, &m0);
            q4_k_scale_min(2 * p + 1, x[b].scales, &sc1, &m1);
            int s0 = 0, s1 = 0;
            for (int l = 0; l < 32; l++) {
                s0 += (x[b].qs[32 * p + l] & 15) * y[b].qs[64 * p + l];
                s1 += (x[b].qs[32 * p + l] >> 4) * y[b].qs[64 * p + 32 + l];
            }
            sumi += sc0 * s0 + sc1 * s1;
            summin += m0 * (y[b].bsums[4 * p] + y[b].bsums[4 * p + 1]) +
                      m1 * (y[b].bsums[4 * p + 2] + y[b].bsums[4 * p + 3]);
        }
        sum += y[b].d * (f16_to_f32(x[b].d) * float(sumi) - f16_to_f32(x[b].dmin) * float(summin));
    }
    return sum;
}

float dot_q6_k_ref(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ6_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    float sum = 0;
    for (int b = 0; b < n / QK_K; b++) {
        int sumi = 0;
        for (int h = 0; h < 2; h++) {
            const uint8_t* ql = x[b].ql + 64 * h;
            const uint8_t* qh = x[b].qh + 32 * h;
            const int8_t* q8 = y[b].qs + 128 * h;
            int sub[8] = {};
            for (int l = 0; l < 32; l++) {
                const int q1 = ((ql[l] & 15) | ((qh[l] & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                const int is = l / 16;
                sub[is + 0] += q1 * q8[l];
                sub[is + 2] += q2 * q8[l + 32];
                sub[is + 4] += q3 * q8[l + 64];
                sub[is + 6] += q4 * q8[l + 96];
            }
            for (int s = 0; s < 8; s++) sumi += x[b].scales[8 * h + s] * sub[s];
        }
        sum += y[b].d * f16_to_f32(x[b].d) * float(sumi);
    }
    return sum;
}

void quantize_q8_0_ref(const float* x, void* y, int n) { quantize_row_q8_0_ref(x, y, n); }
void quantize_q8_k_ref(const float* x, void* y, int n) { quantize_row_q8_k_ref(x, y, n); }

} // namespace strata
