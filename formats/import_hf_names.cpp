// HF tensor names as transformers' modeling files define them (and as llama.cpp's
// convert_hf_to_gguf.py maps them to GGUF): the top-level ones every family shares, and per
// layer the table its architecture gives.
#include "formats/import_hf_names.h"

#include <map>

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
    static const std::map<std::string, std::string> top = {
        {"model.embed_tokens.weight", "token_embd.weight"},
        {"model.norm.weight", "output_norm.weight"},
        {"lm_head.weight", "output.weight"},
    };
    if (auto it = top.find(hf); it != top.end()) return {it->second};
    static const std::string layers = "model.layers.";
    unsigned long layer = 0;
    std::string part;
    if (hf.rfind(layers, 0) != 0 || !split_index(hf.substr(layers.size()), layer, part)) return {};
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
        return {blk + "ffn_" + which + "_exps.weight", int(expert)};
    }
    if (auto it = names.parts.find(part); it != names.parts.end()) return {blk + it->second};
    return {};
}

} // namespace strata
