// GGUF import: llama-family hyperparameters and tokenizer from the metadata; tensors of
// supported types referenced in place, so the converter copies their blocks bit for bit.
#include "core/error.h"
#include "formats/model_source.h"

#include <cmath>
#include <set>

namespace strata {

ModelSource import_gguf(const std::string& path) {
    GgufFile g = GgufFile::open(path);
    ModelSource src;
    src.mappings.push_back(g.mapping());
    ModelConfig& c = src.config;
    const std::string arch = g.get_string("general.architecture").value_or("");
    if (arch != "llama" && arch != "qwen2")
        fail(path + ": architecture '" + arch + "' is not supported (llama and qwen2 are)");
    auto need_int = [&](const std::string& key) {
        auto v = g.get_int(arch + "." + key);
        if (!v) fail(path + ": metadata key " + arch + "." + key + " is missing");
        if (*v <= 0 || *v > (int64_t(1) << 24))
            fail(path + ": " + arch + "." + key + " = " + std::to_string(*v) + " is out of range");
        return uint32_t(*v);
    };
    c.arch = arch;
    c.name = g.get_string("general.name").value_or("");
    c.n_embd = need_int("embedding_length");
    c.n_layer = need_int("block_count");
    c.n_ff = need_int("feed_forward_length");
    c.n_head = need_int("attention.head_count");
    c.n_head_kv = g.get_int(arch + ".attention.head_count_kv") ? need_int("attention.head_count_kv")
                                                               : c.n_head;
    c.n_ctx_train = need_int("context_length");
    c.head_dim = g.get_int(arch + ".attention.key_length") ? need_int("attention.key_length")
                                                           : c.n_embd / c.n_head;
    c.rope_dim =
        g.get_int(arch + ".rope.dimension_count") ? need_int("rope.dimension_count") : c.head_dim;
    c.rope_theta = float(g.get_float(arch + ".rope.freq_base").value_or(10000.0));
    c.norm_eps = float(g.get_float(arch + ".attention.layer_norm_rms_epsilon").value_or(1e-5));
    c.rope_style = arch == "qwen2" ? RopeStyle::NeoX : RopeStyle::Normal;
    if (auto type = g.get_string(arch + ".rope.scaling.type"); type && *type != "none") {
        c.rope_scaling.type = *type;
        c.rope_scaling.factor = float(g.get_float(arch + ".rope.scaling.factor").value_or(1.0));
        c.rope_scaling.original_ctx =
            uint32_t(g.get_int(arch + ".rope.scaling.original_context_length").value_or(0));
        if (*type != "linear")
            fail(path + ": RoPE scaling '" + *type + "' is not supported yet (linear is)");
    }
    c.kv_source = cla_kv_source(c.n_layer, 1);
    src.tokenizer = tokenizer_from_gguf(g);
    c.n_vocab = uint32_t(src.tokenizer.tokens.size());
    c.tied_output = g.find("output.weight") == nullptr;
    c.attn_bias = g.find("blk.0.attn_q.bias") != nullptr;
    c.rope_freqs = g.find("rope_freqs.weight") != nullptr; // Llama 3: the tensor is the scaling
    try {
        c.validate();
    } catch (const Error& e) {
        throw Error(path + ": " + e.what());
    }

    std::set<std::string> wanted;
    for (const auto& spec : expected_tensors(c)) wanted.insert(spec.name);
    for (const auto& t : g.tensors()) {
        if (!wanted.count(t.name))
            fail(path + ": tensor " + t.name + " is not part of a " + arch +
                 " model strata understands");
        if (!t.supported)
            fail(path + ": tensor " + t.name + " has GGUF type " + gguf_type_name(t.ggml_type) +
                 ", which strata does not support (" + weight_type_names() + " are)");
        src.tensors.push_back({t.name, t.type, t.shape, g.data(t), t.bytes, {}});
    }
    src.description = "GGUF v" + std::to_string(g.version()) + " " + path;
    return src;
}

} // namespace strata
