// The llama-family forward pass (Llama 2/3, TinyLlama, SmolLM, Mistral, Qwen2 with its Q/K/V
// biases): embedding, then per layer RMSNorm, Q/K/V projections, RoPE, attention over the KV
// cache (GQA/MQA grouping; CLA through kv_source, read via each layer's cache slot), output
// projection and residual, RMSNorm, SwiGLU FFN and residual; then the output norm and head.
// Every matmul takes all n tokens at once (prefill) or one (decode).
#include "formats/error.h"
#include "formats/half.h"
#include "ops/attention.h"
#include "ops/quantize_ref.h"
#include "runtime/session.h"

#include <cmath>
#include <cstring>
#include <omp.h>

namespace strata {

void Workspace::reserve(const Model& m, int n, int n_threads, bool all_logits) {
    const ModelConfig& c = m.config();
    const size_t q_dim = size_t(c.n_head) * c.head_dim, kv_dim = size_t(c.n_head_kv) * c.head_dim;
    const size_t need_logits = size_t(all_logits ? n : 1) * c.n_vocab;
    if (n <= capacity && logits.size() >= need_logits && int(attn_scratch.size()) >= n_threads)
        return;
    capacity = std::max(capacity, n);
    const size_t N = size_t(capacity);
    x.resize(N * c.n_embd);
    xn.resize(N * std::max<size_t>(c.n_embd, q_dim));
    q.resize(N * q_dim);
    k.resize(N * kv_dim);
    v.resize(N * kv_dim);
    att.resize(N * q_dim);
    gate.resize(N * c.n_ff);
    up.resize(N * c.n_ff);
    logits.resize(std::max(logits.size(), need_logits));
    size_t act_bytes = 0;
    auto consider = [&](const MatrixRef& w) {
        if (w.data) act_bytes = std::max(act_bytes, activation_row_bytes(w.type, w.cols) * N);
    };
    for (const auto& l : m.layers)
        for (const MatrixRef* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down})
            consider(*w);
    consider(m.output);
    act.resize(act_bytes);
    attn_scratch.resize(size_t(std::max(1, n_threads)) *
                        attention_scratch_floats(int(c.n_head), int(c.n_head_kv), int(c.head_dim)));
}

namespace {

// y (n x w.rows) = W x (n x w.cols, stride x_stride), via the shared activation buffer.
void project(const Kernels& k, Workspace& ws, const MatrixRef& w, const float* x, int x_stride,
             int n, float* y, int n_threads) {
    quantize_activations(k, w.type, x, x_stride, w.cols, n, ws.act.data());
    matmul(k, w, ws.act.data(), n, y, w.rows, n_threads);
}

void add_bias(float* y, const float* b, int n, int dim) {
    if (!b) return;
    for (int t = 0; t < n; t++)
        for (int i = 0; i < dim; i++) y[size_t(t) * dim + i] += b[i];
}

} // namespace

void forward_llama(const Model& m, KvCache& cache, Workspace& ws, const Kernels& k, int n_threads,
                   const int32_t* tokens, int n, int pos0, bool all_logits) {
    const ModelConfig& c = m.config();
    const int D = int(c.n_embd), F = int(c.n_ff), HD = int(c.head_dim);
    const int QD = int(c.n_head) * HD, KVD = int(c.n_head_kv) * HD;
    ws.reserve(m, n, n_threads, all_logits);

    // Embedding rows, dequantized from whatever type token_embd has.
    const size_t embd_row = row_bytes(m.token_embd.type, uint64_t(D));
    for (int t = 0; t < n; t++) {
        if (tokens[t] < 0 || tokens[t] >= int(c.n_vocab))
            fail("token id " + std::to_string(tokens[t]) + " is out of range");
        dequantize_row_ref(m.token_embd.type,
                           static_cast<const uint8_t*>(m.token_embd.data) +
                               size_t(tokens[t]) * embd_row,
                           ws.x.data() + size_t(t) * D, D);
    }

    const float scale = 1.0f / std::sqrt(float(HD));
    for (const LayerWeights& L : m.layers) {
        for (int t = 0; t < n; t++)
            k.rmsnorm(D, ws.x.data() + size_t(t) * D, L.attn_norm, c.norm_eps,
                      ws.xn.data() + size_t(t) * D);
        project(k, ws, L.wq, ws.xn.data(), D, n, ws.q.data(), n_threads);
        add_bias(ws.q.data(), L.bq, n, QD);
        const bool owns_kv = L.wk.data != nullptr;
        if (owns_kv) {
            project(k, ws, L.wk, ws.xn.data(), D, n, ws.k.data(), n_threads);
            add_bias(ws.k.data(), L.bk, n, KVD);
            project(k, ws, L.wv, ws.xn.data(), D, n, ws.v.data(), n_threads);
            add_bias(ws.v.data(), L.bv, n, KVD);
        }
        for (int t = 0; t < n; t++) {
            const int pos = pos0 + t;
            k.rope(m.rope, m.rope_inv_freq.data(), pos, ws.q.data() + size_t(t) * QD,
                   int(c.n_head));
            if (owns_kv) {
                float* kr = ws.k.data() + size_t(t) * KVD;
                k.rope(m.rope, m.rope_inv_freq.data(), pos, kr, int(c.n_head_kv));
                cache.store(cache.k(L.kv_slot, pos), kr);
                cache.store(cache.v(L.kv_slot, pos), ws.v.data() + size_t(t) * KVD);
            }
        }
        // Attention: one work item per (token, KV head); each reads its group's K/V rows once.
        const int G = int(c.n_head_kv);
        const size_t scratch = attention_scratch_floats(int(c.n_head), G, HD);
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
        for (int item = 0; item < n * G; item++) {
            const int t = item / G, g = item % G;
            AttentionArgs a;
            a.q = ws.q.data() + size_t(t) * QD;
            a.kv_type = cache.type();
            a.k = cache.k(L.kv_slot, 0);
            a.v = cache.v(L.kv_slot, 0);
            a.kv_row_bytes = cache.row_bytes();
            a.n_pos = pos0 + t + 1;
            a.n_head = int(c.n_head);
            a.n_head_kv = G;
            a.head_dim = HD;
            a.scale = scale;
            a.out = ws.att.data() + size_t(t) * QD;
            a.scratch = ws.attn_scratch.data() + size_t(omp_get_thread_num()) * scratch;
            k.attention(a, g, g + 1);
        }
        // x += Wo att
        project(k, ws, L.wo, ws.att.data(), QD, n, ws.xn.data(), n_threads);
        for (size_t i = 0; i < size_t(n) * D; i++) ws.x[i] += ws.xn[i];
        // FFN: x += W_down (silu(W_gate xn) * W_up xn)
        for (int t = 0; t < n; t++)
            k.rmsnorm(D, ws.x.data() + size_t(t) * D, L.ffn_norm, c.norm_eps,
                      ws.xn.data() + size_t(t) * D);
        quantize_activations(k, L.w_gate.type, ws.xn.data(), D, D, n, ws.act.data());
        matmul(k, L.w_gate, ws.act.data(), n, ws.gate.data(), F, n_threads);
        if (L.w_up.type != L.w_gate.type)
            quantize_activations(k, L.w_up.type, ws.xn.data(), D, D, n, ws.act.data());
        matmul(k, L.w_up, ws.act.data(), n, ws.up.data(), F, n_threads);
        for (int t = 0; t < n; t++)
            k.swiglu(F, ws.gate.data() + size_t(t) * F, ws.up.data() + size_t(t) * F,
                     ws.gate.data() + size_t(t) * F);
        project(k, ws, L.w_down, ws.gate.data(), F, n, ws.xn.data(), n_threads);
        for (size_t i = 0; i < size_t(n) * D; i++) ws.x[i] += ws.xn[i];
    }

    const int first = all_logits ? 0 : n - 1, count = n - first;
    for (int t = first; t < n; t++)
        k.rmsnorm(D, ws.x.data() + size_t(t) * D, m.output_norm, c.norm_eps,
                  ws.xn.data() + size_t(t - first) * D);
    project(k, ws, m.output, ws.xn.data(), D, count, ws.logits.data(), n_threads);
}

} // namespace strata
