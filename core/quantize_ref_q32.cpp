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

namespace {

// The level index nearest to each integer -128..127 (ties to the upper level), and the midpoints
// between consecutive levels: for v in [k, k + 1) the nearest level is kNearest[k] or the next
// one (levels are at least 11 apart, so at most one midpoint falls in a unit interval). The scale
// search calls this about 70 times per value; a binary search made IQ4 quantization ~2 us/value.
struct Iq4Nearest {
    uint8_t at_int[256];
    float mid[15];
    constexpr Iq4Nearest() : at_int{}, mid{} {
        for (int i = 0; i < 15; i++) mid[i] = 0.5f * (kIq4nlValues[i] + kIq4nlValues[i + 1]);
        for (int k = -128; k < 128; k++) {
            int i = 0;
            while (i < 15 && float(k) >= mid[i]) i++;
            at_int[k + 128] = uint8_t(i);
        }
    }
};
constexpr Iq4Nearest kIq4Nearest;

} // namespace

int iq4_nearest_level(float v) {
    if (!(v > kIq4nlValues[0])) return 0; // (NaN too)
    if (v >= kIq4nlValues[15]) return 15;
    int i = kIq4Nearest.at_int[int(std::floor(v)) + 128];
    if (i < 15 && v >= kIq4Nearest.mid[i]) i++;
    return i;
}

float fit_scale_iq4(const float* x, int n) {
    float amax = 0, max = 0;
    for (int i = 0; i < n; i++)
        if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
    if (amax == 0) return 0;
    // The largest magnitude mapped near either end of the levels; each trial's levels get their
    // least-squares scale d = sum(l x) / sum(l l), whose squared error is sum(x x) - (sum(l x))^2 /
    // sum(l l): the trial with the largest (sum l x)^2 / sum(l l) wins (one pass per trial).
    float best = max / kIq4nlValues[0];
    double best_gain = -1;
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
            const double gain = sqx * sqx / sqq;
            if (gain > best_gain) best_gain = gain, best = float(sqx / sqq);
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
