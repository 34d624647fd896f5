// gemma3 (text): gemma2's block (post norms, GeGLU, NeoX RoPE, embeddings x sqrt(n_embd)) with
// per-head Q/K RMSNorm before RoPE and no attention soft-cap. Sliding-window layers in a period
// (default 6: five local layers, then a global one; l % period < period - 1 slide), with their
// own RoPE base (rope.freq_base_swa / HF rope_local_base_freq, default 1e4) while the global
// layers use rope.freq_base (1e6 in the released models). Without a window every layer is
// global. A final soft-cap only when the file gives one. The output may be tied or not.
//
// The attention scale is 1/sqrt(head_dim), except for the 27B shape (62 layers), where llama.cpp
// uses 1/sqrt(n_embd / n_head); HF says query_pre_attn_scalar.
#include "runtime/arch/gemma_shared.h"

namespace strata {

namespace {
constexpr BlockOptions kBlock{.qk_norm = QkNorm::BeforeRope, .post_norms = true, .geglu = true};
constexpr uint32_t kDefaultPeriod = 6;
constexpr float kDefaultLocalBase = 10000.0f;

void set_sliding(ModelConfig& c, uint32_t window, uint32_t period, const std::string& where) {
    c.sliding_window = window;
    c.layer_sliding.clear();
    if (window == 0) return; // every layer global
    gemma::slide_by_period(c, period, where);
}

void common(ModelConfig& c) {
    c.rope_style = RopeStyle::NeoX;
    c.embd_scale = std::sqrt(float(c.n_embd));
    c.attn_softcap = 0;
    c.attn_scale = c.n_layer == 62 ? 1.0f / std::sqrt(float(c.n_embd / c.n_head)) : 0.0f;
}

class Gemma3 : public BlockArchitecture {
  public:
    BlockOptions options(const ModelConfig&) const override { return kBlock; }
    const char* name() const override { return "gemma3"; }
    std::vector<std::string> hf_types() const override { return {"gemma3_text"}; }
    // (Gemma 3 1B's: window 512, period 6)
    void defaults(ModelConfig& c) const override {
        common(c);
        set_sliding(c, 512, kDefaultPeriod, "gemma3");
        c.rope_theta_swa = kDefaultLocalBase;
    }
    void read_gguf(const HparamSource& k, const GgufFile&, ModelConfig& c) const override {
        common(c);
        set_sliding(c, k.u32_or("attention.sliding_window", 0),
                    k.u32_or("attention.sliding_window_pattern", kDefaultPeriod), k.where());
        c.rope_theta_swa = k.f32_or("rope.freq_base_swa", kDefaultLocalBase);
        c.final_softcap = k.f32_or("final_logit_softcapping", 0.0f);
    }
    void read_hf(const HparamSource& k, ModelConfig& c) const override {
        common(c);
        gemma::check_hf_activation(k);
        c.tied_output = k.flag_or("tie_word_embeddings", true); // (Gemma3TextConfig's default)
        set_sliding(c, k.u32_or("sliding_window", 0),
                    k.u32_or("sliding_window_pattern", kDefaultPeriod), k.where());
        if (c.sliding_window > 0) gemma::read_hf_layer_types(k, c);
        c.rope_theta_swa = k.f32_or("rope_local_base_freq", kDefaultLocalBase);
        c.attn_softcap = k.f32_or("attn_logit_softcapping", 0.0f);
        c.final_softcap = k.f32_or("final_logit_softcapping", 0.0f);
        gemma::read_hf_attn_scale(k, c);
    }
    void hf_names(const ModelConfig&, HfLayerNames& n) const override { gemma::hf_names(n); }
};
} // namespace

const Architecture& gemma3_architecture() {
    static const Gemma3 a;
    return a;
}

} // namespace strata
