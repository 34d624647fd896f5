// gemma2: the pre-norm block with post-attention and post-FFN norms, GeGLU (tanh GELU), NeoX
// RoPE, embeddings x sqrt(n_embd), output tied to the embedding, attention scores and logits
// soft-capped (50 and 30 unless the file says otherwise), and sliding-window attention on
// every other layer (layers 0, 2, 4, ...: llama.cpp's default period 2). Norm weights multiply
// as stored in a GGUF (llama.cpp's converter wrote HF's weight + 1); HF checkpoints store the
// weight minus one and the importer adds it back (formats/import_hf.cpp).
//
// The attention scale is 1/sqrt(head_dim), except for the 27B shape (46 layers), where
// llama.cpp (after gemma_pytorch) uses 1/sqrt(n_embd / n_head); HF says query_pre_attn_scalar.
#include "runtime/arch/gemma_shared.h"

namespace strata {

namespace {
constexpr BlockOptions kBlock{.post_norms = true, .geglu = true};
constexpr uint32_t kDefaultWindow = 4096;
constexpr uint32_t kDefaultPeriod = 2;

class Gemma2 : public BlockArchitecture {
  public:
    BlockOptions options(const ModelConfig&) const override { return kBlock; }
    const char* name() const override { return "gemma2"; }
    std::vector<std::string> hf_types() const override { return {"gemma2"}; }
    void defaults(ModelConfig& c) const override {
        c.rope_style = RopeStyle::NeoX;
        c.tied_output = true;
        c.embd_scale = std::sqrt(float(c.n_embd));
        c.attn_softcap = 50.0f;
        c.final_softcap = 30.0f;
        c.sliding_window = kDefaultWindow;
        gemma::slide_by_period(c, kDefaultPeriod, "gemma2");
        c.attn_scale = c.n_layer == 46 ? 1.0f / std::sqrt(float(c.n_embd / c.n_head)) : 0.0f;
    }
    void read_gguf(const HparamSource& k, const GgufFile&, ModelConfig& c) const override {
        defaults(c);
        c.attn_softcap = k.f32_or("attn_logit_softcapping", c.attn_softcap);
        c.final_softcap = k.f32_or("final_logit_softcapping", c.final_softcap);
        c.sliding_window = k.u32_or("attention.sliding_window", c.sliding_window);
        gemma::slide_by_period(c, k.u32_or("attention.sliding_window_pattern", kDefaultPeriod),
                               k.where());
        c.rope_theta_swa = k.f32_or("rope.freq_base_swa", 0.0f); // 0: the global base
    }
    void read_hf(const HparamSource& k, ModelConfig& c) const override {
        defaults(c);
        gemma::check_hf_activation(k);
        c.attn_softcap = k.f32_or("attn_logit_softcapping", 0.0f);
        c.final_softcap = k.f32_or("final_logit_softcapping", 0.0f);
        c.sliding_window = k.u32_or("sliding_window", c.sliding_window);
        gemma::slide_by_period(c, k.u32_or("sliding_window_pattern", kDefaultPeriod), k.where());
        gemma::read_hf_layer_types(k, c);
        gemma::read_hf_attn_scale(k, c);
    }
    void hf_names(const ModelConfig&, HfLayerNames& n) const override { gemma::hf_names(n); }
    void validate(const ModelConfig& c) const override {
        if (!c.tied_output) fail("gemma2: the output projection is the token embedding (tied)");
    }
};
} // namespace

const Architecture& gemma2_architecture() {
    static const Gemma2 a;
    return a;
}

} // namespace strata
