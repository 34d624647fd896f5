// Reference quantization of the 32-value block types beside Q4_0/Q8_0: Q4_1, Q5_0, Q5_1 and
// IQ4_NL (block layouts in core/quant_blocks.h). Q4_1/Q5_0/Q5_1 quantize as GGUF defines them
// (min/max or largest-magnitude scale, round to nearest); IQ4_NL searches the scale that
// minimizes the squared error on its non-uniform levels.
#include "core/half.h"
#include "core/quant_blocks.h"
#include "core/quantize_fit.h"
#include "core/quantize_ref.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace strata {

namespace {

// Round-to-nearest level of a min/max range: q in [0, qmax].
int level(float v, float id, int qmax) {
    return std::clamp(int(std::lrintf(std::floor(v * id + 0.5f))), 0, qmax);
}

void min_max(const float* x, int n, float* lo, float* hi) {
    *lo = x[0], *hi = x[0];
    for (int i = 1; i < n; i++) *lo = std::min(*lo, x[i]), *hi = std::max(*hi, x[i]);
}

void put_qh(uint8_t qh[4], uint32_t bits) { std::memcpy(qh, &bits, 4); }

} // namespace

// ---- Q4_1 --------------------------------------------------------------------------------

void quantize_row_q4_1_ref(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<BlockQ4_1*>(vy);
    for (int64_t b = 0; b < n / QK4_1; b++, x += QK4_1) {
        float lo, hi;
        min_max(x, QK4_1, &lo, &hi);
        const float d = (hi - lo) / 15.0f, id = d != 0 ? 1.0f / d : 0.0f;
        y[b].d = f32_to_f16(d);
        y[b].m = f32_to_f16(lo);
        for (int j = 0; j < QK4_1 / 2; j++)
            y[b].qs[j] = uint8_t(level(x[j] - lo, id, 15) | (level(x[j + 16] - lo, id, 15) << 4));
    }
}

void dequantize_row_q4_1_ref(const void* vx, float* y, int64_t n) {
    const auto* x = static_cast<const BlockQ4_1*>(vx);
    for (int64_t b = 0; b < n / QK4_1; b++, y += QK4_1) {
        const float d = f16_to_f32(x[b].d), m = f16_to_f32(x[b].m);
        for (int j = 0; j < QK4_1 / 2; j++) {
            y[j] = d * (x[b].qs[j] & 15) + m;
            y[j + 16] = d * (x[b].qs[j] >> 4) + m;
        }
    }
}

// ---- Q5_0 --------------------------------------------------------------------------------
// As Q4_0: the value of largest magnitude maps to -16 exactly.

void quantize_row_q5_0_ref(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<BlockQ5_0*>(vy);
    for (int64_t b = 0; b < n / QK5_0; b++, x += QK5_0) {
        float amax = 0, max = 0;
        for (int i = 0; i < QK5_0; i++)
            if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
        const float d = max / -16.0f, id = d != 0 ? 1.0f / d : 0.0f;
        y[b].d = f32_to_f16(d);
        uint32_t qh = 0;
        for (int j = 0; j < QK5_0 / 2; j++) {
            const int q0 = std::clamp(int(std::lrintf(std::floor(x[j] * id + 16.5f))), 0, 31);
            const int q1 = std::clamp(int(std::lrintf(std::floor(x[j + 16] * id + 16.5f))), 0, 31);
            y[b].qs[j] = uint8_t((q0 & 15) | ((q1 & 15) << 4));
            qh |= uint32_t(q0 >> 4) << j | uint32_t(q1 >> 4) << (j + 16);
        }
        put_qh(y[b].qh, qh);
    }
}

void dequantize_row_q5_0_ref(const void* vx, float* y, int64_t n) {
    const auto* x = static_cast<const BlockQ5_0*>(vx);
    for (int64_t b = 0; b < n / QK5_0; b++, y += QK5_0) {
        const float d = f16_to_f32(x[b].d);
        for (int j = 0; j < QK5_0; j++) y[j] = d * (q5_value(x[b].qs, x[b].qh, j) - 16);
    }
}

// ---- Q5_1 --------------------------------------------------------------------------------

void quantize_row_q5_1_ref(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<BlockQ5_1*>(vy);
    for (int64_t b = 0; b < n / QK5_1; b++, x += QK5_1) {
        float lo, hi;
        min_max(x, QK5_1, &lo, &hi);
        const float d = (hi - lo) / 31.0f, id = d != 0 ? 1.0f / d : 0.0f;
        y[b].d = f32_to_f16(d);
        y[b].m = f32_to_f16(lo);
        uint32_t qh = 0;
        for (int j = 0; j < QK5_1 / 2; j++) {
            const int q0 = level(x[j] - lo, id, 31), q1 = level(x[j + 16] - lo, id, 31);
            y[b].qs[j] = uint8_t((q0 & 15) | ((q1 & 15) << 4));
            qh |= uint32_t(q0 >> 4) << j | uint32_t(q1 >> 4) << (j + 16);
        }
        put_qh(y[b].qh, qh);
    }
}

void dequantize_row_q5_1_ref(const void* vx, float* y, int64_t n) {
    const auto* x = static_cast<const BlockQ5_1*>(vx);
    for (int64_t b = 0; b < n / QK5_1; b++, y += QK5_1) {
        const float d = f16_to_f32(x[b].d), m = f16_to_f32(x[b].m);
        for (int j = 0; j < QK5_1; j++) y[j] = d * q5_value(x[b].qs, x[b].qh, j) + m;
    }
}

// ---- IQ4_NL ------------------------------------------------------------------------------

int iq4_nearest_level(float v) {
    const int8_t* L = kIq4nlValues;
    if (v <= L[0]) return 0;
    if (v >= L[15]) return 15;
    int lo = 0, hi = 15;
    while (hi - lo > 1) {
        const int mid = (lo + hi) / 2;
        (v < L[mid] ? hi : lo) = mid;
    }
    return v - L[lo] < L[hi] - v ? lo : hi;
}

float fit_scale_iq4(const float* x, int n) {
    float amax = 0, max = 0;
    for (int i = 0; i < n; i++)
        if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
    if (amax == 0) return 0;
    // The largest magnitude mapped near either end of the levels, then a least-squares refit.
    float best = max / kIq4nlValues[0];
    double best_err = INFINITY;
    for (int end : {0, 15})
        for (int step = -8; step <= 8; step++) {
            const float iscale = (kIq4nlValues[end] + 1.0f * step) / max;
            double sqx = 0, sqq = 0;
            for (int i = 0; i < n; i++) {
                const int l = kIq4nlValues[iq4_nearest_level(iscale * x[i])];
                sqx += double(l) * x[i];
                sqq += double(l) * l;
            }
            if (sqq == 0 || sqx == 0) continue;
            const float d = float(sqx / sqq);
            double err = 0;
            for (int i = 0; i < n; i++) {
                const double e = double(d) * kIq4nlValues[iq4_nearest_level(x[i] / d)] - x[i];
                err += e * e;
            }
            if (err < best_err) best_err = err, best = d;
        }
    return best;
}

void quantize_row_iq4_nl_ref(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<BlockIQ4_NL*>(vy);
    for (int64_t b = 0; b < n / QK4_NL; b++, x += QK4_NL) {
        y[b].d = f32_to_f16(fit_scale_iq4(x, QK4_NL));
        const float d = f16_to_f32(y[b].d), id = d != 0 ? 1.0f / d : 0.0f;
        for (int j = 0; j < QK4_NL / 2; j++)
            y[b].qs[j] =
                uint8_t(iq4_nearest_level(x[j] * id) | (iq4_nearest_level(x[j + 16] * id) << 4));
    }
}

void dequantize_row_iq4_nl_ref(const void* vx, float* y, int64_t n) {
    const auto* x = static_cast<const BlockIQ4_NL*>(vx);
    for (int64_t b = 0; b < n / QK4_NL; b++, y += QK4_NL) {
        const float d = f16_to_f32(x[b].d);
        for (int j = 0; j < QK4_NL / 2; j++) {
            y[j] = d * kIq4nlValues[x[b].qs[j] & 15];
            y[j + 16] = d * kIq4nlValues[x[b].qs[j] >> 4];
        }
    }
}

} // namespace strata
