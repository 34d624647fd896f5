#include "formats/half.h"
#include "ops/attention.h"

#include <cmath>
#include <cstring>

namespace strata {

namespace {
constexpr int kBlock = 64; // positions per streaming-softmax step

// Head g of cache row j, as floats.
void load_head(const AttentionArgs& a, const uint8_t* base, int j, int g, float* out) {
    const uint8_t* row = base + size_t(j) * a.kv_row_bytes;
    if (a.kv_type == DType::F32) {
        std::memcpy(out, row + size_t(g) * a.head_dim * 4, size_t(a.head_dim) * 4);
    } else {
        const uint16_t* h = reinterpret_cast<const uint16_t*>(row) + size_t(g) * a.head_dim;
        for (int d = 0; d < a.head_dim; d++) out[d] = f16_to_f32(h[d]);
    }
}
} // namespace

size_t attention_scratch_floats(int n_head, int n_head_kv, int head_dim) {
    const int group = n_head / n_head_kv;
    // one K/V row converted to f32, the scores of a block for each head of a group, and each
    // head's running max and normalizer
    return size_t(head_dim) + size_t(group) * kBlock + 2 * size_t(group);
}

void attention_ref(const AttentionArgs& a, int g0, int g1) {
    const int group = a.n_head / a.n_head_kv;
    const int hd = a.head_dim;
    float* row = a.scratch;
    float* scores = a.scratch + hd;
    float* max = scores + size_t(group) * kBlock;
    float* sum = max + group;
    for (int g = g0; g < g1; g++) {
        const int heads = group;
        for (int h = 0; h < heads; h++) max[h] = -INFINITY, sum[h] = 0;
        float* out = a.out + size_t(g) * group * hd;
        std::memset(out, 0, sizeof(float) * size_t(group * hd));
        for (int j0 = 0; j0 < a.n_pos; j0 += kBlock) {
            const int nb = a.n_pos - j0 < kBlock ? a.n_pos - j0 : kBlock;
            // scores of this block: each K row read once for all heads of the group
            for (int j = 0; j < nb; j++) {
                load_head(a, a.k, j0 + j, g, row);
                for (int h = 0; h < heads; h++) {
                    const float* q = a.q + size_t(g * group + h) * hd;
                    float s = 0;
                    for (int d = 0; d < hd; d++) s += q[d] * row[d];
                    scores[h * kBlock + j] = s * a.scale;
                }
            }
            // online softmax: rescale what was accumulated when the max grows
            for (int h = 0; h < heads; h++) {
                float m = max[h];
                for (int j = 0; j < nb; j++) m = std::fmax(m, scores[h * kBlock + j]);
                const float correction = std::exp(max[h] - m);
                float s = sum[h] * correction;
                for (int j = 0; j < nb; j++) {
                    const float p = std::exp(scores[h * kBlock + j] - m);
                    scores[h * kBlock + j] = p;
                    s += p;
                }
                float* o = out + size_t(h) * hd;
                for (int d = 0; d < hd; d++) o[d] *= correction;
                max[h] = m;
                sum[h] = s;
            }
            for (int j = 0; j < nb; j++) {
                load_head(a, a.v, j0 + j, g, row);
                for (int h = 0; h < heads; h++) {
                    const float p = scores[h * kBlock + j];
                    float* o = out + size_t(h) * hd;
                    for (int d = 0; d < hd; d++) o[d] += p * row[d];
                }
            }
        }
        for (int h = 0; h < heads; h++) {
            float* o = out + size_t(h) * hd;
            const float inv = 1.0f / sum[h];
            for (int d = 0; d < hd; d++) o[d] *= inv;
        }
    }
}

} // namespace strata
