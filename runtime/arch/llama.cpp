// llama: Llama 2/3 (Llama 3's RoPE frequency factors: GGUF rope_freqs.weight, HF rope_scaling
// llama3), TinyLlama, SmolLM, Mistral. GGUF llama Q/K rows are permuted for adjacent-pair RoPE;
// HF checkpoints rotate halves (NeoX), set by the HF importer.
#include "core/error.h"
#include "runtime/arch/block.h"

namespace strata {

namespace {
class Llama : public Architecture {
  public:
    const char* name() const override { return "llama"; }
    std::vector<std::string> hf_types() const override { return {"llama", "mistral"}; }
    void read_gguf(const HparamSource& k, const GgufFile&, ModelConfig& c) const override {
        c.rope_style = RopeStyle::Normal;
        if (k.u32_or("expert_count", 0) > 0)
            fail(k.where() + ": llama: mixture-of-experts FFNs (expert_count " +
                 std::to_string(k.u32("expert_count")) + ") are not supported yet");
    }
    void read_hf(const HparamSource&, ModelConfig&) const override {}
    void tensors(const ModelConfig& c, TensorSchema& s) const override {
        block_tensors(c, {}, s);
    }
    int build(GraphBuilder& b) const override { return block_graph(b, {}); }
};
} // namespace

const Architecture& llama_architecture() {
    static const Llama a;
    return a;
}

} // namespace strata
