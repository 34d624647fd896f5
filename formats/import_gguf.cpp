// GGUF import: the common hyperparameters here, the architecture's own from its registry file
// (formats/arch.h); tensors of supported types referenced in place, so the converter copies
// their blocks bit for bit. (The tokenizer: import_gguf_tokenizer.cpp.)
#include "core/error.h"
#include "formats/arch.h"
#include "formats/model_source.h"

#include <cmath>
#include <set>

namespace strata {

namespace {

// `<arch>.<key>` metadata of a GGUF file.
class GgufHparams : public HparamSource {
  public:
    GgufHparams(const GgufFile& g, std::string prefix, std::string path)
        : g_(g), prefix_(std::move(prefix)), path_(std::move(path)) {}
    bool has(const std::string& key) const override { return g_.get(prefix_ + key) != nullptr; }
    uint32_t u32(const std::string& key) const override {
        auto v = g_.get_int(prefix_ + key);
        if (!v) fail(path_ + ": metadata key " + prefix_ + key + " is missing or not an integer");
        if (*v <= 0 || *v > (int64_t(1) << 24))
            fail(path_ + ": " + prefix_ + key + " = " + std::to_string(*v) + " is out of range");
        return uint32_t(*v);
    }
    double number(const std::string& key) const override {
        auto v = g_.get_float(prefix_ + key);
        if (!v) fail(path_ + ": metadata key " + prefix_ + key + " is missing or not a number");
        if (!std::isfinite(*v)) fail(path_ + ": " + prefix_ + key + " is not finite");
        return *v;
    }
    bool flag(const std::string& key) const override {
        auto v = g_.get_bool(prefix_ + key);
        if (!v) fail(path_ + ": metadata key " + prefix_ + key + " is missing or not a bool");
        return *v;
    }
    std::vector<int64_t> ints(const std::string& key) const override {
        const GgufValue* v = g_.get(prefix_ + key);
        if (!v) return {};
        if (v->kind != GgufValue::Array) fail(path_ + ": " + prefix_ + key + " is not an array");
        std::vector<int64_t> out;
        for (double x : v->nums) out.push_back(int64_t(x));
        return out;
    }
    std::string where() const override { return path_; }

  private:
    const GgufFile& g_;
    std::string prefix_, path_;
};

} // namespace

ModelSource import_gguf(const std::string& path) {
    GgufFile g = GgufFile::open(path);
    ModelSource src;
    src.mappings.push_back(g.mapping());
    ModelConfig& c = src.config;
    const std::string arch = g.get_string("general.architecture").value_or("");
    const ArchFormat* a = arch_for_gguf(arch);
    if (!a)
        fail(path + ": architecture '" + arch + "' is not supported (supported: " + arch_names() +
             ")");
    const GgufHparams keys(g, arch + ".", path);
    c.arch = a->name();
    c.name = g.get_string("general.name").value_or("");
    c.n_embd = keys.u32("embedding_length");
    c.n_layer = keys.u32("block_count");
    c.n_ff = keys.has("feed_forward_length") ? keys.u32("feed_forward_length") : 0;
    c.n_head = keys.u32("attention.head_count");
    c.n_head_kv = keys.u32_or("attention.head_count_kv", c.n_head);
    c.n_ctx_train = keys.u32("context_length");
    c.head_dim = keys.u32_or("attention.key_length", c.n_embd / c.n_head);
    if (keys.u32_or("attention.value_length", c.head_dim) != c.head_dim)
        fail(path + ": " + arch + ": a value length other than the key length is not supported");
    c.rope_dim = keys.u32_or("rope.dimension_count", c.head_dim);
    c.rope_theta = keys.f32_or("rope.freq_base", 10000.0f);
    c.norm_eps = keys.f32_or("attention.layer_norm_rms_epsilon", 1e-5f);
    if (auto type = g.get_string(arch + ".rope.scaling.type"); type && *type != "none") {
        c.rope_scaling.type = *type;
        c.rope_scaling.factor = keys.f32_or("rope.scaling.factor", 1.0f);
        c.rope_scaling.original_ctx = keys.u32_or("rope.scaling.original_context_length", 0);
        if (*type != "linear")
            fail(path + ": RoPE scaling '" + *type + "' is not supported yet (linear is)");
    }
    c.kv_source = cla_kv_source(c.n_layer, 1);
    src.tokenizer = tokenizer_from_gguf(g);
    c.n_vocab = uint32_t(src.tokenizer.tokens.size());
    c.tied_output = g.find("output.weight") == nullptr;
    c.rope_freqs = g.find("rope_freqs.weight") != nullptr; // Llama 3: the tensor is the scaling
    a->read_gguf(keys, g, c);
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
