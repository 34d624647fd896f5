#include "core/quantize_ref.h"

#include "core/error.h"
#include "core/half.h"
#include "core/quant_blocks.h"
#include "core/quantize_fit.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace strata {

static inline uint16_t load_u16(const void* p, int64_t i) {
    uint16_t v;
    std::memcpy(&v, static_cast<const uint8_t*>(p) + 2 * i, 2);
    return v;
}
static inline void store_u16(void* p, int64_t i, uint16_t v) {
    std::memcpy(static_cast<uint8_t*>(p) + 2 * i, &v, 2);
}

// ---- Q8_0 --------------------------------------------------------------------------------

void quantize_row_q8_0_ref(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<BlockQ8_0*>(vy);
    for (int64_t b = 0; b < n / QK8_0; b++, x += QK8_0) {
        float amax = 0;
        for (int i = 0; i < QK8_0; i++) amax = std::max(amax, std::fabs(x[i]));
        const float d = amax / 127.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        y[b].d = f32_to_f16(d);
        for (int i = 0; i < QK8_0; i++) y[b].qs[i] = int8_t(nearest_int(x[i] * id));
    }
}

void dequantize_row_q8_0_ref(const void* vx, float* y, int64_t n) {
    const auto* x = static_cast<const BlockQ8_0*>(vx);
    for (int64_t b = 0; b < n / QK8_0; b++, y += QK8_0) {
        const float d = f16_to_f32(x[b].d);
        for (int i = 0; i < QK8_0; i++) y[i] = d * x[b].qs[i];
    }
}

// ---- Q4_0 --------------------------------------------------------------------------------
// The value of largest magnitude maps to -8 exactly, so the asymmetric end of the 4-bit range
// is used where it matters; this is GGUF's definition of the type.

void quantize_row_q4_0_ref(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<BlockQ4_0*>(vy);
    for (int64_t b = 0; b < n / QK4_0; b++, x += QK4_0) {
        float amax = 0, max = 0;
        for (int i = 0; i < QK4_0; i++) {
            if (std::fabs(x[i]) > amax) {
                amax = std::fabs(x[i]);
                max = x[i];
            }
        }
        const float d = max / -8.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        y[b].d = f32_to_f16(d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            // floor(v + 8.5) rounds to the nearest level; lrintf keeps NaN input defined.
            const int q0 = std::clamp(int(std::lrintf(std::floor(x[j] * id + 8.5f))), 0, 15);
            const int q1 =
                std::clamp(int(std::lrintf(std::floor(x[j + QK4_0 / 2] * id + 8.5f))), 0, 15);
            y[b].qs[j] = uint8_t(q0 | (q1 << 4));
        }
    }
}

void dequantize_row_q4_0_ref(const void* vx, float* y, int64_t n) {
    const auto* x = static_cast<const BlockQ4_0*>(vx);
    for (int64_t b = 0; b < n / QK4_0; b++, y += QK4_0) {
        const float d = f16_to_f32(x[b].d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            y[j] = d * ((x[b].qs[j] & 15) - 8);
            y[j + QK4_0 / 2] = d * ((x[b].qs[j] >> 4) - 8);
        }
    }
}

// ---- Q4_K --------------------------------------------------------------------------------

void pack_k_scales_mins(const uint8_t ls[8], const uint8_t lm[8], uint8_t out[K_SCALE_BYTES]) {
    std::memset(out, 0, K_SCALE_BYTES);
    for (int j = 0; j < 8; j++) {
        if (j < 4) {
            out[j] = ls[j];
            out[j + 4] = lm[j];
        } else {
            out[j + 4] = uint8_t((ls[j] & 0xf) | ((lm[j] & 0xf) << 4));
            out[j - 4] |= uint8_t((ls[j] >> 4) << 6);
            out[j] |= uint8_t((lm[j] >> 4) << 6);
        }
    }
}

float fit_scale_min(const float* x, int n, int qmax, float* min_out) {
    float lo = x[0], hi = x[0];
    for (int i = 1; i < n; i++) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
    }
    lo = std::min(lo, 0.0f); // the format stores -min >= 0: the range always includes 0
    if (hi <= lo) {
        *min_out = -lo;
        return 0;
    }
    float best_scale = (hi - lo) / qmax, best_min = -lo, best_err = INFINITY;
    for (int step = -6; step <= 12; step++) {
        const float iscale = (qmax + 0.1f * step) / (hi - lo);
        // Round with this trial step, then solve the 2x2 normal equations for (scale, min).
        double sq = 0, sqq = 0, sx = 0, sqx = 0;
        for (int i = 0; i < n; i++) {
            const int q = std::clamp(nearest_int(iscale * (x[i] - lo)), 0, qmax);
            sq += q;
            sqq += double(q) * q;
            sx += x[i];
            sqx += double(q) * x[i];
        }
        const double det = n * sqq - sq * sq;
        if (det <= 0) continue;
        double scale = (n * sqx - sq * sx) / det;
        double offset = (sqq * sx - sq * sqx) / det; // x ~= scale*q + offset
        if (offset > 0) { // min must be >= 0: refit with offset pinned to 0
            offset = 0;
            scale = sqq > 0 ? sqx / sqq : 0;
        }
        if (scale <= 0) continue;
        double err = 0;
        for (int i = 0; i < n; i++) {
            const int q = std::clamp(nearest_int(float((x[i] - offset) / scale)), 0, qmax);
            const double e = scale * q + offset - x[i];
            err += e * e;
        }
        if (err < best_err) {
            best_err = err;
            best_scale = float(scale);
            best_min = float(-offset);
        }
    }
    *min_out = best_min;
    return best_scale;
}

void quantize_row_q4_k_ref(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<BlockQ4_K*>(vy);
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
        float scales[8], mins[8];
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < 8; j++) {
            scales[j] = fit_scale_min(x + 32 * j, 32, 15, &mins[j]);
            max_scale = std::max(max_scale, scales[j]);
            max_min = std::max(max_min, mins[j]);
        }
        const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
        const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
        uint8_t ls[8], lm[8];
        for (int j = 0; j < 8; j++) {
            ls[j] = uint8_t(std::min(63, nearest_int(inv_scale * scales[j])));
            lm[j] = uint8_t(std::min(63, nearest_int(inv_min * mins[j])));
        }
        BlockQ4_K& blk = y[b];
        pack_k_scales_mins(ls, lm, blk.scales);
        blk.d = f32_to_f16(max_scale / 63.0f);
        blk.dmin = f32_to_f16(max_min / 63.0f);
        // Re-quantize against the scales as they will be decoded.
        const float d = f16_to_f32(blk.d), dmin = f16_to_f32(blk.dmin);
        uint8_t q[QK_K];
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            q4_k_scale_min(j, blk.scales, &sc, &m);
            const float ds = d * sc, dm = dmin * m;
            for (int i = 0; i < 32; i++) {
                const int v = ds != 0 ? nearest_int((x[32 * j + i] + dm) / ds) : 0;
                q[32 * j + i] = uint8_t(std::clamp(v, 0, 15));
            }
        }
        for (int p = 0; p < 4; p++)
            for (int l = 0; l < 32; l++)
                blk.qs[32 * p + l] = uint8_t(q[64 * p + l] | (q[64 * p + 32 + l] << 4));
    }
}

void dequantize_row_q4_k_ref(const void* vx, float* y, int64_t n) {
    const auto* x = static_cast<const BlockQ4_K*>(vx);
    for (int64_t b = 0; b < n / QK_K; b++) {
        const float d = f16_to_f32(x[b].d), dmin = f16_to_f32(x[b].dmin);
        const uint8_t* q = x[b].qs;
        for (int p = 0; p < 4; p++, q += 32) {
            uint8_t sc, m;
            q4_k_scale_min(2 * p, x[b].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            q4_k_scale_min(2 * p + 1, x[b].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xf) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
        }
    }
}

// ---- Q6_K --------------------------------------------------------------------------------

float fit_scale_sym(const float* x, int n, int nmax) {
    float amax = 0, max = 0;
    for (int i = 0; i < n; i++) {
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            max = x[i];
        }
    }
    if (amax == 0) return 0;
    float best_scale = max / -float(nmax), best_err = INFINITY;
    for (int step = -9; step <= 9; step++) {
        const float iscale = -(float(nmax) + 0.1f * step) / max;
        double sqx = 0, sqq = 0;
        for (int i = 0; i < n; i++) {
            const int q = std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1);
            sqx += double(q) * x[i];
            sqq += double(q) * q;
        }
        if (sqq == 0) continue;
        const float scale = float(sqx / sqq);
        double err = 0;
        for (int i = 0; i < n; i++) {
            const int q = std::clamp(nearest_int(x[i] / scale), -nmax, nmax - 1);
            const double e = double(scale) * q - x[i];
            err += e * e;
        }
        if (err < best_err) {
            best_err = err;
            best_scale = scale;
        }
    }
    return best_scale;
}

void quantize_row_q6_k_ref(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<BlockQ6_K*>(vy);
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
        float scales[16];
        float amax = 0, max = 0;
        for (int s = 0; s < 16; s++) {
            scales[s] = fit_scale_sym(x + 16 * s, 16, 32);
            if (std::fabs(scales[s]) > amax) {
                amax = std::fabs(scales[s]);
                max = scales[s];
            }
        }
        BlockQ6_K& blk = y[b];
        const float iscale = max != 0 ? -128.0f / max : 0.0f;
        for (int s = 0; s < 16; s++)
            blk.scales[s] = int8_t(std::min(127, nearest_int(iscale * scales[s])));
        blk.d = f32_to_f16(iscale != 0 ? 1.0f / iscale : 0.0f);
        const float d = f16_to_f32(blk.d);
        uint8_t q[QK_K];
        for (int s = 0; s < 16; s++) {
            const float ds = d * blk.scales[s];
            for (int i = 0; i < 16; i++) {
                const int v = ds != 0 ? nearest_int(x[16 * s + i] / ds) : 0;
                q[16 * s + i] = uint8_t(std::clamp(v, -32, 31) + 32);
            }
        }
        for (int h = 0; h < 2; h++) {
            const uint8_t* qq = q + 128 * h;
            for (int l = 0; l < 32; l++) {
                const uint8_t q1 = qq[l], q2 = qq[l + 32], q3 = qq[l + 64], q4 = qq[l + 96];
                blk.ql[64 * h + l] = uint8_t((q1 & 0xf) | ((q3 & 0xf) << 4));
                blk.ql[64 * h + l + 32] = uint8_t((q2 & 0xf) | ((q4 & 0xf) << 4));
                blk.qh[32 * h + l] =
                    uint8_t((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
        }
    }
}

void dequantize_row_q6_k_ref(const void* vx, float* y, int64_t n) {
    const auto* x = static_cast<const BlockQ6_K*>(vx);
    for (int64_t b = 0; b < n / QK_K; b++) {
        const float d = f16_to_f32(x[b].d);
        for (int h = 0; h < 2; h++, y += 128) {
            const uint8_t* ql = x[b].ql + 64 * h;
            const uint8_t* qh = x[b].qh + 32 * h;
            const int8_t* sc = x[b].scales + 8 * h;
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[is] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
        }
    }
}

// ---- Q8_K --------------------------------------------------------------------------------

void quantize_row_q8_k_ref(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<BlockQ8_K*>(vy);
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
        float amax = 0;
        for (int i = 0; i < QK_K; i++) amax = std::max(amax, std::fabs(x[i]));
        const float d = amax / 127.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        y[b].d = d;
        for (int i = 0; i < QK_K; i++)
            y[b].qs[i] = int8_t(std::clamp(nearest_int(x[i] * id), -127, 127));
        for (int g = 0; g < QK_K / 16; g++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) sum += y[b].qs[16 * g + i];
            y[b].bsums[g] = int16_t(sum);
        }
    }
}

void dequantize_row_q8_k_ref(const void* vx, float* y, int64_t n) {
    const auto* x = static_cast<const BlockQ8_K*>(vx);
    for (int64_t b = 0; b < n / QK_K; b++, y += QK_K)
        for (int i = 0; i < QK_K; i++) y[i] = x[b].d * x[b].qs[i];
}

// ---- floats ------------------------------------------------------------------------------

void quantize_row_f32_ref(const float* x, void* y, int64_t n) { std::memcpy(y, x, size_t(n) * 4); }
void quantize_row_f16_ref(const float* x, void* y, int64_t n) {
    for (int64_t i = 0; i < n; i++) store_u16(y, i, f32_to_f16(x[i]));
}
void quantize_row_bf16_ref(const float* x, void* y, int64_t n) {
    for (int64_t i = 0; i < n; i++) store_u16(y, i, f32_to_bf16(x[i]));
}
void dequantize_row_f32_ref(const void* x, float* y, int64_t n) {
    std::memcpy(y, x, size_t(n) * 4);
}
void dequantize_row_f16_ref(const void* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = f16_to_f32(load_u16(x, i));
}
void dequantize_row_bf16_ref(const void* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = bf16_to_f32(load_u16(x, i));
}

// ---- dispatch by type --------------------------------------------------------------------

void quantize_row_ref(DType type, const float* src, void* dst, int64_t n) {
    dtype_info(type).quantize(src, dst, n);
}

void dequantize_row_ref(DType type, const void* src, float* dst, int64_t n) {
    dtype_info(type).dequantize(src, dst, n);
}

} // namespace strata
