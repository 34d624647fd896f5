#include "ops/matmul.h"

#include "formats/error.h"
#include "ops/dot_ref.h"

#include <string>

#include <algorithm>
#ifdef STRATA_HAVE_OPENBLAS
#include <cblas.h>
#endif
#include <cstring>
#include <omp.h>
#include <vector>

namespace strata {

size_t activation_row_bytes(DType weight_type, int cols) {
    return row_bytes(activation_type(weight_type), uint64_t(cols));
}

void quantize_activations(const Kernels& k, DType weight_type, const float* x, int x_stride,
                          int cols, int n_tokens, void* out) {
    const DType at = activation_type(weight_type);
    const size_t rb = row_bytes(at, uint64_t(cols));
    if (rb == 0)
        fail("activation rows of " + std::to_string(cols) + " values do not fill " +
             dtype_name(at) + " blocks");
    auto* dst = static_cast<uint8_t*>(out);
    for (int t = 0; t < n_tokens; t++) {
        const float* src = x + size_t(t) * size_t(x_stride);
        if (at == DType::F32)
            std::memcpy(dst + t * rb, src, rb);
        else if (at == DType::Q8_0)
            k.quantize_q8_0(src, dst + t * rb, cols);
        else
            k.quantize_q8_k(src, dst + t * rb, cols);
    }
}

#ifdef STRATA_HAVE_OPENBLAS
namespace {

// Float weights against many tokens: OpenBLAS's packed, cache-blocked sgemm runs about 3x our
// per-row float dots (docs/performance.md, GEMM table). Rows go in fixed panels; an F16/BF16
// panel is widened to F32 in the thread's buffer first (kPanel x cols floats, a few hundred
// KiB, reused by every token). Each panel is one single-threaded sgemm call and the panels are
// split over our threads, so the result does not depend on the thread count.
constexpr int kBlasMinTokens = 8;
constexpr int kPanel = 64;

void matmul_blas(const Kernels& k, const MatrixRef& w, const float* x, int n_tokens, float* y,
                 int y_stride, int n_threads) {
    static const bool one_thread_each = [] { // our threads split the work, not OpenBLAS's
        openblas_set_num_threads(1);
        return true;
    }();
    (void)one_thread_each;
    const size_t wrow = row_bytes(w.type, uint64_t(w.cols));
    const auto* wb = static_cast<const uint8_t*>(w.data);
    const int n_panels = (w.rows + kPanel - 1) / kPanel;
    const int threads = std::max(1, n_threads); // the same team for every matmul (see matmul)
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int p = 0; p < n_panels; p++) {
        const int r0 = p * kPanel, nr = std::min(kPanel, w.rows - r0);
        const float* panel = reinterpret_cast<const float*>(wb + size_t(r0) * wrow);
        thread_local std::vector<float> widened;
        if (w.type != DType::F32) {
            widened.resize(size_t(nr) * size_t(w.cols));
            for (int r = 0; r < nr; r++)
                k.dequantize(w.type, wb + size_t(r0 + r) * wrow,
                             widened.data() + size_t(r) * w.cols, w.cols);
            panel = widened.data();
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n_tokens, nr, w.cols, 1.0f, x, w.cols,
                    panel, w.cols, 0.0f, y + r0, y_stride);
    }
}

} // namespace
#endif

namespace {

// Interleave8 matrices: groups of 8 rows. The activations' block sums are formed once here for
// every group to use; chunks of groups are fixed, as below, so results don't depend on the
// thread count.
void matmul_x8(const Kernels& k, const MatrixRef& w, const void* act, int n_tokens, float* y,
               int y_stride, int n_threads) {
    if (w.rows % 8 != 0) fail("an interleaved matrix needs a multiple of 8 rows");
    const DotX8Fn dot = k.dot_x8(w.type);
    const size_t arow = activation_row_bytes(w.type, w.cols);
    const size_t group = 8 * row_bytes(w.type, uint64_t(w.cols));
    thread_local std::vector<int32_t> bsums;
    if (w.type == DType::Q4_0) { // (Q8_K activations carry their sums)
        bsums.resize(size_t(n_tokens) * size_t(w.cols / 32));
        block_sums_q8_0(w.cols, act, arow, n_tokens, bsums.data());
    }
    const int n_groups = w.rows / 8;
    // groups per call: decode reads up to 64 rows per call but gives every thread a chunk where
    // the matrix has enough groups (a row's result does not depend on how rows are chunked)
    const int per_chunk = n_tokens == 1 ? std::clamp(n_groups / std::max(1, n_threads), 1, 8) : 2;
    const int n_chunks = (n_groups + per_chunk - 1) / per_chunk;
    const int threads = std::max(1, n_threads); // the same team for every matmul (see matmul)
    const auto* wb = static_cast<const uint8_t*>(w.data);
    const int32_t* sums = bsums.data(); // (the vector is this thread's)
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int c = 0; c < n_chunks; c++) {
        const int g0 = c * per_chunk, g1 = std::min(n_groups, g0 + per_chunk);
        dot(w.cols, wb + size_t(g0) * group, group, g1 - g0, act, arow, sums, n_tokens,
            y + size_t(g0) * 8, size_t(y_stride));
    }
}

} // namespace

void matmul(const Kernels& k, const MatrixRef& w, const void* act, int n_tokens, float* y,
            int y_stride, int n_threads) {
    if (w.layout == TensorLayout::Interleave8) {
        matmul_x8(k, w, act, n_tokens, y, y_stride, n_threads);
        return;
    }
#ifdef STRATA_HAVE_OPENBLAS
    // (the reference row stays all-reference)
    if (n_tokens >= kBlasMinTokens && &k != &kKernelsRef &&
        (w.type == DType::F32 || w.type == DType::F16 || w.type == DType::BF16)) {
        matmul_blas(k, w, static_cast<const float*>(act), n_tokens, y, y_stride, n_threads);
        return;
    }
#endif
    const DotFn dot = k.dot(w.type);
    const DotRowsFn dot_rows = k.dot_rows(w.type);
    const DotTileFn dot_tile = k.dot_tile(w.type);
    const size_t wrow = row_bytes(w.type, uint64_t(w.cols));
    const size_t arow = activation_row_bytes(w.type, w.cols);
    const auto* wb = static_cast<const uint8_t*>(w.data);
    const auto* ab = static_cast<const uint8_t*>(act);
    // Tiles of rows: a tile of weights stays in cache while every token passes over it. The
    // chunk is fixed (not dependent on the thread count) so results are identical for any
    // number of threads.
    constexpr int kTile = 16;
    const int n_tiles = (w.rows + kTile - 1) / kTile;
    // Always the full team, even when some threads get no tile: libgomp re-forms its team when
    // the size changes between regions, and alternating 16 and 4 threads (a 256-row K/V matrix
    // in 64-row chunks) cost 3-4x in generation at 16 threads on the lent machine.
    const int threads = std::max(1, n_threads);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int tile = 0; tile < n_tiles; tile++) {
        const int r0 = tile * kTile, r1 = std::min(w.rows, r0 + kTile);
        if (dot_tile && n_tokens > 1) { // the tile's weights unpacked once for all tokens
            dot_tile(w.cols, wb + size_t(r0) * wrow, wrow, r1 - r0, ab, arow, n_tokens, y + r0,
                     size_t(y_stride));
            continue;
        }
        for (int t = 0; t < n_tokens; t++) {
            const uint8_t* a = ab + size_t(t) * arow;
            float* out = y + size_t(t) * size_t(y_stride);
            if (dot_rows)
                dot_rows(w.cols, wb + size_t(r0) * wrow, wrow, r1 - r0, a, out + r0);
            else
                for (int r = r0; r < r1; r++) out[r] = dot(w.cols, wb + size_t(r) * wrow, a);
        }
    }
}

} // namespace strata
