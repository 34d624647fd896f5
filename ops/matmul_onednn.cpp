#include "ops/matmul_onednn.h"

#ifndef STRATA_HAVE_ONEDNN // (the aarch64 kernel-test build has no oneDNN)
namespace strata {
bool onednn_bf16_available() { return false; }
bool matmul_bf16_onednn(const MatrixRef&, const float*, int, float*, int, int) { return false; }
bool onednn_f32_preferred() { return false; }
bool matmul_f32_onednn(const Kernels&, const MatrixRef&, const float*, int, float*, int, int) {
    return false;
}
} // namespace strata
#else

#include "core/half.h"
#include "ops/cpu_features.h"
#include "ops/float_panel.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>
#include <vector>

namespace strata {
namespace {

constexpr int kPanel = 128; // rows per oneDNN call, as the OpenBLAS panels

const dnnl::engine& engine() {
    static const dnnl::engine e(dnnl::engine::kind::cpu, 0);
    return e;
}

// oneDNN (OpenMP build) sizes its work to omp_get_max_threads() outside a parallel region and
// runs on the calling thread inside one. Every call here is one thread's panel, so primitives
// are created, and a one-thread product run, with one OpenMP thread: the same work split for
// any thread count (bit-identical results), and no team of all cores behind a 1-thread run.
struct OneOmpThread {
    const int saved = omp_get_max_threads();
    OneOmpThread() { omp_set_num_threads(1); }
    ~OneOmpThread() { omp_set_num_threads(saved); }
};

// One matmul shape: activations [m x k] (rows k apart) times weights [k x n] stored as n rows of
// k (a [k x n] matrix with strides {1, k}: our row-major rows, no copy), both of type `t` (bf16
// or f32), into f32 outputs [m x n] with rows ldy apart. The scratchpad is the caller's, so that
// threads can run one primitive at once.
struct Shape {
    dnnl::matmul::primitive_desc pd;
    dnnl::matmul prim;
};

// The primitive for a shape, created once (oneDNN compiles it); nullptr where oneDNN has no
// matmul of that type here. Called by the thread that splits the work, never inside its team.
const Shape* shape(dnnl::memory::data_type t, int m, int n, int k, int ldy) {
    using dnnl::memory;
    static std::mutex mu;
    static std::map<std::tuple<int, int, int, int, int>, std::unique_ptr<Shape>> cache;
    std::lock_guard<std::mutex> lock(mu);
    const auto key = std::make_tuple(int(t), m, n, k, ldy);
    if (auto it = cache.find(key); it != cache.end()) return it->second.get();
    std::unique_ptr<Shape> s;
    const OneOmpThread one;
    try {
        const memory::desc src({m, k}, t, memory::dims{k, 1});
        const memory::desc wei({k, n}, t, memory::dims{1, k});
        const memory::desc dst({m, n}, memory::data_type::f32, memory::dims{ldy, 1});
        dnnl::primitive_attr attr;
        attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
        dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, wei, dst), attr, engine());
        s.reset(new Shape{pd, dnnl::matmul(pd)});
    } catch (const dnnl::error&) {
        // no implementation for this type on this CPU (bf16 on AVX2, say): nullptr, remembered
    }
    return (cache[key] = std::move(s)).get();
}

// Runs one panel's product on the calling thread: x [m x k] of the shape's type, `panel` its
// rows of weights, into y.
void run_panel(const Shape* s, const void* x, const void* panel, float* y) {
    thread_local dnnl::stream stream(engine());
    thread_local std::vector<uint8_t> scratch;
    scratch.resize(std::max<size_t>(1, s->pd.scratchpad_desc().get_size()));
    dnnl::memory src(s->pd.src_desc(), engine(), const_cast<void*>(x));
    dnnl::memory wei(s->pd.weights_desc(), engine(), const_cast<void*>(panel));
    dnnl::memory dst(s->pd.dst_desc(), engine(), y);
    dnnl::memory pad(s->pd.scratchpad_desc(), engine(), scratch.data());
    s->prim.execute(stream, {{DNNL_ARG_SRC, src},
                             {DNNL_ARG_WEIGHTS, wei},
                             {DNNL_ARG_DST, dst},
                             {DNNL_ARG_SCRATCHPAD, pad}});
    stream.wait();
}

// The shapes of a product of n_tokens rows with w in kPanel-row panels: `full` (nullptr where w
// has fewer rows) and the tail's `last` (nullptr without a tail); false where oneDNN has none.
bool panel_shapes(dnnl::memory::data_type t, const MatrixRef& w, int n_tokens, int y_stride,
                  const Shape*& full, const Shape*& last) {
    const int tail = w.rows % kPanel;
    full = w.rows >= kPanel ? shape(t, n_tokens, kPanel, w.cols, y_stride) : nullptr;
    last = tail ? shape(t, n_tokens, tail, w.cols, y_stride) : nullptr;
    return (w.rows < kPanel || full) && (!tail || last);
}

// f(r0, nr, shape) for every panel, the panels split over the threads (the same team for every
// matmul, ops/matmul.cpp; inside it oneDNN runs each call on the calling thread: it does not
// nest teams).
template <class F>
void each_panel(int rows, int n_threads, const Shape* full, const Shape* last, const F& f) {
    const int n_panels = (rows + kPanel - 1) / kPanel;
#pragma omp parallel for num_threads(std::max(1, n_threads)) schedule(static)
    for (int p = 0; p < n_panels; p++) {
        const int r0 = p * kPanel, nr = std::min(kPanel, rows - r0);
        f(r0, nr, nr == kPanel ? full : last);
    }
}

} // namespace

bool onednn_bf16_available() {
    static const bool yes = shape(dnnl::memory::data_type::bf16, 8, kPanel, 64, kPanel) != nullptr;
    return yes;
}

bool matmul_bf16_onednn(const MatrixRef& w, const float* x, int n_tokens, float* y, int y_stride,
                        int n_threads) {
    if (!onednn_bf16_available()) return false;
    const OneOmpThread one; // (this thread's setting; our team's size is explicit below)
    const int k = w.cols;
    const Shape *full, *last;
    if (!panel_shapes(dnnl::memory::data_type::bf16, w, n_tokens, y_stride, full, last))
        return false;
    thread_local std::vector<uint16_t> xb; // (this thread's: it splits the work)
    xb.resize(size_t(n_tokens) * size_t(k));
    uint16_t* xbd = xb.data();
#pragma omp parallel for num_threads(std::max(1, n_threads)) schedule(static)
    for (int t = 0; t < n_tokens; t++)
        for (int i = 0; i < k; i++)
            xbd[size_t(t) * size_t(k) + size_t(i)] =
                f32_to_bf16(x[size_t(t) * size_t(k) + size_t(i)]);
    const auto* wb = static_cast<const uint16_t*>(w.data);
    each_panel(w.rows, n_threads, full, last, [&](int r0, int, const Shape* s) {
        run_panel(s, xbd, wb + size_t(r0) * size_t(k), y + r0);
    });
    return true;
}

bool onednn_f32_preferred() {
    // oneDNN's f32 matmul on AVX-512 ran 1.7-2.4x Debian's OpenBLAS sgemm on the Zen 5 VM and
    // 7.8x on the Xeon (docs/performance.md); on AVX2 OpenBLAS stays.
    static const bool yes = cpu_features().avx512f &&
                            shape(dnnl::memory::data_type::f32, 8, kPanel, 64, kPanel) != nullptr;
    return yes;
}

bool matmul_f32_onednn(const Kernels& kern, const MatrixRef& w, const float* x, int n_tokens,
                       float* y, int y_stride, int n_threads) {
    if (w.type != DType::F32 && w.type != DType::F16 && w.type != DType::BF16) return false;
    if (!onednn_f32_preferred()) return false;
    const OneOmpThread one;
    const Shape *full, *last;
    if (!panel_shapes(dnnl::memory::data_type::f32, w, n_tokens, y_stride, full, last))
        return false;
    each_panel(w.rows, n_threads, full, last, [&](int r0, int nr, const Shape* s) {
        thread_local std::vector<float> widened; // a panel widened once for every token
        run_panel(s, x, float_panel(kern, w, r0, nr, widened), y + r0);
    });
    return true;
}

} // namespace strata

#endif // STRATA_HAVE_ONEDNN
