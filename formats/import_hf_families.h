// Per-family parts of the Hugging Face importer: which config.json fields each model_type has and
// what they mean, and how its tensor names and layouts map onto strata's (GGUF's) names. Kept
// apart from the generic directory reading in import_hf.cpp so that each family's mapping can
// move into its architecture's registry file.
#pragma once

#include "formats/model_config.h"
#include "formats/model_source.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace strata {

// What a config.json says beyond the common llama fields, read and checked per family: the
// facts the tensor mapping needs (names, experts, Gemma's norm shift). The hyperparameters the
// model runs with come from its architecture's registry file (read_hf); the two read the same
// fields and the HfZoo round trip checks they agree.
struct HfHyper {
    std::string model_type, arch;    // arch: strata's (GGUF's) architecture name
    bool qk_norm = false;            // per-head RMSNorm of Q and K (olmoe: over the full width)
    bool qk_norm_after_rope = false; // hunyuan
    bool qk_norm_full_width = false; // olmoe
    uint32_t n_expert = 0, n_expert_used = 0, n_ff_expert = 0;
    bool expert_weights_norm = false;          // renormalize the top-k router weights
    uint32_t sliding_window = 0;               // 0: none
    std::vector<bool> sliding_layers;          // per layer: uses the sliding window
    float rope_theta_swa = 0;                  // gemma3: RoPE base of the sliding layers
    float attn_softcap = 0, final_softcap = 0; // 0: none
    float attn_scale = 0;                      // 0: 1/sqrt(head_dim)
    bool post_norms = false;                   // gemma: norms after attention and after the FFN
    bool norm_plus_one = false;                // gemma: RMSNorm multiplies by (1 + weight)
    bool geglu = false;                        // gemma: tanh-GELU gate instead of SiLU
    float embedding_scale = 0;                 // 0: none (gemma: sqrt(n_embd); granite: multiplier)
    float residual_scale = 0;                  // granite
    float logit_scale = 0;                     // granite: logits divided by this
    std::vector<bool> rope_layers;             // smollm3: false where a layer has no RoPE
    bool fused_qkv = false, fused_gate_up = false; // phi3
};

// Reads the family fields of `cfg` (model_type `type`) for an n_layer model; fails naming the
// model_type when it is not one of the families strata knows.
HfHyper hf_family_hyper(const nlohmann::json& cfg, const std::string& type, uint32_t n_layer,
                        uint32_t n_embd, const std::string& where);

// An HF tensor name in family `h` -> strata's name; `expert` is set for one expert's 2-D slice of
// a 3-D expert tensor. Empty when the name is not part of the family.
struct HfTensorName {
    std::string name;
    int expert = -1;
};
HfTensorName hf_tensor_name(const HfHyper& h, const std::string& hf);

// import_hf, except that with `missing` set a model_type without a registered architecture is
// listed there instead of refused, and the configuration is not validated: for inspecting the
// tensors of a family whose architecture has not landed (tests).
ModelSource import_hf_source(const std::string& dir, std::vector<std::string>* missing);

} // namespace strata
