// qwen3: the llama block without biases, per-head Q/K RMSNorm before NeoX RoPE.
#include "runtime/arch/block.h"

namespace strata {

namespace {
constexpr BlockOptions kBlock{.qk_norm = QkNorm::BeforeRope};

class Qwen3 : public BlockArchitecture {
  public:
    BlockOptions options(const ModelConfig&) const override { return kBlock; }
    const char* name() const override { return "qwen3"; }
    std::vector<std::string> hf_types() const override { return {"qwen3"}; }
    void defaults(ModelConfig& c) const override { c.rope_style = RopeStyle::NeoX; }
    void read_hf(const HparamSource&, ModelConfig&) const override {}
};
} // namespace

const Architecture& qwen3_architecture() {
    static const Qwen3 a;
    return a;
}

} // namespace strata
