#include "runtime/graph.h"

#include "core/error.h"
#include "core/quantize_ref.h"
#include "ops/attention.h"
#include "ops/work_team.h"
#include "runtime/graph_moe.h"
#include "runtime/kv_cache.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <omp.h>
#include <vector>

namespace strata {

namespace {

// Values below which a per-row op over a batch runs inline (each_row): a batched decode's norms,
// RoPE, adds and SwiGLU over 8 rows are microseconds of work, no more than the threads' meeting
// costs, and on a loaded machine far less (a parallel region waits for a descheduled thread).
constexpr long kInlineValues = 1 << 16;

// Items [0, items) handed out one at a time to the threads, f(item, thread index). Decode's and
// a batched decode's items (`decode`: at most kTeamMaxRows rows) go to ops/work_team.h (no
// barrier that waits for a thread to be scheduled), a prompt's to an OpenMP loop.
template <class F> void each_item(int items, int n_threads, bool decode, const F& f) {
    if (decode) {
        std::atomic<int> next{0};
        run_team(std::min(n_threads, items), [&](int me, int) {
            for (int i; (i = next.fetch_add(1, std::memory_order_relaxed)) < items;) f(i, me);
        });
        return;
    }
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
    for (int item = 0; item < items; item++) f(item, omp_get_thread_num());
}

// A per-token op over a batch, its tokens split over the threads (a token's result does not
// depend on which thread computes it); one token runs inline, a batched decode's on the team.
template <class F> void each_token(int n_tokens, int n_threads, const F& f) {
    if (n_tokens < 2 || n_threads < 2) {
        for (int t = 0; t < n_tokens; t++) f(t);
        return;
    }
    if (n_tokens <= kTeamMaxRows) {
        each_item(n_tokens, n_threads, true, [&](int t, int) { f(t); });
        return;
    }
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (int t = 0; t < n_tokens; t++) f(t);
}

// What an op function sees: the graph, the context and the memory of this run.
struct Exec {
    const Graph& g;
    const GraphContext& c;
    float* arena;
    uint8_t* act;
    float* attn_scratch;
    float* data(int t) const { return t >= 0 ? g.data(arena, t) : nullptr; }
    // Row r of tensor t.
    float* row(int t, int r) const {
        return g.data(arena, t) + size_t(r) * size_t(g.desc(t).stride);
    }
    int rows(int t) const { return g.desc(t).rows; }
    int cols(int t) const { return g.desc(t).cols; }
};

// each_token over the rows of tensor t, inline when they hold at most kInlineValues values.
template <class F> void each_row(const Exec& e, int t, const F& f) {
    const int rows = e.rows(t);
    each_token(rows, long(rows) * e.cols(t) <= kInlineValues ? 1 : e.c.n_threads, f);
}

// An op function runs node i and returns how many nodes it consumed (a MatMul takes the
// following MatMuls on the same input with it).
using OpFn = size_t (*)(const Exec&, size_t i);

size_t op_get_rows(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    const size_t rb = row_bytes(n.w->type, uint64_t(n.w->cols));
    for (int t = 0; t < e.rows(n.dst); t++) {
        const int32_t tok = e.c.tokens[t];
        if (tok < 0 || tok >= n.w->rows)
            fail("token id " + std::to_string(tok) + " is out of range");
        dequantize_row_ref(n.w->type, static_cast<const uint8_t*>(n.w->data) + size_t(tok) * rb,
                           e.row(n.dst, t), n.w->cols);
    }
    return 1;
}

size_t op_rms_norm(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    each_row(e, n.src0, [&](int t) {
        e.c.kernels->rmsnorm(e.cols(n.src0), e.row(n.src0, t), n.vec, e.c.norm_eps,
                             e.row(n.dst, t));
    });
    return 1;
}

size_t op_matmul(const Exec& e, size_t i) {
    // the MatMuls that follow on the same input (Q, K, V; gate, up) run with this one: the
    // input is quantized once and the threads meet once
    const Node& n = e.g.node(i);
    MatmulOut outs[4] = {{n.w, e.data(n.dst), e.g.desc(n.dst).stride}};
    int n_outs = 1;
    size_t j = i + 1;
    while (n_outs < 4 && j < e.g.nodes() && e.g.node(j).op == Op::MatMul &&
           e.g.node(j).src0 == n.src0 &&
           activation_type(e.g.node(j).w->type) == activation_type(n.w->type)) {
        const Node& m = e.g.node(j++);
        outs[n_outs++] = {m.w, e.data(m.dst), e.g.desc(m.dst).stride};
    }
    const TensorDesc& d0 = e.g.desc(n.src0);
    // (a batched decode's few rows are quantized inline: less work than the threads' meeting)
    const bool few = long(d0.rows) * n.w->cols <= kInlineValues;
    quantize_activations(*e.c.kernels, n.w->type, e.data(n.src0), d0.stride, n.w->cols, d0.rows,
                         e.act, few ? 1 : e.c.n_threads);
    matmul_many(*e.c.kernels, outs, n_outs, e.act, d0.rows, e.c.n_threads);
    return j - i;
}

size_t op_add_bias(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    for (int t = 0; t < e.rows(n.src0); t++) {
        float* x = e.row(n.src0, t);
        for (int k = 0; k < e.cols(n.src0); k++) x[k] += n.vec[k];
    }
    return 1;
}

size_t op_add(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    each_row(e, n.src0, [&](int t) {
        float* a = e.row(n.src0, t);
        const float* b = e.row(n.src1, t);
        for (int k = 0; k < e.cols(n.src0); k++) a[k] += b[k];
    });
    return 1;
}

size_t op_rope(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    each_row(e, n.src0, [&](int t) {
        e.c.kernels->rope(n.rope->params, n.rope->inv_freq.data(), e.c.pos(t), e.row(n.src0, t),
                          n.n_heads);
    });
    return 1;
}

size_t op_store_kv(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    each_row(e, n.src0, [&](int t) {
        e.c.cache_of(t)->store(n.slot, e.c.pos(t), e.row(n.src0, t), e.row(n.src1, t));
    });
    return 1;
}

// The ring a windowed slot's K/V live in (0: none), checked against what a pass of `rows` rows
// reads: the window of every row must still be in the ring, so a pass stores at most ring -
// window rows (Session::decode).
int attention_ring(const GraphContext& c, const Node& n, int rows) {
    const int ring = c.cache->windowed(n.slot) ? c.cache->ring() : 0;
    if (ring > 0 &&
        (n.window <= 0 || n.window > c.cache->window() || rows > c.cache->max_batch_rows()))
        fail("attention: " + std::to_string(rows) + " rows with a window of " +
             std::to_string(n.window) + " do not fit the KV ring of " + std::to_string(ring) +
             " positions");
    return ring;
}

// The kernel's arguments for query tokens of one block (n_tok 1 unless the caller sets it) at
// position `pos` of c.cache, all of its positions (or its window) at once.
AttentionArgs token_args(const GraphContext& c, const Node& n, int ring, const float* q,
                         size_t q_stride, float* dst, size_t dst_stride, int pos) {
    AttentionArgs a;
    a.q_stride = q_stride;
    a.out_stride = dst_stride;
    a.q = q;
    a.kv_type = c.cache->type();
    a.k = c.cache->heads(n.slot, 0);
    a.v = c.cache->heads(n.slot, 1);
    a.kv_row_bytes = c.cache->head_bytes();
    a.kv_head_stride = c.cache->head_stride(n.slot);
    a.ring = ring;
    a.n_pos = pos + 1;
    a.window = n.window;
    a.softcap = n.softcap;
    a.n_head = c.n_head;
    a.n_head_kv = c.n_head_kv;
    a.head_dim = c.head_dim;
    a.scale = n.f > 0 ? n.f : 1.0f / std::sqrt(float(c.head_dim));
    a.out = dst;
    return a;
}

// Whether one token at `pos` attends in chunks of kAttentionChunk positions (a long context).
bool split_attention(const GraphContext& c, const Node& n, int pos) {
    const int first = n.window > 0 ? std::max(0, pos + 1 - n.window) : 0;
    return pos + 1 - first > kAttentionChunk && c.attn_partials;
}

// Attention of `rows` query rows at positions c.pos(0).. over c.cache (causal).
void attend(const Exec& e, const GraphContext& c, const Node& n, const float* q, int rows,
            int q_stride, float* dst, int dst_stride) {
    const Kernels& k = *c.kernels;
    const float scale = n.f > 0 ? n.f : 1.0f / std::sqrt(float(c.head_dim));
    // Each work item reads its KV head's rows once for all query heads of the group.
    const int G = c.n_head_kv;
    const size_t scratch = attention_scratch_floats(c.n_head, G, c.head_dim);
    const int items = (rows + kAttentionTokens - 1) / kAttentionTokens * G;
    const int n_pos = c.pos(rows);
    // the positions one token reads: all before it, or its window
    const int first = n.window > 0 ? std::max(0, n_pos - n.window) : 0;
    const int ring = attention_ring(c, n, rows);
    const size_t head_stride = c.cache->head_stride(n.slot);
    if (rows == 1 && split_attention(c, n, n_pos - 1)) {
        // One token over a long context: (KV head, chunk of positions) items, so every thread
        // has work even with fewer KV heads than threads; then merged per head.
        const int chunks = (n_pos - first + kAttentionChunk - 1) / kAttentionChunk;
        const int group = c.n_head / G, hd = c.head_dim;
        float* outs = c.attn_partials;
        float* stats = outs + size_t(chunks) * size_t(c.n_head) * size_t(hd);
        // With a chunk per thread or more, an item is a chunk of every KV head (fewer, larger
        // items; each head's chunk is one sequential run in the cache).
        const int per_item = chunks >= c.n_threads ? G : 1;
        each_item(G / per_item * chunks, c.n_threads, true, [&](int item, int me) {
            const int g = item / chunks * per_item, ch = item % chunks;
            AttentionArgs a;
            a.q = q;
            a.kv_type = c.cache->type();
            a.k = c.cache->heads(n.slot, 0);
            a.v = c.cache->heads(n.slot, 1);
            a.kv_row_bytes = c.cache->head_bytes();
            a.kv_head_stride = head_stride;
            a.ring = ring;
            a.pos_begin = first + ch * kAttentionChunk;
            a.n_pos = std::min(n_pos, a.pos_begin + kAttentionChunk);
            a.softcap = n.softcap; // (the chunks cover only the window: no window needed)
            a.n_head = c.n_head;
            a.n_head_kv = G;
            a.head_dim = hd;
            a.scale = scale;
            // chunk ch of group g: outputs where the kernel writes group g's heads
            a.out = outs + size_t(ch) * size_t(c.n_head) * size_t(hd);
            a.partial_stats = stats + (size_t(ch) * size_t(G) + size_t(g)) * 2 * group;
            a.scratch = e.attn_scratch + size_t(me) * scratch;
            k.attention(a, g, g + per_item);
        });
        for (int g = 0; g < G; g++) // chunk ch of group g: ch * n_head * hd + g * group * hd
            attention_merge(chunks, group, hd, outs + size_t(g) * group * hd, size_t(c.n_head) * hd,
                            stats + size_t(g) * 2 * group, size_t(G) * 2 * group,
                            dst + size_t(g) * size_t(group) * size_t(hd));
        return;
    }
    // (block of up to kAttentionTokens tokens, KV head) items: each K/V block is converted
    // once for the block's tokens
    each_item(items, c.n_threads, rows <= kTeamMaxRows, [&](int item, int me) {
        const int t = item / G * kAttentionTokens, g = item % G;
        AttentionArgs a =
            token_args(c, n, ring, q + size_t(t) * size_t(q_stride), size_t(q_stride),
                       dst + size_t(t) * size_t(dst_stride), size_t(dst_stride), c.pos(t));
        a.n_tok = std::min(kAttentionTokens, rows - t);
        a.scratch = e.attn_scratch + size_t(me) * scratch;
        k.attention(a, g, g + 1);
    });
}

size_t op_attention(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    const TensorDesc& d0 = e.g.desc(n.src0);
    const int dst_stride = e.g.desc(n.dst).stride;
    if (e.c.row_cache) { // batched decode: each row one token of its own sequence
        auto row_context = [&](int t) {
            GraphContext one = e.c;
            one.cache = e.c.row_cache[t], one.pos0 = e.c.row_pos[t];
            one.row_cache = nullptr, one.row_pos = nullptr;
            return one;
        };
        // A row over a long context is split into chunks as decoding it alone splits it; the
        // other rows' (row, KV head) items share one parallel region (one region per row met
        // the threads once per row and left threads idle on a row's few KV heads). Every row
        // still runs the kernel on the same arguments as alone.
        thread_local std::vector<int> whole, rings; // the rows not split, and their rings
        whole.clear(), rings.clear();
        for (int t = 0; t < d0.rows; t++) {
            const GraphContext one = row_context(t);
            const int ring = attention_ring(one, n, 1); // (checked here: no throw in the region)
            if (split_attention(one, n, one.pos0)) {
                attend(e, one, n, e.row(n.src0, t), 1, d0.stride, e.row(n.dst, t), dst_stride);
            } else {
                whole.push_back(t);
                rings.push_back(ring);
            }
        }
        const int G = e.c.n_head_kv, items = int(whole.size()) * G;
        const size_t scratch = attention_scratch_floats(e.c.n_head, G, e.c.head_dim);
        const int *rows = whole.data(), *ring_of = rings.data();
        each_item(items, e.c.n_threads, true, [&](int item, int me) {
            const int r = item / G, t = rows[r], g = item % G;
            AttentionArgs a =
                token_args(row_context(t), n, ring_of[r], e.row(n.src0, t), size_t(d0.stride),
                           e.row(n.dst, t), size_t(dst_stride), e.c.row_pos[t]);
            a.scratch = e.attn_scratch + size_t(me) * scratch;
            e.c.kernels->attention(a, g, g + 1);
        });
    } else {
        attend(e, e.c, n, e.data(n.src0), d0.rows, d0.stride, e.data(n.dst), dst_stride);
    }
    return 1;
}

size_t op_swiglu(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    each_row(e, n.src0, [&](int t) {
        e.c.kernels->swiglu(e.cols(n.src0), e.row(n.src0, t), e.row(n.src1, t), e.row(n.dst, t));
    });
    return 1;
}

size_t op_geglu(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    each_row(e, n.src0, [&](int t) {
        e.c.kernels->geglu(e.cols(n.src0), e.row(n.src0, t), e.row(n.src1, t), e.row(n.dst, t));
    });
    return 1;
}

size_t op_scale(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    each_row(e, n.src0, [&](int t) {
        float* x = e.row(n.src0, t);
        for (int k = 0; k < e.cols(n.src0); k++) x[k] *= n.f;
    });
    return 1;
}

size_t op_softcap(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    each_row(e, n.src0, [&](int t) {
        float* x = e.row(n.src0, t);
        for (int k = 0; k < e.cols(n.src0); k++) x[k] = n.f * std::tanh(x[k] / n.f);
    });
    return 1;
}

size_t op_head_norm(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    const int hd = e.cols(n.src0) / n.n_heads;
    const float* w = n.vec;
    // the weight of a weightless norm (Gemma 3n's V): filled once, grown only for a wider head
    thread_local std::vector<float> ones;
    if (!w) {
        if (ones.size() < size_t(hd)) ones.assign(size_t(hd), 1.0f);
        w = ones.data();
    }
    each_row(e, n.src0, [&](int t) {
        float* x = e.row(n.src0, t);
        for (int h = 0; h < n.n_heads; h++)
            e.c.kernels->rmsnorm(hd, x + size_t(h) * size_t(hd), w, e.c.norm_eps,
                                 x + size_t(h) * size_t(hd));
    });
    return 1;
}

size_t op_moe(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    MoeIo io;
    io.x = e.data(n.src0), io.x_stride = e.g.desc(n.src0).stride;
    io.logits = e.data(n.src1), io.logits_stride = e.g.desc(n.src1).stride;
    io.y = e.data(n.dst), io.y_stride = e.g.desc(n.dst).stride;
    io.probs = e.row(n.aux, 0);
    io.n_tokens = e.rows(n.src0), io.cols = e.cols(n.src0);
    moe_forward(e.c, *n.moe, io, e.act);
    return 1;
}

size_t op_tanh(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    each_token(e.rows(n.src0), e.c.n_threads, [&](int t) {
        float* x = e.row(n.src0, t);
        for (int k = 0; k < e.cols(n.src0); k++) x[k] = std::tanh(x[k]);
    });
    return 1;
}

// (the stream ops: n.n_heads streams of width D = cols / streams side by side in a row)
size_t op_stream_mix(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    const int S = n.n_heads, D = e.cols(n.src0) / S;
    each_token(e.rows(n.src0), e.c.n_threads, [&](int t) {
        const float* x = e.row(n.src0, t);
        const float* coef = e.row(n.src1, t); // S x S, row i mixes into stream i
        float* y = e.row(n.dst, t);
        for (int s = 0; s < S; s++) {
            float* ys = y + size_t(s) * size_t(D);
            const float* xs = x + size_t(s) * size_t(D);
            for (int c = 0; c < D; c++) ys[c] = xs[c];
            for (int k = 0; k < S; k++) {
                const float w = coef[s * S + k];
                const float* xk = x + size_t(k) * size_t(D);
                for (int c = 0; c < D; c++) ys[c] += w * xk[c];
            }
        }
    });
    return 1;
}

size_t op_stream_correct(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    const int S = n.n_heads, D = e.cols(n.src0) / S;
    each_token(e.rows(n.src0), e.c.n_threads, [&](int t) {
        float* p = e.row(n.src0, t);
        const float* actual = e.row(n.src1, t);
        const float* coef = e.row(n.aux, t);
        for (int c = 0; c < D; c++) {
            const float innovation = actual[c] - p[c];
            for (int s = 0; s < S; s++)
                p[size_t(s) * size_t(D) + size_t(c)] += innovation * (coef[s] + 1.0f);
        }
    });
    return 1;
}

double l2_norm(const float* x, int n) {
    double ss = 0;
    for (int k = 0; k < n; k++) ss += double(x[k]) * x[k];
    return std::sqrt(ss);
}

size_t op_match_norm(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    each_token(e.rows(n.src0), e.c.n_threads, [&](int t) {
        const float* x = e.row(n.src0, t);
        const double norm = l2_norm(x, e.cols(n.src0));
        const float f = norm > 0 ? float(l2_norm(e.row(n.aux, t), e.cols(n.aux)) / norm) : 0.0f;
        float* y = e.row(n.dst, t);
        for (int k = 0; k < e.cols(n.src0); k++) y[k] = x[k] * f;
    });
    return 1;
}

size_t op_gaussian_topk(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    const int m = e.cols(n.src0);
    each_token(e.rows(n.src0), e.c.n_threads, [&](int t) {
        float* x = e.row(n.src0, t);
        double sum = 0;
        for (int k = 0; k < m; k++) sum += x[k];
        const double mean = sum / m;
        double ss = 0;
        for (int k = 0; k < m; k++) ss += (x[k] - mean) * (x[k] - mean);
        const double std = m > 1 ? std::sqrt(ss / (m - 1)) : 0.0;
        const float cutoff = float(mean + double(n.f) * std);
        for (int k = 0; k < m; k++) x[k] = std::max(x[k] - cutoff, 0.0f);
    });
    return 1;
}

size_t op_mul_vec(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    each_token(e.rows(n.src0), e.c.n_threads, [&](int t) {
        const float* x = e.row(n.src0, t);
        float* y = e.row(n.dst, t);
        for (int k = 0; k < e.cols(n.src0); k++) y[k] = x[k] * n.vec[k];
    });
    return 1;
}

size_t op_copy(const Exec& e, size_t i) {
    const Node& n = e.g.node(i);
    for (int t = 0; t < e.rows(n.src0); t++)
        std::copy(e.row(n.src0, t), e.row(n.src0, t) + e.cols(n.src0), e.row(n.dst, t));
    return 1;
}

// The dispatch table, in Op order.
constexpr OpFn kOps[] = {
    op_get_rows,   op_rms_norm,       op_matmul,     op_add_bias,      op_add,
    op_rope,       op_store_kv,       op_attention,  op_swiglu,        op_scale,
    op_softcap,    op_head_norm,      op_geglu,      op_moe,           op_tanh,
    op_stream_mix, op_stream_correct, op_match_norm, op_gaussian_topk, op_mul_vec,
    op_copy};
static_assert(sizeof(kOps) / sizeof(kOps[0]) == size_t(Op::Count), "one function per Op");

} // namespace

int Graph::tensor(int rows, int cols) {
    TensorDesc d;
    d.rows = rows, d.cols = cols, d.stride = cols;
    tensors_.push_back(d);
    return int(tensors_.size()) - 1;
}

int Graph::view_rows(int base, int first, int count) {
    TensorDesc d = tensors_[size_t(base)];
    const int root = d.view_of >= 0 ? d.view_of : base;
    d.view_row = (d.view_of >= 0 ? d.view_row : 0) + first;
    d.rows = count;
    d.view_of = root;
    tensors_.push_back(d);
    return int(tensors_.size()) - 1;
}

int Graph::view_cols(int base, int first, int count) {
    TensorDesc d = tensors_[size_t(base)];
    const int root = d.view_of >= 0 ? d.view_of : base;
    d.view_row = d.view_of >= 0 ? d.view_row : 0;
    d.view_col = (d.view_of >= 0 ? d.view_col : 0) + first;
    d.cols = count;
    d.view_of = root;
    tensors_.push_back(d);
    return int(tensors_.size()) - 1;
}

float* Graph::data(float* arena, int t) const {
    const TensorDesc& d = desc(t);
    if (d.view_of >= 0)
        return arena + desc(d.view_of).offset + size_t(d.view_row) * size_t(d.stride) +
               size_t(d.view_col);
    return arena + d.offset;
}

void Graph::plan() {
    // Last node that reads or writes each base tensor; the output lives to the end.
    const size_t nt = tensors_.size();
    std::vector<int> first(nt, -1), last(nt, -1);
    auto base = [&](int t) {
        return tensors_[size_t(t)].view_of >= 0 ? tensors_[size_t(t)].view_of : t;
    };
    for (int i = 0; i < int(nodes_.size()); i++)
        for (int t : {nodes_[size_t(i)].dst, nodes_[size_t(i)].src0, nodes_[size_t(i)].src1,
                      nodes_[size_t(i)].aux})
            if (t >= 0) {
                const int b = base(t);
                if (first[size_t(b)] < 0) first[size_t(b)] = i;
                last[size_t(b)] = i;
            }
    if (output_ >= 0) last[size_t(base(output_))] = int(nodes_.size());
    // Greedy first fit: walk the nodes; a tensor takes a free block when first written and
    // returns it after its last use.
    struct Block {
        size_t offset, size;
        int owner; // -1 when free
    };
    std::vector<Block> blocks;
    size_t top = 0;
    for (int i = 0; i < int(nodes_.size()); i++) {
        for (size_t t = 0; t < nt; t++) {
            if (first[t] != i || tensors_[t].view_of >= 0) continue;
            const size_t need = size_t(tensors_[t].rows) * size_t(tensors_[t].stride);
            auto fit = std::find_if(blocks.begin(), blocks.end(),
                                    [&](const Block& b) { return b.owner < 0 && b.size >= need; });
            if (fit != blocks.end()) {
                fit->owner = int(t);
                tensors_[t].offset = fit->offset;
            } else {
                blocks.push_back({top, need, int(t)});
                tensors_[t].offset = top;
                top += (need + 15) / 16 * 16; // 64-byte aligned rows of blocks
            }
        }
        for (auto& b : blocks)
            if (b.owner >= 0 && last[size_t(b.owner)] == i) b.owner = -1;
    }
    arena_floats_ = top;
    act_bytes_ = 0;
    for (const Node& n : nodes_)
        if (n.op == Op::MatMul)
            act_bytes_ = std::max(act_bytes_, activation_row_bytes(n.w->type, n.w->cols) *
                                                  size_t(desc(n.src0).rows));
        else if (n.op == Op::Moe) // up to every token's input or hidden row (one expert's tile)
            for (const MatrixRef* w : {&n.moe->gate[0], &n.moe->up[0], &n.moe->down[0]})
                act_bytes_ = std::max(act_bytes_, activation_row_bytes(w->type, w->cols) *
                                                      size_t(desc(n.src0).rows));
}

void Graph::compute(const GraphContext& c, float* arena, uint8_t* act, float* attn_scratch) const {
    const Exec e{*this, c, arena, act, attn_scratch};
    for (size_t i = 0; i < nodes_.size();) i += kOps[size_t(nodes_[i].op)](e, i);
}

size_t attention_partial_floats(int n_ctx, int n_head, int head_dim) {
    const size_t chunks = size_t(n_ctx + kAttentionChunk - 1) / kAttentionChunk;
    return chunks * size_t(n_head) * size_t(head_dim + 2);
}

} // namespace strata
