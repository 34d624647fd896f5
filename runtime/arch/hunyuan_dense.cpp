// hunyuan-dense (Hunyuan dense v1): the llama block with NeoX RoPE and per-head Q/K RMSNorm
// applied after RoPE.
#include "core/error.h"
#include "runtime/arch/block.h"

namespace strata {

namespace {
constexpr BlockOptions kBlock{.qk_norm = QkNorm::AfterRope};

class HunyuanDense : public BlockArchitecture {
  public:
    BlockOptions options(const ModelConfig&) const override { return kBlock; }
    const char* name() const override { return "hunyuan-dense"; }
    std::vector<std::string> hf_types() const override { return {"hunyuan_v1_dense"}; }
    void defaults(ModelConfig& c) const override { c.rope_style = RopeStyle::NeoX; }
    void read_hf(const HparamSource& k, ModelConfig&) const override {
        if (!k.flag_or("use_qk_norm", true))
            fail(k.where() + ": hunyuan_v1_dense without use_qk_norm is not supported");
    }
    // HF names the Q/K norms self_attn.query_layernorm / key_layernorm.
    void hf_names(const ModelConfig&, HfLayerNames& n) const override {
        n.parts.erase("self_attn.q_norm.weight");
        n.parts.erase("self_attn.k_norm.weight");
        n.parts["self_attn.query_layernorm.weight"] = "attn_q_norm.weight";
        n.parts["self_attn.key_layernorm.weight"] = "attn_k_norm.weight";
    }
};
} // namespace

const Architecture& hunyuan_dense_architecture() {
    static const HunyuanDense a;
    return a;
}

} // namespace strata
