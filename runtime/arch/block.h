// The pre-norm transformer block most architectures are variations of, with its variations as
// options: an architecture file fills a BlockOptions and gets its tensor schema and its graph
// from the same description, so the two cannot disagree.
#pragma once

#include "runtime/arch/arch.h"

namespace strata {

enum class QkNorm : uint8_t {
    None,
    BeforeRope, // per-head RMSNorm of Q and K, then RoPE (qwen3, gemma3)
    AfterRope,  // RoPE, then the per-head RMSNorm (hunyuan)
    FullWidth,  // RMSNorm over the whole Q and K rows before RoPE (olmoe)
};

struct BlockOptions {
    bool qkv_bias = false; // Q/K/V biases (qwen2)
    QkNorm qk_norm = QkNorm::None;
    bool fused_qkv = false;     // one attn_qkv matrix, rows Q then K then V (phi3)
    bool fused_gate_up = false; // ffn_up of 2 n_ff rows, gate first (phi3)
    bool post_norms = false;    // post_attention_norm / post_ffw_norm on each branch (gemma2/3)
    bool geglu = false;         // GELU(tanh) gate instead of SiLU (gemma)
    bool moe = false;           // mixture-of-experts FFN (config.n_expert experts)
};

// The tensors of a model of these blocks: embedding, per layer the block's, output norm,
// rope_freqs when the config has them, output unless tied.
void block_tensors(const ModelConfig& c, const BlockOptions& o, TensorSchema& s);

// Embedding, the blocks, output norm and head (logit scale and final soft-cap applied).
int block_graph(GraphBuilder& b, const BlockOptions& o);

// An architecture made of these blocks: its tensor schema and its graph both come from
// options(), so a file of this kind says only what differs (names, hyperparameters, options).
// Reading a GGUF applies defaults() unless the file overrides read_gguf.
class BlockArchitecture : public Architecture {
  public:
    virtual BlockOptions options(const ModelConfig&) const { return {}; }
    void read_gguf(const HparamSource&, const GgufFile&, ModelConfig& c) const override {
        defaults(c);
    }
    void tensors(const ModelConfig& c, TensorSchema& s) const override {
        block_tensors(c, options(c), s);
    }
    int build(GraphBuilder& b) const override { return block_graph(b, options(b.config)); }
};

// Attention/FFN branch pieces, for architectures that assemble their own layer.
int attention_branch(GraphBuilder& b, const BlockOptions& o, int layer, int xn);
int ffn_branch(GraphBuilder& b, const BlockOptions& o, int layer, int xn);
int output_head(GraphBuilder& b, int x);

} // namespace strata
