// A compact compute graph, ggml-style: nodes record an op, its sources and a few parameters;
// computing is a separate step. Activations are 2-D float tensors [n_tokens, width] (row
// stride in floats, so a view of the last row or of a column range costs nothing). Memory is
// planned once per graph: every tensor gets an offset in one arena, reusing the space of
// tensors no longer needed, so running a graph allocates nothing. Graphs are built per batch
// size by an architecture file (runtime/arch/) through GraphBuilder (graph_builder.h) and run by
// the generic executor (graph.cpp), which dispatches each node through a table of op functions.
#pragma once

#include "ops/kernels.h"
#include "ops/matmul.h"
#include "ops/rope.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace strata {

class KvCache;

// RoPE parameters and their per-pair inverse frequencies (scaling and frequency factors
// applied); a model has one per distinct base (gemma3's sliding layers have their own).
struct RopeTable {
    RopeParams params;
    std::vector<float> inv_freq;
};

enum class Op : uint8_t {
    GetRows,   // dst[t] = dequantized row tokens[t] of matrix w
    RmsNorm,   // dst = rmsnorm(src0) * vec
    MatMul,    // dst = src0 x w^T
    AddBias,   // src0 += vec (in place)
    Add,       // src0 += src1 (in place)
    Rope,      // RoPE on src0 in place with table `rope`, n_heads heads, at each row's position
    StoreKv,   // K rows src0 and V rows src1 into cache slot `slot` at each row's position
    Attention, // dst = attention of queries src0 over cache slot `slot`, causal
    SwiGlu,    // dst = silu(src0) * src1
    Scale,     // src0 *= f (in place)
    SoftCap,   // src0 = f tanh(src0 / f) (in place)
    HeadNorm,  // each of n_heads heads of src0 = rmsnorm(head) * vec (in place; vec per head;
               // null: no weight)
    GeGlu,     // dst = gelu_tanh(src0) * src1
    Moe,       // dst = mixture of experts `moe` on src0, router logits src1, scratch row aux
    // (Gemma 3n's AltUp, per-layer inputs and sparse FFN gate; n_heads = S streams of width
    // D side by side in one row of S * D)
    Tanh,          // src0 = tanh(src0) (in place)
    StreamMix,     // dst stream i = src0 stream i + sum_k src1[i * S + k] * src0 stream k
    StreamCorrect, // src0 stream i += (src1 - src0 stream 0) * (aux[i] + 1) (in place)
    MatchNorm,     // dst = src0 * |aux| / |src0| per row (L2 norms; dst may be src0)
    GaussianTopK,  // src0 = relu(src0 - (mean + f * std)) per row (in place; std over n - 1)
    MulVec,        // dst = src0 * vec, column by column
    Copy,          // dst = src0
    Count,
};

// One layer's experts (each array n_expert long) and how they are chosen.
struct MoeWeights {
    const MatrixRef *gate = nullptr, *up = nullptr, *down = nullptr;
    int n_expert = 0, n_used = 0;
    bool norm_topk = false; // the chosen weights renormalized to sum 1
};
// Floats of the Moe op's scratch row.
inline int moe_scratch_floats(int n_expert, int n_ff_expert, int n_embd) {
    return n_expert + 3 * n_ff_expert + n_embd;
}

struct TensorDesc {
    int rows = 0, cols = 0; // [n_tokens, width]
    int stride = 0;         // floats between rows
    size_t offset = 0;      // in the arena (floats); planned
    int view_of = -1;       // views share their base tensor's memory
    int view_row = 0;       // first row of the base (views)
    int view_col = 0;       // first column of the base (views)
};

struct Node {
    Op op;
    int dst = -1, src0 = -1, src1 = -1;
    const MatrixRef* w = nullptr;    // MatMul, GetRows
    const float* vec = nullptr;      // RmsNorm/HeadNorm weight, AddBias bias
    int slot = -1;                   // StoreKv, Attention
    int n_heads = 0;                 // Rope, HeadNorm
    const RopeTable* rope = nullptr; // Rope
    float f = 0;                     // Scale factor, SoftCap cap, Attention scale (0: 1/sqrt(d))
    const MoeWeights* moe = nullptr; // Moe
    int aux = -1;                    // Moe: scratch; StreamCorrect, MatchNorm: a source
    int window = 0;                  // Attention: sliding window (0: the whole context)
    float softcap = 0;               // Attention: score soft-cap (0: none)
};

struct GraphContext {
    const Kernels* kernels;
    int n_threads;
    KvCache* cache;
    const int32_t* tokens;
    int pos0; // position of row 0 (row t is at pos0 + t)
    float norm_eps;
    int n_head, n_head_kv, head_dim;
    // Partial results when one token's attention is split into chunks of kAttentionChunk
    // positions: attention_partial_floats(...) floats.
    float* attn_partials = nullptr;
    // Batched decode of several sequences, one token each (Session::decode_batch): row t is at
    // position row_pos[t] of cache row_cache[t]. nullptr: rows are positions pos0.. of `cache`.
    const int* row_pos = nullptr;
    KvCache* const* row_cache = nullptr;
    int pos(int row) const { return row_pos ? row_pos[row] : pos0 + row; }
    KvCache* cache_of(int row) const { return row_cache ? row_cache[row] : cache; }
};

size_t attention_partial_floats(int n_ctx, int n_head, int head_dim);

class Graph {
  public:
    int tensor(int rows, int cols);
    // A view of `count` rows of `base` from row `first` (no copy).
    int view_rows(int base, int first, int count);
    // A view of columns [first, first + count) of every row of `base` (no copy).
    int view_cols(int base, int first, int count);
    void add(const Node& n) { nodes_.push_back(n); }
    void set_output(int t) { output_ = t; }

    // Assigns arena offsets; call once after building.
    void plan();
    size_t arena_floats() const { return arena_floats_; }
    size_t activation_bytes() const { return act_bytes_; }
    size_t nodes() const { return nodes_.size(); }
    size_t count(Op op) const {
        size_t c = 0;
        for (const Node& n : nodes_) c += n.op == op;
        return c;
    }
    // Floats all tensors would take without sharing (for checking the plan).
    size_t unshared_floats() const {
        size_t s = 0;
        for (const TensorDesc& d : tensors_)
            if (d.view_of < 0) s += size_t(d.rows) * size_t(d.stride);
        return s;
    }

    // Runs every node. `arena` holds arena_floats() floats, `act` activation_bytes() bytes.
    void compute(const GraphContext& ctx, float* arena, uint8_t* act, float* attn_scratch) const;
    const float* output(const float* arena) const { return arena + desc(output_).offset; }

    // (for the op functions of graph.cpp)
    const TensorDesc& desc(int t) const { return tensors_[size_t(t)]; }
    float* data(float* arena, int t) const;
    const Node& node(size_t i) const { return nodes_[i]; }

  private:
    std::vector<TensorDesc> tensors_;
    std::vector<Node> nodes_;
    int output_ = -1;
    size_t arena_floats_ = 0, act_bytes_ = 0;
};

} // namespace strata
