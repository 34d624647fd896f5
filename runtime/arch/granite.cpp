// granite (IBM Granite 3.x dense): the llama block with four multipliers — embeddings x
// embedding_scale, each branch's output x residual_scale before its residual add, attention
// scores x attention.scale (instead of 1/sqrt(head_dim)), logits / logit_scale.
#include "runtime/arch/block.h"

namespace strata {

namespace {
class Granite : public BlockArchitecture {
  public:
    const char* name() const override { return "granite"; }
    std::vector<std::string> hf_types() const override { return {"granite"}; }
    void read_gguf(const HparamSource& k, const GgufFile&, ModelConfig& c) const override {
        c.rope_style = RopeStyle::Normal; // (llama.cpp's converter permutes Q/K as for llama)
        c.embd_scale = k.f32_or("embedding_scale", 1.0f);
        c.residual_scale = k.f32_or("residual_scale", 1.0f);
        c.attn_scale = k.f32_or("attention.scale", 0.0f);
        c.logit_scale = k.f32_or("logit_scale", 1.0f);
    }
    void read_hf(const HparamSource& k, ModelConfig& c) const override {
        c.embd_scale = k.f32_or("embedding_multiplier", 1.0f);
        c.residual_scale = k.f32_or("residual_multiplier", 1.0f);
        c.attn_scale = k.f32_or("attention_multiplier", 0.0f);
        c.logit_scale = k.f32_or("logits_scaling", 1.0f);
    }
};
} // namespace

const Architecture& granite_architecture() {
    static const Granite a;
    return a;
}

} // namespace strata
