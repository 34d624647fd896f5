// smollm3: the llama block (NeoX-free: GGUF Q/K permuted as for llama) with no RoPE on every
// 4th layer (layers 3, 7, 11, ...). llama.cpp hard-codes the interval 4; HF config.json lists
// the layers in no_rope_layers (1 = RoPE, 0 = none).
#include "core/error.h"
#include "runtime/arch/block.h"

namespace strata {

namespace {
constexpr uint32_t kNoRopeInterval = 4;

class SmolLM3 : public BlockArchitecture {
  public:
    const char* name() const override { return "smollm3"; }
    std::vector<std::string> hf_types() const override { return {"smollm3"}; }
    void defaults(ModelConfig& c) const override {
        c.layer_rope.assign(c.n_layer, 1);
        for (uint32_t l = 0; l < c.n_layer; l++) c.layer_rope[l] = (l + 1) % kNoRopeInterval != 0;
    }
    void read_gguf(const HparamSource&, const GgufFile&, ModelConfig& c) const override {
        c.rope_style = RopeStyle::Normal;
        defaults(c);
    }
    void read_hf(const HparamSource& k, ModelConfig& c) const override {
        const auto layers = k.ints("no_rope_layers");
        if (layers.empty()) return defaults(c);
        if (layers.size() != c.n_layer)
            fail(k.where() + ": no_rope_layers has " + std::to_string(layers.size()) +
                 " entries for " + std::to_string(c.n_layer) + " layers");
        c.layer_rope.assign(layers.begin(), layers.end());
    }
};
} // namespace

const Architecture& smollm3_architecture() {
    static const SmolLM3 a;
    return a;
}

} // namespace strata
