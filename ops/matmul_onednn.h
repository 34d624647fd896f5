// Float weights against many tokens through oneDNN's matmul. BF16 weights: its bf16 matmul,
// where this CPU has one (AVX512_BF16 or AMX: bf16 pairs at twice the FP32 FMA rate or more),
// the activations rounded to bf16 first. F32 and F16 weights (F16 widened to F32 a panel at a
// time; BF16 too where no bf16 matmul exists): its f32 matmul on AVX-512 CPUs, where it beats OpenBLAS's sgemm. Used by ops/matmul.cpp
// for float prefill in place of OpenBLAS.
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

// Whether F32/F16 prefill goes to oneDNN's f32 matmul here (an AVX-512 CPU, oneDNN built in).
bool onednn_f32_preferred();

// The same for F32, F16 and BF16 weights (k.dequantize widens F16/BF16 panels) in f32 (BF16
// where matmul_bf16_onednn declined): the same fixed
// panels, so the result does not depend on the thread count. False (nothing written) for other
// types or where onednn_f32_preferred() is false.
bool matmul_f32_onednn(const Kernels& k, const MatrixRef& w, const float* x, int n_tokens, float* y,
                       int y_stride, int n_threads);

} // namespace strata
