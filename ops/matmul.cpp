#include "ops/matmul.h"

#include "core/error.h"
#include "ops/chunk_range.h"
#include "ops/dot_ref.h"
#include "ops/float_panel.h"
#include "ops/matmul_onednn.h"
#include "ops/work_team.h"

#include <string>

#include <algorithm>
#include <atomic>
#ifdef STRATA_HAVE_OPENBLAS
#include <cblas.h>
#endif
#include <cstring>
#include <memory>
#include <omp.h>
#include <vector>

namespace strata {

size_t activation_row_bytes(DType weight_type, int cols) {
    return row_bytes(activation_type(weight_type), uint64_t(cols));
}

void quantize_activations(const Kernels& k, DType weight_type, const float* x, int x_stride,
                          int cols, int n_tokens, void* out, int n_threads) {
    const DType at = activation_type(weight_type);
    const size_t rb = row_bytes(at, uint64_t(cols));
    if (rb == 0)
        fail("activation rows of " + std::to_string(cols) + " values do not fill " +
             dtype_name(at) + " blocks");
    auto* dst = static_cast<uint8_t*>(out);
    const QuantizeFn quantize = at == DType::F32 ? nullptr : k.quantize(at);
    // (tokens split over the threads in prefill; one token inline)
#pragma omp parallel for num_threads(std::max(1, n_threads))                                       \
    schedule(static) if (n_tokens > 1 && n_threads > 1)
    for (int t = 0; t < n_tokens; t++) {
        const float* src = x + size_t(t) * size_t(x_stride);
        if (at == DType::F32)
            std::memcpy(dst + t * rb, src, rb);
        else
            quantize(src, dst + t * rb, cols);
    }
}

#ifdef STRATA_HAVE_OPENBLAS
namespace {

// Float weights against many tokens: OpenBLAS's packed, cache-blocked sgemm runs about 3x our
// per-row float dots (docs/performance.md, GEMM table). Rows go in fixed panels; an F16/BF16
// panel is widened to F32 in the thread's buffer first (kPanel x cols floats, 1-3 MiB,
// reused by every token; 128-row panels measured ~4% above 64-row ones, F16/BF16 GEMM at 512
// tokens, 2 threads). Each panel is one single-threaded sgemm call and the panels are
// split over our threads, so the result does not depend on the thread count.
constexpr int kBlasMinTokens = 8;
constexpr int kPanel = 128;

void matmul_blas(const Kernels& k, const MatrixRef& w, const float* x, int n_tokens, float* y,
                 int y_stride, int n_threads) {
    static const bool one_thread_each = [] { // our threads split the work, not OpenBLAS's
        openblas_set_num_threads(1);
        return true;
    }();
    (void)one_thread_each;
    const int n_panels = (w.rows + kPanel - 1) / kPanel;
    const int threads = std::max(1, n_threads); // the same team for every matmul (see matmul_many)
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int p = 0; p < n_panels; p++) {
        const int r0 = p * kPanel, nr = std::min(kPanel, w.rows - r0);
        thread_local std::vector<float> widened;
        const float* panel = float_panel(k, w, r0, nr, widened);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n_tokens, nr, w.cols, 1.0f, x, w.cols,
                    panel, w.cols, 0.0f, y + r0, y_stride);
    }
}

} // namespace
#endif

namespace {

// One matrix's share of a product: its rows cut into fixed chunks, each computed by one kernel
// call on one thread. A chunk's result does not depend on which thread runs it or on what runs
// beside it, so results are identical for any number of threads.
struct Part {
    const MatrixRef* w;
    float* y;
    size_t y_stride;
    size_t wrow, arow;
    int rows_per_chunk, n_chunks;
    DotX8Fn dot_x8 = nullptr; // Interleave8 matrices
    DotFn dot = nullptr;      // row-major ones
    DotRowsFn dot_rows = nullptr;
    DotTileFn dot_tile = nullptr;
};

Part plan(const Kernels& k, const MatmulOut& o, int n_tokens, int n_threads) {
    const MatrixRef& w = *o.w;
    Part p{&w,
           o.y,
           size_t(o.y_stride),
           row_bytes(w.type, uint64_t(w.cols)),
           activation_row_bytes(w.type, w.cols),
           0,
           0};
    if (w.layout == TensorLayout::Interleave8) {
        if (w.rows % 8 != 0) fail("an interleaved matrix needs a multiple of 8 rows");
        p.dot_x8 = k.dot_x8(w.type);
        // groups of 8 rows per call: decode (and a batched decode: its weights stream from
        // memory too) reads up to 32 rows per call but gives every thread a chunk where the
        // matrix has enough groups; a prompt's chunk is a pair of groups that stays in cache
        // while every token passes over it
        const int n_groups = w.rows / 8;
        p.rows_per_chunk =
            8 *
            (n_tokens <= kTeamMaxRows ? std::clamp(n_groups / std::max(1, n_threads), 1, 4) : 2);
    } else {
        p.dot = k.dot(w.type);
        p.dot_rows = k.dot_rows(w.type);
        p.dot_tile = k.dot_tile(w.type);
        // tiles of rows: a tile of weights stays in cache while every token passes over it
        p.rows_per_chunk = 16;
    }
    p.n_chunks = (w.rows + p.rows_per_chunk - 1) / p.rows_per_chunk;
    return p;
}

void run(const Part& p, int chunk, const void* act, const int32_t* bsums, int n_tokens) {
    const MatrixRef& w = *p.w;
    const int r0 = chunk * p.rows_per_chunk, r1 = std::min(w.rows, r0 + p.rows_per_chunk);
    const auto* wb = static_cast<const uint8_t*>(w.data) + size_t(r0) * p.wrow;
    const auto* ab = static_cast<const uint8_t*>(act);
    if (p.dot_x8) {
        p.dot_x8(w.cols, wb, 8 * p.wrow, (r1 - r0) / 8, act, p.arow, bsums, n_tokens, p.y + r0,
                 p.y_stride);
        return;
    }
    if (p.dot_tile && n_tokens > 1) { // the tile's weights unpacked once for all tokens
        p.dot_tile(w.cols, wb, p.wrow, r1 - r0, ab, p.arow, n_tokens, p.y + r0, p.y_stride);
        return;
    }
    for (int t = 0; t < n_tokens; t++) {
        const uint8_t* a = ab + size_t(t) * p.arow;
        float* out = p.y + size_t(t) * p.y_stride;
        if (p.dot_rows)
            p.dot_rows(w.cols, wb, p.wrow, r1 - r0, a, out + r0);
        else
            for (int r = r0; r < r1; r++) out[r] = p.dot(w.cols, wb + size_t(r - r0) * p.wrow, a);
    }
}

#ifdef STRATA_HAVE_OPENBLAS
bool goes_to_blas(const Kernels& k, const MatrixRef& w, int n_tokens) {
    // (the reference row stays all-reference)
    return n_tokens >= kBlasMinTokens && &k != &kKernelsRef &&
           (w.type == DType::F32 || w.type == DType::F16 || w.type == DType::BF16);
}
#endif

} // namespace

void matmul(const Kernels& k, const MatrixRef& w, const void* act, int n_tokens, float* y,
            int y_stride, int n_threads) {
    const MatmulOut o{&w, y, y_stride};
    matmul_many(k, &o, 1, act, n_tokens, n_threads);
}

void matmul_many(const Kernels& k, const MatmulOut* outs, int n_outs, const void* act, int n_tokens,
                 int n_threads) {
    constexpr int kMaxOuts = 4;
    if (n_outs > kMaxOuts) fail("matmul_many: more than 4 matrices at once");
#ifdef STRATA_HAVE_OPENBLAS
    for (int i = 0; i < n_outs; i++) // float prefill (all float: they share F32 activations)
        if (goes_to_blas(k, *outs[i].w, n_tokens)) {
            const float* x = static_cast<const float*>(act);
            for (int j = 0; j < n_outs; j++) {
                const MatrixRef& w = *outs[j].w;
                if (w.type == DType::BF16 &&
                    matmul_bf16_onednn(w, x, n_tokens, outs[j].y, outs[j].y_stride, n_threads))
                    continue; // bf16 products where the CPU has them
                if (matmul_f32_onednn(k, w, x, n_tokens, outs[j].y, outs[j].y_stride, n_threads))
                    continue; // f32 products on AVX-512 CPUs
                matmul_blas(k, w, x, n_tokens, outs[j].y, outs[j].y_stride, n_threads);
            }
            return;
        }
#endif
    Part parts[kMaxOuts];
    int first[kMaxOuts + 1] = {0};
    bool q8_act_x8 = false;
    for (int i = 0; i < n_outs; i++) {
        parts[i] = plan(k, outs[i], n_tokens, n_threads);
        first[i + 1] = first[i] + parts[i].n_chunks;
        q8_act_x8 |= parts[i].dot_x8 && activation_type(outs[i].w->type) == DType::Q8_0;
    }
    // Interleaved Q4_0 and Q8_0 take the activations' block sums, formed once here for every chunk
    thread_local std::vector<int32_t> bsums;
    if (q8_act_x8) {
        const int cols = outs[0].w->cols;
        bsums.resize(size_t(n_tokens) * size_t(cols / 32));
        block_sums_q8_0(cols, act, activation_row_bytes(DType::Q4_0, cols), n_tokens, bsums.data());
    }
    const int32_t* sums = bsums.data(); // (the vector is this thread's)
    // Always the full team, even when some threads get no chunk: libgomp re-forms its team when
    // the size changes between regions, and alternating 16 and 4 threads (a 256-row K/V matrix
    // in 64-row chunks) cost 3-4x in generation at 16 threads on the lent machine.
    const int threads = std::max(1, n_threads);
    const int total = first[n_outs];
    auto run_chunk = [&](int c) {
        int i = 0;
        while (c >= first[i + 1]) i++;
        run(parts[i], c - first[i], act, sums, n_tokens);
    };
    if (threads == 1) {
        for (int c = 0; c < total; c++) run_chunk(c);
        return;
    }
    // Each thread starts on its own contiguous share of the chunks (one sequential weight stream,
    // which the prefetcher follows) and, when it runs out, takes chunks from the far end of the
    // others' shares. The two vCPUs here finish fixed halves at different times: libgomp's wait
    // was 11% of Q4_0 generation samples at 2 threads, 4% with stealing (tokens/s within the
    // VM's noise: the kernel already streams at its bandwidth; docs/performance.md).
    thread_local std::unique_ptr<ChunkRange[]> ranges;
    thread_local int n_ranges = 0;
    if (n_ranges < threads) ranges.reset(new ChunkRange[size_t(n_ranges = threads)]);
    for (int t = 0; t < threads; t++)
        ranges[size_t(t)].reset(int64_t(total) * t / threads, int64_t(total) * (t + 1) / threads);
    ChunkRange* shares = ranges.get(); // (this thread's)
    auto body = [&](int me, int) {
        for (int c; (c = shares[me].take_front()) >= 0;) run_chunk(c);
        for (int k = 1; k < threads; k++) // a team smaller than asked for still covers all
            for (int c; (c = shares[(me + k) % threads].take_back()) >= 0;) run_chunk(c);
    };
    if (n_tokens <= kTeamMaxRows) { // decode: no barrier that waits for a thread to be scheduled
        run_team(threads, body);
        return;
    }
#pragma omp parallel num_threads(threads)
    body(omp_get_thread_num(), threads);
}

} // namespace strata
