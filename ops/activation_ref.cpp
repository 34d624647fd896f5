// Scalar references of the elementwise and row ops: RMSNorm, softmax, gated activations.
#include "ops/dot_ref.h"

#include <cmath>

namespace strata {

void rmsnorm_ref(int n, const float* x, const float* w, float eps, float* y) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += double(x[i]) * x[i];
    const float scale = float(1.0 / std::sqrt(ss / n + eps));
    for (int i = 0; i < n; i++) y[i] = x[i] * scale * w[i];
}

void softmax_ref(int n, float* x) {
    float max = -INFINITY;
    for (int i = 0; i < n; i++) max = std::fmax(max, x[i]);
    double sum = 0;
    for (int i = 0; i < n; i++) {
        x[i] = std::exp(x[i] - max);
        sum += x[i];
    }
    const float inv = float(1.0 / sum);
    for (int i = 0; i < n; i++) x[i] *= inv;
}

void swiglu_ref(int n, const float* gate, const float* up, float* out) {
    for (int i = 0; i < n; i++) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void geglu_ref(int n, const float* gate, const float* up, float* out) {
    const float k = 0.7978845608f; // sqrt(2/pi)
    for (int i = 0; i < n; i++) {
        const float g = gate[i];
        out[i] = 0.5f * g * (1.0f + std::tanh(k * (g + 0.044715f * g * g * g))) * up[i];
    }
}

} // namespace strata
