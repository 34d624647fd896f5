#include "runtime/graph_builder.h"

#include "core/error.h"

namespace strata {

int GraphBuilder::embed() {
    const int x = tensor(int(config.n_embd));
    g_.add({Op::GetRows, x, -1, -1, &model.token_embd});
    scale(x, config.embd_scale);
    return x;
}

int GraphBuilder::rms_norm(int x, const float* w) {
    const TensorDesc& d = g_.desc(x);
    const int y = g_.tensor(d.rows, d.cols);
    g_.add({Op::RmsNorm, y, x, -1, nullptr, w});
    return y;
}

int GraphBuilder::matmul(int x, const MatrixRef& w) {
    const int y = g_.tensor(g_.desc(x).rows, w.rows);
    g_.add({Op::MatMul, y, x, -1, &w});
    return y;
}

void GraphBuilder::add_bias(int x, const float* b) {
    if (b) g_.add({Op::AddBias, -1, x, -1, nullptr, b});
}

void GraphBuilder::add(int x, int y) { g_.add({Op::Add, -1, x, y}); }

void GraphBuilder::scale(int x, float s) {
    if (s != 1.0f) g_.add({Op::Scale, -1, x, -1, nullptr, nullptr, -1, 0, nullptr, s});
}

void GraphBuilder::softcap(int x, float cap) {
    if (cap > 0) g_.add({Op::SoftCap, -1, x, -1, nullptr, nullptr, -1, 0, nullptr, cap});
}

void GraphBuilder::head_norm(int x, const float* w, int n_heads) {
    g_.add({Op::HeadNorm, -1, x, -1, nullptr, w, -1, n_heads});
}

void GraphBuilder::rope(int x, int n_heads, const RopeTable& r) {
    g_.add({Op::Rope, -1, x, -1, nullptr, nullptr, -1, n_heads, &r});
}

void GraphBuilder::store_kv(int k, int v, int slot) {
    g_.add({Op::StoreKv, -1, k, v, nullptr, nullptr, slot});
}

int GraphBuilder::attention(int q, int slot, float scale, int window, float softcap) {
    const TensorDesc& d = g_.desc(q);
    const int y = g_.tensor(d.rows, d.cols);
    Node n{Op::Attention, y, q, -1, nullptr, nullptr, slot, 0, nullptr, scale};
    n.window = window;
    n.softcap = softcap;
    g_.add(n);
    return y;
}

int GraphBuilder::swiglu(int gate, int up) {
    const TensorDesc& d = g_.desc(gate);
    const int y = g_.tensor(d.rows, d.cols);
    g_.add({Op::SwiGlu, y, gate, up});
    return y;
}

int GraphBuilder::geglu(int gate, int up) {
    const TensorDesc& d = g_.desc(gate);
    const int y = g_.tensor(d.rows, d.cols);
    g_.add({Op::GeGlu, y, gate, up});
    return y;
}

int GraphBuilder::moe(int xn, const MatrixRef& router, const MoeWeights& w) {
    const int logits = matmul(xn, router);
    const int D = g_.desc(xn).cols;
    const int aux = g_.tensor(1, moe_scratch_floats(w.n_expert, w.gate[0].rows, D));
    const int y = g_.tensor(g_.desc(xn).rows, D);
    Node node{Op::Moe, y, xn, logits};
    node.moe = &w;
    node.aux = aux;
    g_.add(node);
    return y;
}

int GraphBuilder::get_rows(const MatrixRef& w) {
    if (w.layout != TensorLayout::RowMajor) fail("an embedding table must be stored row-major");
    const int x = tensor(w.cols);
    g_.add({Op::GetRows, x, -1, -1, &w});
    return x;
}

void GraphBuilder::tanh(int x) { g_.add({Op::Tanh, -1, x}); }

int GraphBuilder::stream_mix(int streams, int coefs, int s) {
    const TensorDesc& d = g_.desc(streams);
    const int y = g_.tensor(d.rows, d.cols);
    g_.add({Op::StreamMix, y, streams, coefs, nullptr, nullptr, -1, s});
    return y;
}

void GraphBuilder::stream_correct(int predictions, int actual, int coefs, int s) {
    Node n{Op::StreamCorrect, -1, predictions, actual, nullptr, nullptr, -1, s};
    n.aux = coefs;
    g_.add(n);
}

void GraphBuilder::match_norm_into(int dst, int x, int target) {
    Node n{Op::MatchNorm, dst, x};
    n.aux = target;
    g_.add(n);
}

void GraphBuilder::gaussian_topk(int x, float std_mul) {
    g_.add({Op::GaussianTopK, -1, x, -1, nullptr, nullptr, -1, 0, nullptr, std_mul});
}

int GraphBuilder::mul_vec(int x, const float* v) {
    const TensorDesc& d = g_.desc(x);
    const int y = g_.tensor(d.rows, d.cols);
    g_.add({Op::MulVec, y, x, -1, nullptr, v});
    return y;
}

void GraphBuilder::copy_into(int dst, int x) { g_.add({Op::Copy, dst, x}); }

void GraphBuilder::head_rms(int x, int n_heads) {
    g_.add({Op::HeadNorm, -1, x, -1, nullptr, nullptr, -1, n_heads}); // no weight
}

int GraphBuilder::logit_rows(int x) {
    const int rows = all_logits ? n : 1;
    return g_.view_rows(x, n - rows, rows);
}

Graph GraphBuilder::finish(int logits) {
    g_.set_output(logits);
    g_.plan();
    return std::move(g_);
}

} // namespace strata
