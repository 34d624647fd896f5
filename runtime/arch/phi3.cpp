// phi3 (Phi-3/3.5 mini): the llama block with one fused attn_qkv matrix (rows Q, K, V) and a
// fused ffn_up of 2 n_ff rows (gate first, then up; SwiGLU), NeoX RoPE. Long-context RoPE
// factors (rope_factors_long/short) are refused.
#include "core/error.h"
#include "runtime/arch/block.h"
#include "formats/gguf_reader.h"

namespace strata {

namespace {
constexpr BlockOptions kBlock{.fused_qkv = true, .fused_gate_up = true};

class Phi3 : public Architecture {
  public:
    const char* name() const override { return "phi3"; }
    void defaults(ModelConfig& c) const override { c.rope_style = RopeStyle::NeoX; }
    void read_gguf(const HparamSource& k, const GgufFile& g, ModelConfig& c) const override {
        defaults(c);
        if (g.find("rope_factors_long.weight") || g.find("rope_factors_short.weight"))
            fail(k.where() + ": phi3: long-context RoPE factors (rope_factors_long/short, "
                             "LongRoPE) are not supported");
        if (k.has("attention.sliding_window") &&
            k.u32("attention.sliding_window") < c.n_ctx_train)
            fail(k.where() + ": phi3: sliding-window attention (window " +
                 std::to_string(k.u32("attention.sliding_window")) + ") is not supported");
    }
    void tensors(const ModelConfig& c, TensorSchema& s) const override {
        block_tensors(c, kBlock, s);
    }
    int build(GraphBuilder& b) const override { return block_graph(b, kBlock); }
};
} // namespace

const Architecture& phi3_architecture() {
    static const Phi3 a;
    return a;
}

} // namespace strata
