// phi3 (Phi-3/3.5 mini): the llama block with one fused attn_qkv matrix (rows Q, K, V) and a
// fused ffn_up of 2 n_ff rows (gate first, then up; SwiGLU), NeoX RoPE. Long-context RoPE
// factors (rope_factors_long/short, HF rope_scaling longrope) are refused. HF model_type "phi3"
// stores the same fused matrices (self_attn.qkv_proj, mlp.gate_up_proj) in the same row order.
// Phi-3-mini-4k declares a sliding window (2047) shorter than its context: transformers applies
// it on every layer, so strata does too (llama.cpp ignores it; they differ only past the window).
#include "core/error.h"
#include "formats/gguf_reader.h"
#include "runtime/arch/block.h"

namespace strata {

namespace {
constexpr BlockOptions kBlock{.fused_qkv = true, .fused_gate_up = true};

class Phi3 : public BlockArchitecture {
    // Every layer slides when the window is shorter than the trained context.
    static void sliding_window(uint32_t window, ModelConfig& c) {
        if (window == 0 || window >= c.n_ctx_train) return;
        c.sliding_window = window;
        c.layer_sliding.assign(c.n_layer, 1);
    }

  public:
    BlockOptions options(const ModelConfig&) const override { return kBlock; }
    const char* name() const override { return "phi3"; }
    void defaults(ModelConfig& c) const override { c.rope_style = RopeStyle::NeoX; }
    void read_gguf(const HparamSource& k, const GgufFile& g, ModelConfig& c) const override {
        defaults(c);
        if (g.find("rope_factors_long.weight") || g.find("rope_factors_short.weight"))
            fail(k.where() + ": phi3: long-context RoPE factors (rope_factors_long/short, "
                             "LongRoPE) are not supported");
        sliding_window(k.u32_or("attention.sliding_window", 0), c);
    }
    std::vector<std::string> hf_types() const override { return {"phi3"}; }
    void read_hf(const HparamSource& k, ModelConfig& c) const override {
        defaults(c);
        sliding_window(k.u32_or("sliding_window", 0), c);
    }
    // HF's fused matrices hold the GGUF rows in the same order (gate_up: gate rows, then up).
    void hf_names(const ModelConfig&, HfLayerNames& n) const override {
        n.parts["self_attn.qkv_proj.weight"] = "attn_qkv.weight";
        n.parts["mlp.gate_up_proj.weight"] = "ffn_up.weight";
    }
};
} // namespace

const Architecture& phi3_architecture() {
    static const Phi3 a;
    return a;
}

} // namespace strata
