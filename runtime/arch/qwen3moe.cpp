// qwen3moe (Qwen3 MoE): the qwen3 block (per-head Q/K RMSNorm before NeoX RoPE) with a
// mixture-of-experts FFN: softmax router over every expert, top-k, the chosen weights
// renormalized to sum 1 (llama.cpp hard-codes the renormalization for this architecture).
#include "core/error.h"
#include "runtime/arch/block.h"

namespace strata {

namespace {
constexpr BlockOptions kBlock{.qk_norm = QkNorm::BeforeRope, .moe = true};

class Qwen3Moe : public BlockArchitecture {
  public:
    BlockOptions options(const ModelConfig&) const override { return kBlock; }
    const char* name() const override { return "qwen3moe"; }
    std::vector<std::string> hf_types() const override { return {"qwen3_moe"}; }
    void defaults(ModelConfig& c) const override {
        c.rope_style = RopeStyle::NeoX;
        c.expert_norm_topk = true;
    }
    void read_gguf(const HparamSource& k, const GgufFile&, ModelConfig& c) const override {
        defaults(c);
        c.n_expert = k.u32("expert_count");
        c.n_expert_used = k.u32("expert_used_count");
        c.n_ff_expert = k.u32("expert_feed_forward_length");
        if (k.u32_or("expert_shared_count", 0) > 0)
            fail(k.where() + ": qwen3moe: shared experts are not supported");
    }
    // HF: experts as mlp.experts.{e}.{gate,up,down}_proj (stacked by the importer), router
    // mlp.gate; the renormalization is the config's norm_topk_prob (true in the released models).
    void read_hf(const HparamSource& k, ModelConfig& c) const override {
        defaults(c);
        c.n_expert = k.u32("num_experts");
        c.n_expert_used = k.u32("num_experts_per_tok");
        c.n_ff_expert = k.u32("moe_intermediate_size");
        c.expert_norm_topk = k.flag_or("norm_topk_prob", false);
        if (k.f32_or("decoder_sparse_step", 1.0f) != 1.0f || !k.ints("mlp_only_layers").empty())
            fail(k.where() + ": qwen3_moe with dense layers between the MoE layers "
                             "(decoder_sparse_step, mlp_only_layers) is not supported");
    }
    void validate(const ModelConfig& c) const override {
        if (c.n_expert == 0) fail("qwen3moe: expert_count is missing");
    }
};
} // namespace

const Architecture& qwen3moe_architecture() {
    static const Qwen3Moe a;
    return a;
}

} // namespace strata
