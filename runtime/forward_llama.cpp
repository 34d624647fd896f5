// The llama-family graph (Llama 2/3, TinyLlama, SmolLM, Mistral, Qwen2 with its Q/K/V biases):
// embedding; per layer RMSNorm, Q/K/V projections, RoPE, K/V into the cache (source layers
// only), attention over the cache slot of the layer's kv_source (GQA/MQA/CLA), output projection
// and residual, RMSNorm, SwiGLU FFN and residual; then the output norm and head. Every matmul
// takes all n tokens of the batch at once.
#include "runtime/forward.h"

namespace strata {

Graph build_llama_graph(const Model& m, int n, bool all_logits) {
    const ModelConfig& c = m.config();
    const int D = int(c.n_embd), F = int(c.n_ff), HD = int(c.head_dim);
    const int QD = int(c.n_head) * HD, KVD = int(c.n_head_kv) * HD;
    Graph g;
    const int x = g.tensor(n, D);
    g.add({Op::GetRows, x, -1, -1, &m.token_embd});
    for (const LayerWeights& L : m.layers) {
        const int xn = g.tensor(n, D);
        g.add({Op::RmsNorm, xn, x, -1, nullptr, L.attn_norm});
        const int q = g.tensor(n, QD);
        g.add({Op::MatMul, q, xn, -1, &L.wq});
        // (a source layer's K and V projections right after Q: the executor runs the three
        // matmuls on one input together)
        const int k = L.wk.data ? g.tensor(n, KVD) : -1, v = L.wk.data ? g.tensor(n, KVD) : -1;
        if (L.wk.data) {
            g.add({Op::MatMul, k, xn, -1, &L.wk});
            g.add({Op::MatMul, v, xn, -1, &L.wv});
        }
        if (L.bq) g.add({Op::AddBias, -1, q, -1, nullptr, L.bq});
        g.add({Op::Rope, -1, q, -1, nullptr, nullptr, -1, int(c.n_head)});
        if (L.wk.data) { // a source layer: finish and store its K/V
            if (L.bk) g.add({Op::AddBias, -1, k, -1, nullptr, L.bk});
            if (L.bv) g.add({Op::AddBias, -1, v, -1, nullptr, L.bv});
            g.add({Op::Rope, -1, k, -1, nullptr, nullptr, -1, int(c.n_head_kv)});
            g.add({Op::StoreKv, -1, k, v, nullptr, nullptr, L.kv_slot});
        }
        const int att = g.tensor(n, QD);
        g.add({Op::Attention, att, q, -1, nullptr, nullptr, L.kv_slot});
        const int o = g.tensor(n, D);
        g.add({Op::MatMul, o, att, -1, &L.wo});
        g.add({Op::Add, -1, x, o});
        const int xn2 = g.tensor(n, D);
        g.add({Op::RmsNorm, xn2, x, -1, nullptr, L.ffn_norm});
        const int gate = g.tensor(n, F), up = g.tensor(n, F), h = g.tensor(n, F);
        g.add({Op::MatMul, gate, xn2, -1, &L.w_gate});
        g.add({Op::MatMul, up, xn2, -1, &L.w_up});
        g.add({Op::SwiGlu, h, gate, up});
        const int down = g.tensor(n, D);
        g.add({Op::MatMul, down, h, -1, &L.w_down});
        g.add({Op::Add, -1, x, down});
    }
    const int rows = all_logits ? n : 1;
    const int last = g.view_rows(x, n - rows, rows);
    const int xo = g.tensor(rows, D);
    g.add({Op::RmsNorm, xo, last, -1, nullptr, m.output_norm});
    const int logits = g.tensor(rows, int(c.n_vocab));
    g.add({Op::MatMul, logits, xo, -1, &m.output});
    g.set_output(logits);
    g.plan();
    return g;
}

} // namespace strata
