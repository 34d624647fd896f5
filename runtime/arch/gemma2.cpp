// gemma2: the pre-norm block with post-attention and post-FFN norms, GeGLU (tanh GELU), NeoX
// RoPE, embeddings x sqrt(n_embd), output tied to the embedding, attention scores and logits
// soft-capped (50 and 30 unless the file says otherwise), and sliding-window attention on
// every other layer (layers 0, 2, 4, ...: llama.cpp's default period 2). Norm weights multiply
// as stored in a GGUF (llama.cpp's converter wrote HF's weight + 1); HF checkpoints store the
// weight minus one and the importer adds it back (formats/import_hf.cpp).
//
// The attention scale is 1/sqrt(head_dim), except for the 27B shape (46 layers), where
// llama.cpp (after gemma_pytorch) uses 1/sqrt(n_embd / n_head); HF says query_pre_attn_scalar.
#include "core/error.h"
#include "runtime/arch/block.h"

#include <cmath>

namespace strata {

namespace {
constexpr BlockOptions kBlock{.post_norms = true, .geglu = true};
constexpr uint32_t kDefaultWindow = 4096;
constexpr uint32_t kDefaultPeriod = 2;

// Layers l with l % period < period - 1 slide (llama.cpp's pattern: the last of each period
// is global); period 0 or 1 would make every layer global.
void set_sliding_period(ModelConfig& c, uint32_t period, const std::string& where) {
    if (period == 0) fail(where + ": sliding_window_pattern must be positive");
    c.layer_sliding.assign(c.n_layer, 0);
    for (uint32_t l = 0; l < c.n_layer; l++) c.layer_sliding[l] = l % period < period - 1;
}

class Gemma2 : public Architecture {
  public:
    const char* name() const override { return "gemma2"; }
    std::vector<std::string> hf_types() const override { return {"gemma2"}; }
    void defaults(ModelConfig& c) const override {
        c.rope_style = RopeStyle::NeoX;
        c.tied_output = true;
        c.embd_scale = std::sqrt(float(c.n_embd));
        c.attn_softcap = 50.0f;
        c.final_softcap = 30.0f;
        c.sliding_window = kDefaultWindow;
        set_sliding_period(c, kDefaultPeriod, "gemma2");
        c.attn_scale = c.n_layer == 46 ? 1.0f / std::sqrt(float(c.n_embd / c.n_head)) : 0.0f;
    }
    void read_gguf(const HparamSource& k, const GgufFile&, ModelConfig& c) const override {
        defaults(c);
        c.attn_softcap = k.f32_or("attn_logit_softcapping", c.attn_softcap);
        c.final_softcap = k.f32_or("final_logit_softcapping", c.final_softcap);
        c.sliding_window = k.u32_or("attention.sliding_window", c.sliding_window);
        set_sliding_period(c, k.u32_or("attention.sliding_window_pattern", kDefaultPeriod),
                           k.where());
        c.rope_theta_swa = k.f32_or("rope.freq_base_swa", 0.0f); // 0: the global base
    }
    void read_hf(const HparamSource& k, ModelConfig& c) const override {
        defaults(c);
        // (transformers' Gemma MLP: the tanh-approximated GELU; strata's GeGLU is that one)
        const std::string act =
            k.text_or("hidden_activation", k.text_or("hidden_act", "gelu_pytorch_tanh"));
        if (act != "gelu_pytorch_tanh" && act != "gelu")
            fail(k.where() + ": hidden_activation '" + act +
                 "' is not supported (gelu_pytorch_tanh is)");
        c.attn_softcap = k.f32_or("attn_logit_softcapping", 0.0f);
        c.final_softcap = k.f32_or("final_logit_softcapping", 0.0f);
        c.sliding_window = k.u32_or("sliding_window", c.sliding_window);
        set_sliding_period(c, k.u32_or("sliding_window_pattern", kDefaultPeriod), k.where());
        // layer_types, when given, names each layer's attention (import_hf reads its
        // "sliding_attention" / "full_attention" as 1 / 0)
        if (const auto types = k.ints("layer_types"); !types.empty()) {
            if (types.size() != c.n_layer)
                fail(k.where() + ": layer_types has " + std::to_string(types.size()) +
                     " entries for " + std::to_string(c.n_layer) + " layers");
            c.layer_sliding.assign(types.begin(), types.end());
        }
        if (k.has("query_pre_attn_scalar"))
            c.attn_scale = 1.0f / std::sqrt(float(k.number("query_pre_attn_scalar")));
    }
    // HF: pre_/post_feedforward_layernorm and post_attention_layernorm around the branches;
    // every norm weight stored minus one (Gemma's RMSNorm multiplies by 1 + weight).
    void hf_names(const ModelConfig&, HfLayerNames& n) const override {
        n.sandwich_norms();
        n.norms_minus_one = true;
    }
    void tensors(const ModelConfig& c, TensorSchema& s) const override {
        block_tensors(c, kBlock, s);
    }
    void validate(const ModelConfig& c) const override {
        if (!c.tied_output) fail("gemma2: the output projection is the token embedding (tied)");
    }
    int build(GraphBuilder& b) const override { return block_graph(b, kBlock); }
};
} // namespace

const Architecture& gemma2_architecture() {
    static const Gemma2 a;
    return a;
}

} // namespace strata
