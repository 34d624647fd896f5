// What gemma2.cpp and gemma3.cpp share: the sliding-layer pattern, the HF config fields both
// families have (activation, layer_types, query_pre_attn_scalar) and their HF tensor names.
// Include only from those two files.
#pragma once

#include "core/error.h"
#include "runtime/arch/block.h"

#include <cmath>
#include <string>

namespace strata::gemma {

// Layers l with l % period < period - 1 slide (llama.cpp's pattern: the last of each period is
// global); period 0 would make no sense and is refused.
inline void slide_by_period(ModelConfig& c, uint32_t period, const std::string& where) {
    if (period == 0) fail(where + ": sliding_window_pattern must be positive");
    c.layer_sliding.assign(c.n_layer, 0);
    for (uint32_t l = 0; l < c.n_layer; l++) c.layer_sliding[l] = l % period < period - 1;
}

// (transformers' Gemma MLP: the tanh-approximated GELU; strata's GeGLU is that one)
inline void check_hf_activation(const HparamSource& k) {
    const std::string act =
        k.text_or("hidden_activation", k.text_or("hidden_act", "gelu_pytorch_tanh"));
    if (act != "gelu_pytorch_tanh" && act != "gelu")
        fail(k.where() + ": hidden_activation '" + act +
             "' is not supported (gelu_pytorch_tanh is)");
}

// layer_types, when given, names each layer's attention (import_hf reads its
// "sliding_attention" / "full_attention" as 1 / 0).
inline void read_hf_layer_types(const HparamSource& k, ModelConfig& c) {
    const auto types = k.ints("layer_types");
    if (types.empty()) return;
    if (types.size() != c.n_layer)
        fail(k.where() + ": layer_types has " + std::to_string(types.size()) + " entries for " +
             std::to_string(c.n_layer) + " layers");
    c.layer_sliding.assign(types.begin(), types.end());
}

inline void read_hf_attn_scale(const HparamSource& k, ModelConfig& c) {
    if (k.has("query_pre_attn_scalar"))
        c.attn_scale = 1.0f / std::sqrt(float(k.number("query_pre_attn_scalar")));
}

// HF: pre_/post_feedforward_layernorm and post_attention_layernorm around the branches; every
// norm weight stored minus one (Gemma's RMSNorm multiplies by 1 + weight).
inline void hf_names(HfLayerNames& n) {
    n.sandwich_norms();
    n.norms_minus_one = true;
}

} // namespace strata::gemma
