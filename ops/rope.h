// Rotary position embedding (RoPE), normal (adjacent pairs, llama2.c / GGUF llama) and NeoX
// (halves, HF checkpoints / qwen2) styles, with linear and llama3 frequency scaling.
#pragma once

#include <string>
#include <vector>

namespace strata {

struct RopeParams {
    int head_dim = 0;
    int rope_dim = 0; // rotated dimensions (first rope_dim of each head)
    bool neox = false;
    float theta = 10000.0f;
    std::string scaling = "none"; // none | linear | llama3
    float factor = 1.0f;
    int original_ctx = 0;
    float low_freq_factor = 1.0f, high_freq_factor = 4.0f;
};

// Per-pair inverse frequencies (rope_dim / 2 of them), scaling applied.
std::vector<float> rope_inv_freq(const RopeParams& p);

// Rotates `n_heads` heads of `head_dim` values in place at position `pos`.
void rope_apply_ref(const RopeParams& p, const float* inv_freq, int pos, float* x, int n_heads);

} // namespace strata
