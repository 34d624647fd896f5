// olmoe (OLMoE): the llama block with RMSNorm over the whole Q and K rows (not per head) before
// NeoX RoPE, and a mixture-of-experts FFN whose top-k weights are NOT renormalized (softmax
// over every expert, then the k largest as they are). Expert width = feed_forward_length.
#include "core/error.h"
#include "runtime/arch/block.h"

namespace strata {

namespace {
constexpr BlockOptions kBlock{.qk_norm = QkNorm::FullWidth, .moe = true};

class Olmoe : public Architecture {
  public:
    const char* name() const override { return "olmoe"; }
    // (HF import not enabled until a test writes this family back as an HF directory:
    // hf_types() stays empty, so a config.json of it is refused naming its model_type)
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
    void tensors(const ModelConfig& c, TensorSchema& s) const override {
        block_tensors(c, kBlock, s);
    }
    void validate(const ModelConfig& c) const override {
        if (c.n_expert == 0) fail("olmoe: expert_count is missing");
    }
    int build(GraphBuilder& b) const override { return block_graph(b, kBlock); }
};
} // namespace

const Architecture& olmoe_architecture() {
    static const Olmoe a;
    return a;
}

} // namespace strata
