// AVX2 kernels that the AVX-512 rows reuse as they are (row-wise ops where 256-bit code already
// runs at memory speed).
#pragma once

#include "ops/attention.h"
#include "ops/rope.h"

namespace strata {

void quantize_q8_0_avx2(const float* x, void* y, int n);
void quantize_q8_k_avx2(const float* x, void* y, int n);
void rmsnorm_avx2(int n, const float* x, const float* w, float eps, float* y);
void softmax_avx2(int n, float* x);
void swiglu_avx2(int n, const float* gate, const float* up, float* out);
void geglu_avx2(int n, const float* gate, const float* up, float* out);
void rope_avx2(const RopeParams& p, const float* inv_freq, int pos, float* x, int n_heads);
void attention_avx2(const AttentionArgs& a, int g0, int g1);
void dequantize_avx2(DType t, const void* x, float* y, int n);

} // namespace strata
