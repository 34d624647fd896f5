#include "runtime/graph_moe.h"

#include <algorithm>
#include <cstdint>
#include <omp.h>
#include <vector>

namespace strata {

namespace {

// Per token: softmax over the router logits, the n_used largest probabilities (ties to the
// lower expert), optionally renormalized; the chosen experts' SwiGLU FFNs weighted and summed.
// Only the chosen experts' weights are read.
struct MoeRoute {
    int expert;
    float weight;
};

void route_token(const Kernels& k, const MoeWeights& w, const float* logits, float* probs,
                 MoeRoute* out) {
    const int E = w.n_expert;
    std::copy(logits, logits + E, probs);
    k.softmax(E, probs);
    float sum = 0;
    for (int j = 0; j < w.n_used; j++) {
        int best = -1;
        for (int x = 0; x < E; x++) {
            bool taken = false;
            for (int p = 0; p < j; p++) taken |= out[p].expert == x;
            if (!taken && (best < 0 || probs[x] > probs[best])) best = x;
        }
        out[j] = {best, probs[best]};
        sum += probs[best];
    }
    if (w.norm_topk)
        for (int j = 0; j < w.n_used; j++) out[j].weight /= sum;
}

// One expert's SwiGLU FFN on n rows of x (stride D) into n rows of `down` (stride D); `gate`,
// `up`, `h` hold n rows of FE floats. n > 1 runs as tile matmuls (prefill).
void expert_ffn(const GraphContext& gc, uint8_t* act, const MoeWeights& w, int x2, const float* x,
                int n, int D, float* gate, float* up, float* h, float* down) {
    const Kernels& k = *gc.kernels;
    const int FE = w.gate[x2].rows;
    quantize_activations(k, w.gate[x2].type, x, D, D, n, act, gc.n_threads);
    const MatmulOut gu[2] = {{&w.gate[x2], gate, FE}, {&w.up[x2], up, FE}};
    if (activation_type(w.gate[x2].type) == activation_type(w.up[x2].type)) {
        matmul_many(k, gu, 2, act, n, gc.n_threads);
    } else {
        matmul_many(k, gu, 1, act, n, gc.n_threads);
        quantize_activations(k, w.up[x2].type, x, D, D, n, act, gc.n_threads);
        matmul_many(k, gu + 1, 1, act, n, gc.n_threads);
    }
    for (int r = 0; r < n; r++) {
        const size_t o = size_t(r) * size_t(FE);
        k.swiglu(FE, gate + o, up + o, h + o);
    }
    quantize_activations(k, w.down[x2].type, h, FE, FE, n, act, gc.n_threads);
    const MatmulOut d = {&w.down[x2], down, D};
    matmul_many(k, &d, 1, act, n, gc.n_threads);
}

// Decode: the chosen experts of one token in one parallel region of three phases (gate and up
// of every chosen expert; SwiGLU and the hidden rows' activations; down), each splitting whole
// slices of rows among the threads, instead of two regions per expert (8 chosen experts met
// the threads 16 times per layer). Each output row is still one dot product by one thread.
void moe_decode(const GraphContext& gc, const MoeWeights& w, const MoeRoute* route, const float* x,
                float* y, int D) {
    const Kernels& k = *gc.kernels;
    const int U = w.n_used, FE = w.gate[0].rows, nt = std::max(1, gc.n_threads);
    const size_t slot = size_t(3) * size_t(FE) + size_t(D); // gate, up, h (FE each), down (D)
    auto aligned = [](size_t bytes) { return (bytes + 63) / 64 * 64; };
    const size_t ax = aligned(activation_row_bytes(w.gate[0].type, D)),
                 au = aligned(activation_row_bytes(w.up[0].type, D)),
                 ah = aligned(activation_row_bytes(w.down[0].type, FE));
    thread_local std::vector<float> buf;
    thread_local std::vector<uint8_t> act_bytes;
    buf.resize(size_t(U) * slot);
    act_bytes.resize(ax + au + size_t(U) * ah + 64);
    uint8_t* act_x = act_bytes.data() + (64 - reinterpret_cast<uintptr_t>(act_bytes.data()) % 64);
    uint8_t *act_u = act_x + ax, *act_h = act_u + au;
    quantize_activations(k, w.gate[0].type, x, D, D, 1, act_x);
    const bool same_act = activation_type(w.gate[0].type) == activation_type(w.up[0].type);
    if (same_act)
        act_u = act_x;
    else
        quantize_activations(k, w.up[0].type, x, D, D, 1, act_u);
    // Slices of whole 8-row groups (interleaved matrices), about two per thread per matrix.
    const int parts = nt == 1 ? 1 : 2 * nt;
    auto slice_rows = [parts](int rows) { return ((rows + parts - 1) / parts + 7) / 8 * 8; };
    const int gu_rows = slice_rows(FE), d_rows = slice_rows(D);
    const int n_gu = (FE + gu_rows - 1) / gu_rows, n_d = (D + d_rows - 1) / d_rows;
    auto slice = [](const MatrixRef& m, int r0, int n) {
        MatrixRef s = m;
        s.data = static_cast<const uint8_t*>(m.data) + size_t(r0) * row_bytes(m.type, m.cols);
        s.rows = n;
        return s;
    };
    float* b = buf.data();
    auto phases = [&] {
#pragma omp for schedule(static)
        for (int u = 0; u < U * 2 * n_gu; u++) {
            const int j = u / (2 * n_gu), up = u % (2 * n_gu) / n_gu, c = u % n_gu;
            const int r0 = c * gu_rows, n = std::min(gu_rows, FE - r0);
            const MatrixRef& m = up ? w.up[route[j].expert] : w.gate[route[j].expert];
            const MatrixRef s = slice(m, r0, n);
            matmul(k, s, up ? act_u : act_x, 1, b + size_t(j) * slot + size_t(up) * FE + r0, FE, 1);
        }
#pragma omp for schedule(static)
        for (int j = 0; j < U; j++) {
            float* g = b + size_t(j) * slot;
            k.swiglu(FE, g, g + FE, g + 2 * FE);
            quantize_activations(k, w.down[0].type, g + 2 * FE, FE, FE, 1, act_h + size_t(j) * ah);
        }
#pragma omp for schedule(static)
        for (int u = 0; u < U * n_d; u++) {
            const int j = u / n_d, r0 = u % n_d * d_rows, n = std::min(d_rows, D - r0);
            const MatrixRef s = slice(w.down[route[j].expert], r0, n);
            matmul(k, s, act_h + size_t(j) * ah, 1, b + size_t(j) * slot + 3 * size_t(FE) + r0, D,
                   1);
        }
    };
    if (nt == 1) {
        phases();
    } else {
#pragma omp parallel num_threads(nt)
        phases();
    }
    std::fill(y, y + D, 0.0f);
    for (int j = 0; j < U; j++) { // in routing order, as prefill sums
        const float* down = b + size_t(j) * slot + 3 * size_t(FE);
        for (int c = 0; c < D; c++) y[c] += route[j].weight * down[c];
    }
}

} // namespace

void moe_forward(const GraphContext& gc, const MoeWeights& w, const MoeIo& io, uint8_t* act) {
    const Kernels& k = *gc.kernels;
    const int D = io.cols, E = w.n_expert, FE = w.gate[0].rows, T = io.n_tokens;
    const int U = w.n_used;
    float* probs = io.probs;
    auto x_row = [&](int t) { return io.x + size_t(t) * size_t(io.x_stride); };
    auto logits_row = [&](int t) { return io.logits + size_t(t) * size_t(io.logits_stride); };
    auto y_row = [&](int t) { return io.y + size_t(t) * size_t(io.y_stride); };
    thread_local std::vector<MoeRoute> routes;
    routes.resize(size_t(T) * size_t(U));
    if (T == 1) {
        route_token(k, w, logits_row(0), probs, routes.data());
        moe_decode(gc, w, routes.data(), x_row(0), y_row(0), D);
        return;
    }
    // Prefill: the tokens routed to each expert gathered into one tile, so each expert's
    // weights are read once per batch instead of once per token; every token's outputs are
    // then summed in its routing order (as decode sums them).
    thread_local std::vector<int> rows_of; // per expert, the (token, slot) pairs routed to it
    thread_local std::vector<float> xs, gate, up, h, down, outs;
    for (int t = 0; t < T; t++) route_token(k, w, logits_row(t), probs, &routes[size_t(t) * U]);
    xs.resize(size_t(T) * size_t(D));
    gate.resize(size_t(T) * size_t(FE)), up.resize(gate.size()), h.resize(gate.size());
    outs.resize(size_t(T) * size_t(U) * size_t(D)); // per (token, slot) the expert's output
    down.resize(size_t(T) * size_t(D));
    rows_of.resize(size_t(T));
    for (int x2 = 0; x2 < E; x2++) {
        int m = 0;
        for (int t = 0; t < T; t++)
            for (int j = 0; j < U; j++)
                if (routes[size_t(t) * U + size_t(j)].expert == x2) {
                    rows_of[size_t(m)] = t * U + j;
                    std::copy(x_row(t), x_row(t) + D, &xs[size_t(m) * D]);
                    m++;
                }
        if (m == 0) continue;
        expert_ffn(gc, act, w, x2, xs.data(), m, D, gate.data(), up.data(), h.data(), down.data());
        for (int r = 0; r < m; r++)
            std::copy(&down[size_t(r) * D], &down[size_t(r) * D] + D,
                      &outs[size_t(rows_of[size_t(r)]) * D]);
    }
    for (int t = 0; t < T; t++) {
        float* y = y_row(t);
        std::fill(y, y + D, 0.0f);
        for (int j = 0; j < U; j++) {
            const float wj = routes[size_t(t) * U + size_t(j)].weight;
            const float* o = &outs[(size_t(t) * U + size_t(j)) * D];
            for (int c = 0; c < D; c++) y[c] += wj * o[c];
        }
    }
}

} // namespace strata
