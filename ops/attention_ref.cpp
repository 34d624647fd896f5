#include "core/half.h"
#include "ops/attention.h"
#include "core/quantize_ref.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace strata {

namespace {

constexpr int kBlock = 64; // positions per streaming-softmax step (attention_impl.h)

struct ScalarPrims {
    static void load(DType t, const uint8_t* row, float* out, int n) {
        if (t == DType::F32) {
            std::memcpy(out, row, size_t(n) * 4);
            return;
        }
        if (t == DType::Q8_0) {
            dequantize_row_q8_0_ref(row, out, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            uint16_t h;
            std::memcpy(&h, row + 2 * i, 2);
            out[i] = f16_to_f32(h);
        }
    }
    static float dot(const float* a, const float* b, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) s += a[i] * b[i];
        return s;
    }
    static void axpy(float a, const float* x, float* y, int n) {
        for (int i = 0; i < n; i++) y[i] += a * x[i];
    }
    static void scale(float* y, float a, int n) {
        for (int i = 0; i < n; i++) y[i] *= a;
    }
    static float exp(float x) { return std::exp(x); }
    static float exp_sum(float* x, int n, float m) {
        float s = 0;
        for (int j = 0; j < n; j++) s += x[j] = std::exp(x[j] - m);
        return s;
    }
};

#include "ops/attention_impl.h"

} // namespace

void attention_merge(int n_chunks, int group, int head_dim, const float* outs, size_t out_stride,
                     const float* stats, size_t stat_stride, float* out) {
    for (int h = 0; h < group; h++) {
        float m = -INFINITY;
        for (int c = 0; c < n_chunks; c++) m = std::max(m, stats[size_t(c) * stat_stride + 2 * h]);
        float total = 0;
        float* o = out + size_t(h) * head_dim;
        for (int i = 0; i < head_dim; i++) o[i] = 0;
        for (int c = 0; c < n_chunks; c++) {
            const float* st = stats + size_t(c) * stat_stride + 2 * h;
            const float w = std::exp(st[0] - m);
            total += w * st[1];
            const float* oc = outs + size_t(c) * out_stride + size_t(h) * head_dim;
            for (int i = 0; i < head_dim; i++) o[i] += w * oc[i];
        }
        for (int i = 0; i < head_dim; i++) o[i] /= total;
    }
}

size_t attention_scratch_floats(int n_head, int n_head_kv, int head_dim) {
    const int group = n_head / n_head_kv;
    // a block of K/V rows converted to f32, the scores of a block for each head of a group and
    // query token, and each one's running max and normalizer
    const size_t n_q = size_t(group) * kAttentionTokens;
    return size_t(head_dim) * kBlock + n_q * kBlock + 2 * n_q;
}

void attention_ref(const AttentionArgs& a, int g0, int g1) {
    attention_impl<ScalarPrims>(a, g0, g1);
}

} // namespace strata
