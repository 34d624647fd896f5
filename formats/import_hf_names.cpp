// HF tensor names as transformers' modeling files define them (and as llama.cpp's
// convert_hf_to_gguf.py maps them to GGUF): the top-level ones every family shares, and per
// layer the table its architecture gives.
#include "formats/import_hf_names.h"

namespace strata {

namespace {

// "123.rest" -> 123 and "rest"; false when `s` does not start with a decimal number and a dot.
bool split_index(const std::string& s, unsigned long& index, std::string& rest) {
    size_t digits = 0;
    while (digits < s.size() && digits < 9 && s[digits] >= '0' && s[digits] <= '9') digits++;
    if (digits == 0 || digits >= s.size() || s[digits] != '.') return false;
    index = std::stoul(s.substr(0, digits));
    rest = s.substr(digits + 1);
    return true;
}

} // namespace

HfTensorName hf_tensor_name(const HfLayerNames& names, const ModelConfig& c,
                            const std::string& hf) {
    if (hf == "lm_head.weight") return {"output.weight"};
    for (const std::string& prefix : names.model_prefixes) {
        if (hf.rfind(prefix, 0) != 0) continue;
        const std::string rest = hf.substr(prefix.size());
        if (rest == "embed_tokens.weight") return {"token_embd.weight"};
        if (rest == "norm.weight") return {"output_norm.weight"};
        if (auto it = names.top.find(rest); it != names.top.end()) return {it->second};
        for (const auto& [key, stack] : names.stacked) {
            unsigned long index = 0;
            std::string weight;
            if (rest.rfind(key, 0) == 0 && split_index(rest.substr(key.size()), index, weight) &&
                weight == "weight" && index < stack.count)
                return {stack.name, int(index), int(stack.count)};
        }
        static const std::string layers = "layers.";
        unsigned long layer = 0;
        std::string part;
        if (rest.rfind(layers, 0) != 0 || !split_index(rest.substr(layers.size()), layer, part))
            continue;
        const std::string blk = "blk." + std::to_string(layer) + ".";
        if (c.n_expert > 0 && part.rfind(names.expert_prefix, 0) == 0) {
            unsigned long expert = 0;
            std::string weight;
            if (!split_index(part.substr(names.expert_prefix.size()), expert, weight)) return {};
            const std::string which = weight == names.expert_gate + ".weight"   ? "gate"
                                      : weight == names.expert_up + ".weight"   ? "up"
                                      : weight == names.expert_down + ".weight" ? "down"
                                                                                : "";
            if (which.empty() || expert >= c.n_expert) return {};
            return {blk + "ffn_" + which + "_exps.weight", int(expert), int(c.n_expert)};
        }
        if (auto it = names.parts.find(part); it != names.parts.end()) return {blk + it->second};
        return {};
    }
    return {};
}

std::string hf_name_of(const HfLayerNames& names, const std::string& name) {
    const std::string prefix = names.model_prefixes.empty() ? "" : names.model_prefixes[0];
    if (name == "token_embd.weight") return prefix + "embed_tokens.weight";
    if (name == "output_norm.weight") return prefix + "norm.weight";
    if (name == "output.weight") return "lm_head.weight";
    for (const auto& [hf, strata] : names.top)
        if (strata == name) return prefix + hf;
    for (const auto& [hf, stack] : names.stacked)
        if (stack.name == name) return prefix + hf + "{i}.weight";
    unsigned long layer = 0;
    std::string part;
    if (name.rfind("blk.", 0) != 0 || !split_index(name.substr(4), layer, part)) return "";
    for (const auto& [hf, strata] : names.parts)
        if (strata == part) return prefix + "layers." + std::to_string(layer) + "." + hf;
    return "";
}

bool hf_tensor_ignored(const HfLayerNames& names, const std::string& hf) {
    for (const std::string& p : names.ignored)
        if (hf.rfind(p, 0) == 0) return true;
    return false;
}

} // namespace strata
