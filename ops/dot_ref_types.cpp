// Scalar reference dot products of the GGUF types beyond Q4_0/Q8_0/Q4_K/Q6_K: Q4_1, Q5_0, Q5_1
// and IQ4_NL against Q8_0 activations, Q2_K, Q3_K, Q5_K and IQ4_XS against Q8_K. Integer sums
// per (sub-)block, then the block's scales, as in ops/dot_ref.cpp.
#include "core/half.h"
#include "core/quant_blocks.h"
#include "ops/dot_ref.h"

namespace strata {

namespace {

int q8_block_sum(const BlockQ8_0& y) {
    int s = 0;
    for (int i = 0; i < QK8_0; i++) s += y.qs[i];
    return s;
}

// Weights with a per-block minimum (x = d q + m) against Q8_0: d dy sum(q y) + m dy sum(y).
template <class Block, class Value>
float dot_with_min(int n, const void* w, const void* a, const Value& value) {
    const auto* x = static_cast<const Block*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    float sum = 0;
    for (int b = 0; b < n / QK8_0; b++) {
        int s = 0;
        for (int j = 0; j < QK8_0; j++) s += value(x[b], j) * y[b].qs[j];
        const float dy = f16_to_f32(y[b].d);
        sum += f16_to_f32(x[b].d) * dy * float(s) +
               f16_to_f32(x[b].m) * dy * float(q8_block_sum(y[b]));
    }
    return sum;
}

// Symmetric weights (x = d value) against Q8_0.
template <class Block, class Value>
float dot_symmetric(int n, const void* w, const void* a, const Value& value) {
    const auto* x = static_cast<const Block*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    float sum = 0;
    for (int b = 0; b < n / QK8_0; b++) {
        int s = 0;
        for (int j = 0; j < QK8_0; j++) s += value(x[b], j) * y[b].qs[j];
        sum += f16_to_f32(x[b].d) * f16_to_f32(y[b].d) * float(s);
    }
    return sum;
}

int nibble(const uint8_t* qs, int j) { return j < 16 ? qs[j] & 15 : qs[j - 16] >> 4; }

} // namespace

float dot_q4_1_ref(int n, const void* w, const void* a) {
    return dot_with_min<BlockQ4_1>(n, w, a,
                                   [](const BlockQ4_1& b, int j) { return nibble(b.qs, j); });
}

float dot_q5_1_ref(int n, const void* w, const void* a) {
    return dot_with_min<BlockQ5_1>(
        n, w, a, [](const BlockQ5_1& b, int j) { return q5_value(b.qs, b.qh, j); });
}

float dot_q5_0_ref(int n, const void* w, const void* a) {
    return dot_symmetric<BlockQ5_0>(
        n, w, a, [](const BlockQ5_0& b, int j) { return q5_value(b.qs, b.qh, j) - 16; });
}

float dot_iq4_nl_ref(int n, const void* w, const void* a) {
    return dot_symmetric<BlockIQ4_NL>(
        n, w, a, [](const BlockIQ4_NL& b, int j) { return int(kIq4nlValues[nibble(b.qs, j)]); });
}

float dot_q2_k_ref(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ2_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    float sum = 0;
    for (int b = 0; b < n / QK_K; b++) {
        int sub[16] = {}, summin = 0;
        for (int i = 0; i < QK_K; i++) {
            const int q = (x[b].qs[32 * (i / 128) + i % 32] >> (2 * ((i % 128) / 32))) & 3;
            sub[i / 16] += q * y[b].qs[i];
        }
        int sumi = 0;
        for (int s = 0; s < 16; s++) {
            sumi += (x[b].scales[s] & 15) * sub[s];
            summin += (x[b].scales[s] >> 4) * y[b].bsums[s];
        }
        sum += y[b].d * (f16_to_f32(x[b].d) * float(sumi) - f16_to_f32(x[b].dmin) * float(summin));
    }
    return sum;
}

float dot_q3_k_ref(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ3_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    float sum = 0;
    for (int b = 0; b < n / QK_K; b++) {
        int8_t sc[16];
        q3_k_scales(x[b].scales, sc);
        int sub[16] = {};
        for (int i = 0; i < QK_K; i++) {
            const int nn = i / 128, j = (i % 128) / 32, l = i % 32;
            const int lo = (x[b].qs[32 * nn + l] >> (2 * j)) & 3;
            const int high = (x[b].hmask[l] >> (4 * nn + j)) & 1;
            sub[i / 16] += (lo - (high ? 0 : 4)) * y[b].qs[i];
        }
        int sumi = 0;
        for (int s = 0; s < 16; s++) sumi += sc[s] * sub[s];
        sum += y[b].d * f16_to_f32(x[b].d) * float(sumi);
    }
    return sum;
}

float dot_q5_k_ref(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ5_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    float sum = 0;
    for (int b = 0; b < n / QK_K; b++) {
        int sumi = 0, summin = 0;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            q4_k_scale_min(j, x[b].scales, &sc, &m);
            int s = 0;
            for (int l = 0; l < 32; l++) {
                const int q = ((x[b].qs[32 * (j / 2) + l] >> (4 * (j % 2))) & 15) |
                              (((x[b].qh[l] >> j) & 1) << 4);
                s += q * y[b].qs[32 * j + l];
            }
            sumi += sc * s;
            summin += m * (y[b].bsums[2 * j] + y[b].bsums[2 * j + 1]);
        }
        sum += y[b].d * (f16_to_f32(x[b].d) * float(sumi) - f16_to_f32(x[b].dmin) * float(summin));
    }
    return sum;
}

float dot_iq4_xs_ref(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockIQ4_XS*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    float sum = 0;
    for (int b = 0; b < n / QK_K; b++) {
        int sumi = 0;
        for (int s = 0; s < 8; s++) {
            const uint8_t* qs = x[b].qs + 16 * s;
            const int8_t* q8 = y[b].qs + 32 * s;
            int t = 0;
            for (int j = 0; j < 16; j++)
                t += kIq4nlValues[qs[j] & 15] * q8[j] + kIq4nlValues[qs[j] >> 4] * q8[j + 16];
            sumi += iq4_xs_scale(x[b], s) * t;
        }
        sum += y[b].d * f16_to_f32(x[b].d) * float(sumi);
    }
    return sum;
}

} // namespace strata
