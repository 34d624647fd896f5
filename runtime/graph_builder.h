// Named ops for architecture files: each call adds one node to the graph (or none, when it
// would do nothing: a scale of 1, a missing bias) and returns the tensor it made. Activations
// are [n_tokens, width]; in-place ops return nothing.
#pragma once

#include "runtime/graph.h"
#include "runtime/model.h"

namespace strata {

class GraphBuilder {
  public:
    GraphBuilder(const Model& m, int n_tokens, bool all_logits)
        : model(m), config(m.config()), n(n_tokens), all_logits(all_logits) {}
    const Model& model;
    const ModelConfig& config;
    const int n;           // tokens in the batch
    const bool all_logits; // logits for every token, not only the last

    int tensor(int cols) { return g_.tensor(n, cols); }
    // Token embeddings (rows of token_embd), times config.embd_scale.
    int embed();
    int rms_norm(int x, const float* w);
    int matmul(int x, const MatrixRef& w);
    void add_bias(int x, const float* b);
    void add(int x, int y); // x += y
    void scale(int x, float s);
    void softcap(int x, float cap);
    // RMSNorm of each of n_heads heads of x in place, with one head's weight (or, n_heads 1,
    // the whole row's).
    void head_norm(int x, const float* w, int n_heads);
    void rope(int x, int n_heads, const RopeTable& r);
    void store_kv(int k, int v, int slot);
    // Causal attention of queries q over cache slot `slot`; scale 0: 1/sqrt(head_dim); window
    // > 0: each query sees only its last `window` positions; softcap > 0: scores soft-capped.
    int attention(int q, int slot, float scale, int window = 0, float softcap = 0);
    int swiglu(int gate, int up);
    int geglu(int gate, int up);
    // Mixture of experts on normalized input xn: router logits (a matmul), then per token the
    // chosen experts' SwiGLU FFNs, weighted and summed.
    int moe(int xn, const MatrixRef& router, const MoeWeights& experts);
    // Gemma 3n's pieces (graph.h says what each op computes). Rows of matrix w for the batch's
    // tokens (another embedding table).
    int get_rows(const MatrixRef& w);
    void tanh(int x);
    // Streams: `streams` holds s streams of width D side by side ([n, s * D]).
    int stream_mix(int streams, int coefs, int s);
    void stream_correct(int predictions, int actual, int coefs, int s);
    // dst = x rescaled to the L2 norm of `target` (per row); match_norm: in place.
    void match_norm_into(int dst, int x, int target);
    void match_norm(int x, int target) { match_norm_into(x, x, target); }
    void gaussian_topk(int x, float std_mul);
    int mul_vec(int x, const float* v);
    void copy_into(int dst, int x);
    // RMSNorm without a weight of each of n_heads heads of x, in place.
    void head_rms(int x, int n_heads);
    // Columns [first, first + count) of x (a view, no copy).
    int cols(int x, int first, int count) { return g_.view_cols(x, first, count); }
    // The rows whose logits are wanted: the last token's, or all.
    int logit_rows(int x);
    // Plans and returns the graph whose output is `logits`.
    Graph finish(int logits);

  private:
    Graph g_;
};

} // namespace strata
