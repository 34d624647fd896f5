// olmoe (OLMoE): the llama block with RMSNorm over the whole Q and K rows (not per head) before
// NeoX RoPE, and a mixture-of-experts FFN whose top-k weights are NOT renormalized (softmax
// over every expert, then the k largest as they are). Expert width = feed_forward_length.
#include "core/error.h"
#include "runtime/arch/block.h"

namespace strata {

namespace {
constexpr BlockOptions kBlock{.qk_norm = QkNorm::FullWidth, .moe = true};

class Olmoe : public BlockArchitecture {
  public:
    BlockOptions options(const ModelConfig&) const override { return kBlock; }
    const char* name() const override { return "olmoe"; }
    std::vector<std::string> hf_types() const override { return {"olmoe"}; }
    void defaults(ModelConfig& c) const override {
        c.rope_style = RopeStyle::NeoX;
        c.expert_norm_topk = false;
        if (c.n_ff_expert == 0) c.n_ff_expert = c.n_ff;
    }
    void read_gguf(const HparamSource& k, const GgufFile&, ModelConfig& c) const override {
        c.n_expert = k.u32("expert_count");
        c.n_expert_used = k.u32("expert_used_count");
        c.n_ff_expert = k.u32_or("expert_feed_forward_length", c.n_ff);
        defaults(c);
    }
    // HF: intermediate_size is each expert's width; norm_topk_prob false in the released models.
    void read_hf(const HparamSource& k, ModelConfig& c) const override {
        c.n_expert = k.u32("num_experts");
        c.n_expert_used = k.u32("num_experts_per_tok");
        c.n_ff_expert = c.n_ff;
        defaults(c);
        c.expert_norm_topk = k.flag_or("norm_topk_prob", false);
        if (k.has("clip_qkv")) fail(k.where() + ": olmoe clip_qkv is not supported");
    }
    void validate(const ModelConfig& c) const override {
        if (c.n_expert == 0) fail("olmoe: expert_count is missing");
    }
};
} // namespace

const Architecture& olmoe_architecture() {
    static const Olmoe a;
    return a;
}

} // namespace strata
