// Reference quantization of the 256-value super-block types beside Q4_K/Q6_K: Q2_K, Q3_K, Q5_K
// and IQ4_XS (block layouts in core/quant_blocks.h). Each fits a scale (and min) per sub-block by
// search, quantizes those scales against one f16 super-block scale, then re-quantizes the values
// against the scales as they will be decoded.
#include "core/half.h"
#include "core/quant_blocks.h"
#include "core/quantize_fit.h"
#include "core/quantize_ref.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace strata {

// ---- Q2_K --------------------------------------------------------------------------------

void quantize_row_q2_k_ref(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<BlockQ2_K*>(vy);
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
        float scales[16], mins[16], max_scale = 0, max_min = 0;
        for (int s = 0; s < 16; s++) {
            scales[s] = fit_scale_min(x + 16 * s, 16, 3, &mins[s]);
            max_scale = std::max(max_scale, scales[s]);
            max_min = std::max(max_min, mins[s]);
        }
        BlockQ2_K& blk = y[b];
        const float is = max_scale > 0 ? 15.0f / max_scale : 0.0f;
        const float im = max_min > 0 ? 15.0f / max_min : 0.0f;
        for (int s = 0; s < 16; s++)
            blk.scales[s] = uint8_t(std::min(15, nearest_int(is * scales[s])) |
                                    std::min(15, nearest_int(im * mins[s])) << 4);
        blk.d = f32_to_f16(max_scale / 15.0f);
        blk.dmin = f32_to_f16(max_min / 15.0f);
        const float d = f16_to_f32(blk.d), dmin = f16_to_f32(blk.dmin);
        uint8_t q[QK_K];
        for (int s = 0; s < 16; s++) {
            const float ds = d * (blk.scales[s] & 15), dm = dmin * (blk.scales[s] >> 4);
            for (int i = 0; i < 16; i++) {
                const int v = ds != 0 ? nearest_int((x[16 * s + i] + dm) / ds) : 0;
                q[16 * s + i] = uint8_t(std::clamp(v, 0, 3));
            }
        }
        std::memset(blk.qs, 0, sizeof blk.qs);
        for (int i = 0; i < QK_K; i++) // value 128n + 32j + l -> bits 2j of qs[32n + l]
            blk.qs[32 * (i / 128) + i % 32] |= uint8_t(q[i] << (2 * ((i % 128) / 32)));
    }
}

void dequantize_row_q2_k_ref(const void* vx, float* y, int64_t n) {
    const auto* x = static_cast<const BlockQ2_K*>(vx);
    for (int64_t b = 0; b < n / QK_K; b++, y += QK_K) {
        const float d = f16_to_f32(x[b].d), dmin = f16_to_f32(x[b].dmin);
        for (int i = 0; i < QK_K; i++) {
            const uint8_t sc = x[b].scales[i / 16];
            const int q = (x[b].qs[32 * (i / 128) + i % 32] >> (2 * ((i % 128) / 32))) & 3;
            y[i] = d * (sc & 15) * q - dmin * (sc >> 4);
        }
    }
}

// ---- Q3_K --------------------------------------------------------------------------------

void quantize_row_q3_k_ref(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<BlockQ3_K*>(vy);
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
        float scales[16], amax = 0, max = 0;
        for (int s = 0; s < 16; s++) {
            scales[s] = fit_scale_sym(x + 16 * s, 16, 4);
            if (std::fabs(scales[s]) > amax) amax = std::fabs(scales[s]), max = scales[s];
        }
        BlockQ3_K& blk = y[b];
        const float iscale = max != 0 ? -32.0f / max : 0.0f;
        int8_t ls[16];
        for (int s = 0; s < 16; s++)
            ls[s] = int8_t(std::clamp(nearest_int(iscale * scales[s]), -32, 31));
        std::memset(blk.scales, 0, sizeof blk.scales);
        for (int s = 0; s < 16; s++) { // the packing q3_k_scales reads
            const int l = ls[s] + 32;
            blk.scales[s % 8] |= uint8_t((l & 15) << (4 * (s / 8)));
            blk.scales[8 + s % 4] |= uint8_t((l >> 4) << (2 * (s / 4)));
        }
        blk.d = f32_to_f16(iscale != 0 ? 1.0f / iscale : 0.0f);
        const float d = f16_to_f32(blk.d);
        std::memset(blk.hmask, 0, sizeof blk.hmask);
        std::memset(blk.qs, 0, sizeof blk.qs);
        for (int i = 0; i < QK_K; i++) {
            const float ds = d * ls[i / 16];
            const int q = (ds != 0 ? std::clamp(nearest_int(x[i] / ds), -4, 3) : 0) + 4; // 0..7
            const int nn = i / 128, j = (i % 128) / 32, l = i % 32;
            blk.qs[32 * nn + l] |= uint8_t((q & 3) << (2 * j));
            if (q >= 4) blk.hmask[l] |= uint8_t(1 << (4 * nn + j));
        }
    }
}

void dequantize_row_q3_k_ref(const void* vx, float* y, int64_t n) {
    const auto* x = static_cast<const BlockQ3_K*>(vx);
    for (int64_t b = 0; b < n / QK_K; b++, y += QK_K) {
        const float d = f16_to_f32(x[b].d);
        int8_t sc[16];
        q3_k_scales(x[b].scales, sc);
        for (int i = 0; i < QK_K; i++) {
            const int nn = i / 128, j = (i % 128) / 32, l = i % 32;
            const int lo = (x[b].qs[32 * nn + l] >> (2 * j)) & 3;
            const int high = (x[b].hmask[l] >> (4 * nn + j)) & 1;
            y[i] = d * sc[i / 16] * (lo - (high ? 0 : 4));
        }
    }
}

// ---- Q5_K --------------------------------------------------------------------------------

void quantize_row_q5_k_ref(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<BlockQ5_K*>(vy);
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
        float scales[8], mins[8], max_scale = 0, max_min = 0;
        for (int j = 0; j < 8; j++) {
            scales[j] = fit_scale_min(x + 32 * j, 32, 31, &mins[j]);
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
        BlockQ5_K& blk = y[b];
        pack_k_scales_mins(ls, lm, blk.scales);
        blk.d = f32_to_f16(max_scale / 63.0f);
        blk.dmin = f32_to_f16(max_min / 63.0f);
        const float d = f16_to_f32(blk.d), dmin = f16_to_f32(blk.dmin);
        std::memset(blk.qh, 0, sizeof blk.qh);
        std::memset(blk.qs, 0, sizeof blk.qs);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            q4_k_scale_min(j, blk.scales, &sc, &m);
            const float ds = d * sc, dm = dmin * m;
            for (int l = 0; l < 32; l++) {
                const int v = ds != 0 ? nearest_int((x[32 * j + l] + dm) / ds) : 0;
                const int q = std::clamp(v, 0, 31);
                // sub-block j = 2p (+1): low nibbles (high nibbles) of qs[32p + l]
                blk.qs[32 * (j / 2) + l] |= uint8_t((q & 15) << (4 * (j % 2)));
                if (q >= 16) blk.qh[l] |= uint8_t(1 << j);
            }
        }
    }
}

void dequantize_row_q5_k_ref(const void* vx, float* y, int64_t n) {
    const auto* x = static_cast<const BlockQ5_K*>(vx);
    for (int64_t b = 0; b < n / QK_K; b++, y += QK_K) {
        const float d = f16_to_f32(x[b].d), dmin = f16_to_f32(x[b].dmin);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            q4_k_scale_min(j, x[b].scales, &sc, &m);
            for (int l = 0; l < 32; l++) {
                const int q = ((x[b].qs[32 * (j / 2) + l] >> (4 * (j % 2))) & 15) |
                              (((x[b].qh[l] >> j) & 1) << 4);
                y[32 * j + l] = d * sc * q - dmin * m;
            }
        }
    }
}

// ---- IQ4_XS ------------------------------------------------------------------------------

void quantize_row_iq4_xs_ref(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<BlockIQ4_XS*>(vy);
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
        float scales[8], amax = 0, max = 0;
        for (int s = 0; s < 8; s++) {
            scales[s] = fit_scale_iq4(x + 32 * s, 32);
            if (std::fabs(scales[s]) > amax) amax = std::fabs(scales[s]), max = scales[s];
        }
        BlockIQ4_XS& blk = y[b];
        const float d = max / -32.0f, id = d != 0 ? 1.0f / d : 0.0f;
        blk.d = f32_to_f16(d);
        const float dd = f16_to_f32(blk.d);
        blk.scales_h = 0;
        std::memset(blk.scales_l, 0, sizeof blk.scales_l);
        for (int s = 0; s < 8; s++) {
            const int l = std::clamp(nearest_int(id * scales[s]), -32, 31) + 32;
            blk.scales_l[s / 2] |= uint8_t((l & 15) << (4 * (s % 2)));
            blk.scales_h = uint16_t(blk.scales_h | ((l >> 4) << (2 * s)));
            const float ds = dd * (l - 32), ids = ds != 0 ? 1.0f / ds : 0.0f;
            for (int j = 0; j < 16; j++)
                blk.qs[16 * s + j] = uint8_t(iq4_nearest_level(x[32 * s + j] * ids) |
                                             (iq4_nearest_level(x[32 * s + j + 16] * ids) << 4));
        }
    }
}

void dequantize_row_iq4_xs_ref(const void* vx, float* y, int64_t n) {
    const auto* x = static_cast<const BlockIQ4_XS*>(vx);
    for (int64_t b = 0; b < n / QK_K; b++) {
        const float d = f16_to_f32(x[b].d);
        for (int s = 0; s < 8; s++, y += 32) {
            const float ds = d * iq4_xs_scale(x[b], s);
            const uint8_t* qs = x[b].qs + 16 * s;
            for (int j = 0; j < 16; j++) {
                y[j] = ds * kIq4nlValues[qs[j] & 15];
                y[j + 16] = ds * kIq4nlValues[qs[j] >> 4];
            }
        }
    }
}

} // namespace strata
