// BF16 weights against many tokens through oneDNN's bf16 matmul, where this CPU has one
// (AVX512_BF16 or AMX: bf16 pairs at twice the FP32 FMA rate or more). Used by ops/matmul.cpp
// for BF16 prefill in place of OpenBLAS's sgemm; the activations are rounded to bf16 first.
#pragma once

#include "ops/matmul.h"

namespace strata {

// Whether oneDNN has a bf16 matmul on this CPU (probed once; false where strata was built
// without oneDNN).
bool onednn_bf16_available();

// y[t * y_stride + r] = dot(BF16 row r of w, bf16(x row t)) for n_tokens rows of x (f32, w.cols
// apart). Rows go in fixed 128-row panels, one single-threaded oneDNN call each, split over
// n_threads: the result does not depend on the thread count. False (nothing written) where
// onednn_bf16_available() is false.
bool matmul_bf16_onednn(const MatrixRef& w, const float* x, int n_tokens, float* y, int y_stride,
                        int n_threads);

} // namespace strata
