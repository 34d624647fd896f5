#include "ops/rope.h"

#include <cmath>

namespace strata {

std::vector<float> rope_inv_freq(const RopeParams& p) {
    const int half = p.rope_dim / 2;
    std::vector<float> f(static_cast<size_t>(half));
    for (int i = 0; i < half; i++) {
        double freq = 1.0 / std::pow(double(p.theta), double(2 * i) / p.rope_dim);
        if (p.scaling == "linear") {
            freq /= p.factor;
        } else if (p.scaling == "llama3" && p.original_ctx > 0) {
            // Llama 3.1 scaling: long wavelengths are slowed by `factor`, short ones kept, the
            // band between interpolated.
            const double low_wavelen = p.original_ctx / p.low_freq_factor;
            const double high_wavelen = p.original_ctx / p.high_freq_factor;
            const double wavelen = 2 * M_PI / freq;
            if (wavelen > low_wavelen) {
                freq /= p.factor;
            } else if (wavelen >= high_wavelen) {
                const double smooth = (p.original_ctx / wavelen - p.low_freq_factor) /
                                      (p.high_freq_factor - p.low_freq_factor);
                freq = (1 - smooth) * freq / p.factor + smooth * freq;
            }
        }
        f[size_t(i)] = float(freq);
    }
    return f;
}

void rope_apply_ref(const RopeParams& p, const float* inv_freq, int pos, float* x, int n_heads) {
    const int half = p.rope_dim / 2;
    for (int i = 0; i < half; i++) {
        const double angle = double(pos) * inv_freq[i];
        const float c = float(std::cos(angle)), s = float(std::sin(angle));
        for (int h = 0; h < n_heads; h++) {
            float* v = x + size_t(h) * size_t(p.head_dim);
            const int a = p.neox ? i : 2 * i;
            const int b = p.neox ? i + half : 2 * i + 1;
            const float x0 = v[a], x1 = v[b];
            v[a] = x0 * c - x1 * s;
            v[b] = x0 * s + x1 * c;
        }
    }
}

} // namespace strata
