// Matrix products over the kernel table: y = W x for one token (GEMV, decode) or many (GEMM,
// prefill). Rows are split across OpenMP threads in fixed chunks and every output is computed
// by exactly one thread, so results do not depend on the thread count.
#pragma once

#include "core/dtype.h"
#include "core/interleave.h"
#include "ops/kernels.h"

#include <cstddef>
#include <cstdint>

namespace strata {

struct MatrixRef {
    DType type;
    const void* data; // rows x cols, rows of row_bytes(type, cols) in `layout`
    int rows, cols;
    TensorLayout layout = TensorLayout::RowMajor; // Interleave8: core/interleave.h
};

// Bytes of one activation row of `cols` values for weights of `weight_type`.
size_t activation_row_bytes(DType weight_type, int cols);

// Converts n_tokens rows of f32 (stride x_stride floats) into activation rows for
// `weight_type` (Q8_0, Q8_K or F32), written back to back into `out`; several tokens are
// split over n_threads.
void quantize_activations(const Kernels& k, DType weight_type, const float* x, int x_stride,
                          int cols, int n_tokens, void* out, int n_threads = 1);

// y[t * y_stride + r] = dot(W row r, activation row t) for r < rows, t < n_tokens.
// `act` holds n_tokens activation rows from quantize_activations.
void matmul(const Kernels& k, const MatrixRef& w, const void* act, int n_tokens, float* y,
            int y_stride, int n_threads);

// Up to 4 matrices against the same activation rows (Q, K and V of a layer; gate and up) in one
// parallel region: one hand-off between threads instead of one per matrix. Every matrix's
// activation type must be the same.
struct MatmulOut {
    const MatrixRef* w;
    float* y;
    int y_stride;
};
void matmul_many(const Kernels& k, const MatmulOut* outs, int n_outs, const void* act, int n_tokens,
                 int n_threads);

} // namespace strata
