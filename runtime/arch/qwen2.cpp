// qwen2: the llama block with Q/K/V biases and NeoX (rotate-halves) RoPE.
#include "runtime/arch/block.h"

namespace strata {

namespace {
constexpr BlockOptions kBlock{.qkv_bias = true};

class Qwen2 : public BlockArchitecture {
  public:
    BlockOptions options(const ModelConfig&) const override { return kBlock; }
    const char* name() const override { return "qwen2"; }
    std::vector<std::string> hf_types() const override { return {"qwen2"}; }
    void defaults(ModelConfig& c) const override {
        c.rope_style = RopeStyle::NeoX;
        c.attn_bias = true;
    }
    void read_hf(const HparamSource&, ModelConfig&) const override {}
};
} // namespace

const Architecture& qwen2_architecture() {
    static const Qwen2 a;
    return a;
}

} // namespace strata
