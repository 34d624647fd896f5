#include "formats/half.h"
#include "ops/attention.h"
#include "ops/quantize_ref.h"

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
};

#include "ops/attention_impl.h"

} // namespace

size_t attention_scratch_floats(int n_head, int n_head_kv, int head_dim) {
    const int group = n_head / n_head_kv;
    // one K/V row converted to f32, the scores of a block for each head of a group, and each
    // head's running max and normalizer
    return size_t(head_dim) + size_t(group) * kBlock + 2 * size_t(group);
}

void attention_ref(const AttentionArgs& a, int g0, int g1) {
    attention_impl<ScalarPrims>(a, g0, g1);
}

} // namespace strata
