// hunyuan-dense (Hunyuan dense v1): the llama block with NeoX RoPE and per-head Q/K RMSNorm
// applied after RoPE.
#include "runtime/arch/block.h"

namespace strata {

namespace {
constexpr BlockOptions kBlock{.qk_norm = QkNorm::AfterRope};

class HunyuanDense : public Architecture {
  public:
    const char* name() const override { return "hunyuan-dense"; }
    std::vector<std::string> hf_types() const override { return {"hunyuan_v1_dense"}; }
    void defaults(ModelConfig& c) const override { c.rope_style = RopeStyle::NeoX; }
    void read_gguf(const HparamSource&, const GgufFile&, ModelConfig& c) const override {
        defaults(c);
    }
    void read_hf(const HparamSource&, ModelConfig&) const override {}
    void tensors(const ModelConfig& c, TensorSchema& s) const override {
        block_tensors(c, kBlock, s);
    }
    int build(GraphBuilder& b) const override { return block_graph(b, kBlock); }
};
} // namespace

const Architecture& hunyuan_dense_architecture() {
    static const HunyuanDense a;
    return a;
}

} // namespace strata
