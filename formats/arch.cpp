#include "formats/arch.h"

#include "core/error.h"

#include <algorithm>

namespace strata {

namespace {
std::vector<const ArchFormat*>& registry() {
    static std::vector<const ArchFormat*> r;
    return r;
}
} // namespace

std::string HparamSource::text(const std::string& key) const {
    fail(where() + ": " + key + " is not a string this source can read");
}

std::vector<double> HparamSource::numbers(const std::string& key) const {
    fail(where() + ": " + key + " is not a number list this source can read");
}

// The names transformers' llama modeling gives a layer's tensors, which the families share.
HfLayerNames hf_layer_names(const ArchFormat* a, const ModelConfig& c) {
    HfLayerNames n;
    n.parts = {
        {"input_layernorm.weight", "attn_norm.weight"},
        {"self_attn.q_proj.weight", "attn_q.weight"},
        {"self_attn.k_proj.weight", "attn_k.weight"},
        {"self_attn.v_proj.weight", "attn_v.weight"},
        {"self_attn.q_proj.bias", "attn_q.bias"},
        {"self_attn.k_proj.bias", "attn_k.bias"},
        {"self_attn.v_proj.bias", "attn_v.bias"},
        {"self_attn.q_norm.weight", "attn_q_norm.weight"},
        {"self_attn.k_norm.weight", "attn_k_norm.weight"},
        {"self_attn.o_proj.weight", "attn_output.weight"},
        {"post_attention_layernorm.weight", "ffn_norm.weight"},
        {"mlp.gate_proj.weight", "ffn_gate.weight"},
        {"mlp.up_proj.weight", "ffn_up.weight"},
        {"mlp.down_proj.weight", "ffn_down.weight"},
    };
    if (c.n_expert > 0) n.parts["mlp.gate.weight"] = "ffn_gate_inp.weight";
    if (a) a->hf_names(c, n);
    return n;
}

void HfLayerNames::sandwich_norms() {
    parts["post_attention_layernorm.weight"] = "post_attention_norm.weight";
    parts["pre_feedforward_layernorm.weight"] = "ffn_norm.weight";
    parts["post_feedforward_layernorm.weight"] = "post_ffw_norm.weight";
}

void ArchFormat::read_hf(const HparamSource& cfg, ModelConfig&) const {
    fail(cfg.where() + ": Hugging Face import of architecture " + name() + " is not supported");
}

void register_arch(const ArchFormat& a) {
    for (const ArchFormat* r : registry())
        if (std::string(r->name()) == a.name()) return;
    registry().push_back(&a);
}

const ArchFormat& arch_format(const std::string& name) {
    for (const ArchFormat* a : registry())
        if (name == a->name()) return *a;
    fail("unsupported architecture '" + name + "' (supported: " + arch_names() + ")");
}

const ArchFormat* arch_for_gguf(const std::string& gguf_arch) {
    for (const ArchFormat* a : registry()) {
        const auto names = a->gguf_names();
        if (std::find(names.begin(), names.end(), gguf_arch) != names.end()) return a;
    }
    return nullptr;
}

const ArchFormat* arch_for_hf(const std::string& model_type) {
    for (const ArchFormat* a : registry()) {
        const auto types = a->hf_types();
        if (std::find(types.begin(), types.end(), model_type) != types.end()) return a;
    }
    return nullptr;
}

std::string arch_names() {
    if (registry().empty())
        return "none registered: the runtime's architecture files register them";
    std::string s;
    for (const ArchFormat* a : registry()) s += (s.empty() ? "" : ", ") + std::string(a->name());
    return s;
}

std::string hf_type_names() {
    std::string s;
    for (const ArchFormat* a : registry())
        for (const std::string& t : a->hf_types()) s += (s.empty() ? "" : ", ") + t;
    return s.empty() ? "none registered" : s;
}

} // namespace strata
