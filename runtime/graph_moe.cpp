#include "runtime/graph_moe.h"

#include "ops/chunk_range.h"
#include "ops/work_team.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
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

// Decode: the chosen experts of one token in one parallel region without barriers inside. The
// gate and up rows of all chosen experts form one list of chunks and their down rows a
// second; each thread starts on its own contiguous share of a list (one sequential stream of
// weights) and, when it runs out, takes chunks from the far end of the others' shares
// (ChunkRange), so a thread that runs slower (the other vCPU busy) holds no one up at a phase
// barrier. The thread that finishes an expert's last gate/up chunk forms its SwiGLU and the
// hidden row's activations and marks the expert ready; a down chunk waits only for its own
// expert, and only after every gate/up chunk has been taken, so at most for one chunk's time.
// Each output row is still one dot product by one kernel call, whichever thread runs it.
struct alignas(64) ExpertPending { // one cache line each
    std::atomic<int> left{0};      // gate/up chunks not yet done
    std::atomic<int> ready{0};     // the hidden row's activations are formed
};

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
    if (activation_type(w.gate[0].type) == activation_type(w.up[0].type))
        act_u = act_x;
    else
        quantize_activations(k, w.up[0].type, x, D, D, 1, act_u);
    // 64-row chunks (whole 8-row groups of interleaved matrices; one call each): with OLMoE's
    // 8 chosen experts of 1024 x 2048, 256 gate/up and 256 down chunks a layer, fine enough to
    // share out, few enough calls (32 and 256 rows: the same within the noise at 1 thread)
    constexpr int kRows = 64;
    const int n_gu = (FE + kRows - 1) / kRows, n_d = (D + kRows - 1) / kRows;
    const int total_gu = U * 2 * n_gu, total_d = U * n_d;
    thread_local std::unique_ptr<ExpertPending[]> pending;
    thread_local std::unique_ptr<ChunkRange[]> ranges;
    thread_local int n_pending = 0, n_ranges = 0;
    if (n_pending < U) pending.reset(new ExpertPending[size_t(n_pending = U)]);
    if (n_ranges < 2 * nt) ranges.reset(new ChunkRange[size_t(n_ranges = 2 * nt)]);
    for (int j = 0; j < U; j++) {
        pending[size_t(j)].left.store(2 * n_gu, std::memory_order_relaxed);
        pending[size_t(j)].ready.store(0, std::memory_order_relaxed);
    }
    for (int t = 0; t < nt; t++) {
        ranges[size_t(t)].reset(int64_t(total_gu) * t / nt, int64_t(total_gu) * (t + 1) / nt);
        ranges[size_t(nt + t)].reset(int64_t(total_d) * t / nt, int64_t(total_d) * (t + 1) / nt);
    }
    // (the master's thread-local state, shared with the team through these pointers)
    ExpertPending* exp = pending.get();
    ChunkRange *gu_shares = ranges.get(), *d_shares = ranges.get() + nt;
    float* b = buf.data();
    auto slice = [](const MatrixRef& m, int r0, int n) {
        MatrixRef s = m;
        s.data = static_cast<const uint8_t*>(m.data) + size_t(r0) * row_bytes(m.type, m.cols);
        s.rows = n;
        return s;
    };
    auto run_gu = [&](int c) {
        const int j = c / (2 * n_gu), up = c / n_gu % 2, r0 = c % n_gu * kRows;
        const MatrixRef& m = up ? w.up[route[j].expert] : w.gate[route[j].expert];
        float* g = b + size_t(j) * slot;
        matmul(k, slice(m, r0, std::min(kRows, FE - r0)), up ? act_u : act_x, 1,
               g + size_t(up) * FE + r0, FE, 1);
        if (exp[j].left.fetch_sub(1, std::memory_order_acq_rel) == 1) { // the expert's last
            k.swiglu(FE, g, g + FE, g + 2 * FE);
            quantize_activations(k, w.down[0].type, g + 2 * FE, FE, FE, 1, act_h + size_t(j) * ah);
            exp[j].ready.store(1, std::memory_order_release);
        }
    };
    auto run_d = [&](int c) {
        const int j = c / n_d, r0 = c % n_d * kRows;
        while (!exp[j].ready.load(std::memory_order_acquire)) std::this_thread::yield();
        matmul(k, slice(w.down[route[j].expert], r0, std::min(kRows, D - r0)),
               act_h + size_t(j) * ah, 1, b + size_t(j) * slot + 3 * size_t(FE) + r0, D, 1);
    };
    auto share = [nt](ChunkRange* shares, int me, const auto& run) {
        for (int c; (c = shares[me].take_front()) >= 0;) run(c);
        for (int o = 1; o < nt; o++) // a team smaller than asked for still covers all
            for (int c; (c = shares[(me + o) % nt].take_back()) >= 0;) run(c);
    };
    if (nt == 1) {
        for (int c = 0; c < total_gu; c++) run_gu(c);
        for (int c = 0; c < total_d; c++) run_d(c);
    } else { // (no barrier that waits for a helper to be scheduled: ops/work_team.h)
        run_team(nt, [&](int me, int) {
            share(gu_shares, me, run_gu);
            share(d_shares, me, run_d);
        });
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
