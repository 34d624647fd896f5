// llama: Llama 2/3 (Llama 3's RoPE frequency factors: GGUF rope_freqs.weight, HF rope_scaling
// llama3), TinyLlama, SmolLM, Mistral, Mixtral (GGUF llama with expert_count; HF model_type
// mixtral: num_local_experts, block_sparse_moe.experts.{e}.w1/w2/w3, each expert
// intermediate_size wide, the top-k weights always renormalized). GGUF llama Q/K rows are permuted
// for adjacent-pair RoPE; HF checkpoints rotate halves (NeoX), set by the HF importer.
#include "core/error.h"
#include "runtime/arch/block.h"

namespace strata {

namespace {
class Llama : public BlockArchitecture {
  public:
    const char* name() const override { return "llama"; }
    std::vector<std::string> hf_types() const override { return {"llama", "mistral", "mixtral"}; }
    void read_gguf(const HparamSource& k, const GgufFile&, ModelConfig& c) const override {
        c.rope_style = RopeStyle::Normal;
        if (k.u32_or("expert_count", 0) > 0) { // Mixtral-style: renormalized top-k
            c.n_expert = k.u32("expert_count");
            c.n_expert_used = k.u32("expert_used_count");
            c.n_ff_expert = k.u32_or("expert_feed_forward_length", c.n_ff);
            c.expert_norm_topk = true;
        }
    }
    void read_hf(const HparamSource& k, ModelConfig& c) const override {
        if (!k.has("num_local_experts")) return;
        c.n_expert = k.u32("num_local_experts");
        c.n_expert_used = k.u32("num_experts_per_tok");
        c.n_ff_expert = c.n_ff;
        c.expert_norm_topk = true; // softmax over the chosen experts' logits
    }
    // Mixtral: router block_sparse_moe.gate, experts block_sparse_moe.experts.{e}.w1 (gate),
    // w3 (up), w2 (down).
    void hf_names(const ModelConfig& c, HfLayerNames& n) const override {
        if (c.n_expert == 0) return;
        n.parts.erase("mlp.gate.weight");
        n.parts["block_sparse_moe.gate.weight"] = "ffn_gate_inp.weight";
        n.expert_prefix = "block_sparse_moe.experts.";
        n.expert_gate = "w1";
        n.expert_up = "w3";
        n.expert_down = "w2";
    }
    BlockOptions options(const ModelConfig& c) const override { return {.moe = c.n_expert > 0}; }
};
} // namespace

const Architecture& llama_architecture() {
    static const Llama a;
    return a;
}

} // namespace strata
