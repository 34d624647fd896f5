// The families' config.json fields and tensor names, as transformers' configuration and modeling
// files define them (and as llama.cpp's convert_hf_to_gguf.py maps them to GGUF).
#include "formats/import_hf_families.h"

#include "core/error.h"

#include <cmath>
#include <map>
#include <regex>

namespace strata {

using json = nlohmann::json;

namespace {

double num(const json& cfg, const char* key, double dflt) {
    if (!cfg.contains(key) || cfg[key].is_null()) return dflt;
    if (!cfg[key].is_number()) fail(std::string(key) + " is not a number");
    return cfg[key].get<double>();
}

uint32_t count(const json& cfg, const char* key, const std::string& where) {
    if (!cfg.contains(key) || !cfg[key].is_number_integer() || cfg[key].get<int64_t>() <= 0 ||
        cfg[key].get<int64_t>() > (1 << 24))
        fail(where + ": " + key + " is missing or not a positive integer");
    return cfg[key].get<uint32_t>();
}

// Sliding layers from layer_types ("sliding_attention" / "full_attention") when given, else
// from `period`: every period-th layer (the last of each group) is global.
std::vector<bool> sliding_layers(const json& cfg, uint32_t n_layer, uint32_t period,
                                 const std::string& where) {
    std::vector<bool> s(n_layer);
    if (cfg.contains("layer_types") && cfg["layer_types"].is_array()) {
        if (cfg["layer_types"].size() != n_layer)
            fail(where + ": layer_types has " + std::to_string(cfg["layer_types"].size()) +
                 " entries for " + std::to_string(n_layer) + " layers");
        for (uint32_t l = 0; l < n_layer; l++) {
            const std::string t = cfg["layer_types"][l].get<std::string>();
            if (t != "sliding_attention" && t != "full_attention")
                fail(where + ": layer_types holds '" + t + "'");
            s[l] = t == "sliding_attention";
        }
        return s;
    }
    for (uint32_t l = 0; l < n_layer; l++) s[l] = period == 0 || (l + 1) % period != 0;
    return s;
}

void gemma_common(const json& cfg, HfHyper& h, uint32_t n_layer, uint32_t n_embd, uint32_t head_dim,
                  uint32_t period, const std::string& where) {
    h.post_norms = h.norm_plus_one = true;
    const std::string act =
        cfg.value("hidden_activation", cfg.value("hidden_act", "gelu_pytorch_tanh"));
    if (act != "gelu_pytorch_tanh" && act != "gelu")
        fail(where + ": hidden_activation '" + act + "' is not supported (gelu_pytorch_tanh is)");
    h.geglu = true;
    h.embedding_scale = std::sqrt(float(n_embd));
    h.attn_scale = float(1.0 / std::sqrt(num(cfg, "query_pre_attn_scalar", head_dim)));
    h.attn_softcap = float(num(cfg, "attn_logit_softcapping", 0));
    h.final_softcap = float(num(cfg, "final_logit_softcapping", 0));
    if (cfg.contains("sliding_window") && cfg["sliding_window"].is_number_integer()) {
        h.sliding_window = count(cfg, "sliding_window", where);
        h.sliding_layers = sliding_layers(cfg, n_layer, period, where);
    }
}

} // namespace

HfHyper hf_family_hyper(const json& cfg, const std::string& type, uint32_t n_layer, uint32_t n_embd,
                        const std::string& where) {
    HfHyper h;
    h.model_type = type;
    const uint32_t n_head = count(cfg, "num_attention_heads", where);
    const uint32_t head_dim = cfg.contains("head_dim") && cfg["head_dim"].is_number_integer()
                                  ? count(cfg, "head_dim", where)
                                  : n_embd / n_head;
    auto experts = [&](const char* n_key, const char* ff_key, bool norm_default) {
        h.n_expert = count(cfg, n_key, where);
        h.n_expert_used = count(cfg, "num_experts_per_tok", where);
        if (h.n_expert_used > h.n_expert)
            fail(where + ": num_experts_per_tok exceeds the number of experts");
        h.n_ff_expert = count(cfg, ff_key, where);
        h.expert_weights_norm = cfg.value("norm_topk_prob", norm_default);
    };
    if (type == "llama" || type == "mistral") {
        h.arch = "llama";
    } else if (type == "mixtral") {
        h.arch = "llama";
        experts("num_local_experts", "intermediate_size", true); // Mixtral always renormalizes
        h.expert_weights_norm = true;
    } else if (type == "qwen2") {
        h.arch = "qwen2";
    } else if (type == "qwen3") {
        h.arch = "qwen3";
        h.qk_norm = true;
    } else if (type == "qwen3_moe") {
        h.arch = "qwen3moe";
        h.qk_norm = true;
        experts("num_experts", "moe_intermediate_size", false);
        const bool dense_layers =
            num(cfg, "decoder_sparse_step", 1) != 1 ||
            (cfg.contains("mlp_only_layers") && cfg["mlp_only_layers"].is_array() &&
             !cfg["mlp_only_layers"].empty());
        if (dense_layers)
            fail(where + ": qwen3_moe with dense layers between the MoE layers "
                         "(decoder_sparse_step, mlp_only_layers) is not supported");
    } else if (type == "olmoe") {
        h.arch = "olmoe";
        h.qk_norm = h.qk_norm_full_width = true;
        experts("num_experts", "intermediate_size", false);
        if (cfg.contains("clip_qkv") && !cfg["clip_qkv"].is_null())
            fail(where + ": olmoe clip_qkv is not supported");
    } else if (type == "gemma2") {
        h.arch = "gemma2";
        gemma_common(cfg, h, n_layer, n_embd, head_dim, 2, where); // even layers slide
    } else if (type == "gemma3_text") {
        h.arch = "gemma3";
        h.qk_norm = true;
        gemma_common(cfg, h, n_layer, n_embd, head_dim,
                     uint32_t(num(cfg, "sliding_window_pattern", 6)), where);
        // (rope_scaling, linear x8 in the 4B+ models, is the global layers' only: the sliding
        // layers' RoPE table, with a base of its own, takes none; runtime/model.cpp)
        h.rope_theta_swa = float(num(cfg, "rope_local_base_freq", 10000.0));
    } else if (type == "phi3") {
        h.arch = "phi3";
        h.fused_qkv = h.fused_gate_up = true;
        if (cfg.contains("sliding_window") && cfg["sliding_window"].is_number_integer()) {
            h.sliding_window = count(cfg, "sliding_window", where);
            h.sliding_layers.assign(n_layer, true);
        }
    } else if (type == "granite") {
        h.arch = "granite";
        h.embedding_scale = float(num(cfg, "embedding_multiplier", 1.0));
        h.residual_scale = float(num(cfg, "residual_multiplier", 1.0));
        h.attn_scale = float(num(cfg, "attention_multiplier", 1.0 / std::sqrt(double(head_dim))));
        h.logit_scale = float(num(cfg, "logits_scaling", 1.0));
    } else if (type == "smollm3") {
        h.arch = "smollm3";
        h.rope_layers.assign(n_layer, true);
        if (cfg.contains("no_rope_layers") && cfg["no_rope_layers"].is_array()) {
            if (cfg["no_rope_layers"].size() != n_layer)
                fail(where + ": no_rope_layers has " +
                     std::to_string(cfg["no_rope_layers"].size()) + " entries for " +
                     std::to_string(n_layer) + " layers");
            for (uint32_t l = 0; l < n_layer; l++)
                h.rope_layers[l] = cfg["no_rope_layers"][l].get<int64_t>() != 0; // 1: RoPE
        } else {
            const uint32_t every = uint32_t(num(cfg, "no_rope_layer_interval", 4));
            for (uint32_t l = 0; l < n_layer; l++)
                h.rope_layers[l] = every == 0 || (l + 1) % every != 0;
        }
    } else if (type == "hunyuan_v1_dense") {
        h.arch = "hunyuan-dense";
        h.qk_norm = cfg.value("use_qk_norm", true);
        h.qk_norm_after_rope = h.qk_norm;
    } else {
        fail(where + ": model_type '" + type +
             "' is not supported (llama, mistral, mixtral, qwen2, qwen3, qwen3_moe, olmoe, "
             "gemma2, gemma3_text, phi3, granite, smollm3, hunyuan_v1_dense are)");
    }
    return h;
}

HfTensorName hf_tensor_name(const HfHyper& h, const std::string& hf) {
    static const std::map<std::string, std::string> top = {
        {"model.embed_tokens.weight", "token_embd.weight"},
        {"model.norm.weight", "output_norm.weight"},
        {"lm_head.weight", "output.weight"},
    };
    if (auto it = top.find(hf); it != top.end()) return {it->second};
    static const std::regex layer(R"(model\.layers\.(\d+)\.(.+))");
    std::smatch m;
    if (!std::regex_match(hf, m, layer)) return {};
    const std::string blk = "blk." + m[1].str() + ".", part = m[2].str();
    const bool gemma = h.post_norms;
    std::map<std::string, std::string> parts = {
        {"input_layernorm.weight", "attn_norm.weight"},
        {"self_attn.q_proj.weight", "attn_q.weight"},
        {"self_attn.k_proj.weight", "attn_k.weight"},
        {"self_attn.v_proj.weight", "attn_v.weight"},
        {"self_attn.q_proj.bias", "attn_q.bias"},
        {"self_attn.k_proj.bias", "attn_k.bias"},
        {"self_attn.v_proj.bias", "attn_v.bias"},
        {"self_attn.o_proj.weight", "attn_output.weight"},
        {"mlp.gate_proj.weight", "ffn_gate.weight"},
        {"mlp.up_proj.weight", "ffn_up.weight"},
        {"mlp.down_proj.weight", "ffn_down.weight"},
    };
    if (gemma) {
        parts["pre_feedforward_layernorm.weight"] = "ffn_norm.weight";
        parts["post_attention_layernorm.weight"] = "post_attention_norm.weight";
        parts["post_feedforward_layernorm.weight"] = "post_ffw_norm.weight";
    } else {
        parts["post_attention_layernorm.weight"] = "ffn_norm.weight";
    }
    if (h.qk_norm) {
        const bool hunyuan = h.arch == "hunyuan-dense";
        parts[hunyuan ? "self_attn.query_layernorm.weight" : "self_attn.q_norm.weight"] =
            "attn_q_norm.weight";
        parts[hunyuan ? "self_attn.key_layernorm.weight" : "self_attn.k_norm.weight"] =
            "attn_k_norm.weight";
    }
    if (h.fused_qkv) parts["self_attn.qkv_proj.weight"] = "attn_qkv.weight";
    if (h.fused_gate_up) parts["mlp.gate_up_proj.weight"] = "ffn_up.weight"; // gate rows, then up
    if (h.n_expert) {
        const bool mixtral = h.model_type == "mixtral";
        parts[mixtral ? "block_sparse_moe.gate.weight" : "mlp.gate.weight"] = "ffn_gate_inp.weight";
        static const std::regex expert(
            R"((?:mlp|block_sparse_moe)\.experts\.(\d+)\.(gate_proj|up_proj|down_proj|w1|w2|w3)\.weight)");
        std::smatch e;
        if (std::regex_match(part, e, expert)) {
            const std::string w = e[2].str();
            if (mixtral != (w[0] == 'w') || (mixtral != (part.rfind("block_sparse_moe", 0) == 0)))
                return {};
            const std::string which = w == "gate_proj" || w == "w1" ? "gate"
                                      : w == "up_proj" || w == "w3" ? "up"
                                                                    : "down";
            const unsigned long x = std::stoul(e[1].str());
            if (x >= h.n_expert) return {};
            return {blk + "ffn_" + which + "_exps.weight", int(x)};
        }
    }
    if (auto it = parts.find(part); it != parts.end()) return {blk + it->second};
    return {};
}

} // namespace strata
