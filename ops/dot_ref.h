// Scalar reference kernels, exposed so SIMD tests and SIMD tails can call them.
#pragma once

namespace strata {

float dot_f32_ref(int n, const void* w, const void* a);
float dot_f16_ref(int n, const void* w, const void* a);
float dot_bf16_ref(int n, const void* w, const void* a);
float dot_q8_0_ref(int n, const void* w, const void* a);
float dot_q4_0_ref(int n, const void* w, const void* a);
float dot_q4_k_ref(int n, const void* w, const void* a);
float dot_q6_k_ref(int n, const void* w, const void* a);
void quantize_q8_0_ref(const float* x, void* y, int n);
void quantize_q8_k_ref(const float* x, void* y, int n);

void rmsnorm_ref(int n, const float* x, const float* w, float eps, float* y);
void softmax_ref(int n, float* x);
void swiglu_ref(int n, const float* gate, const float* up, float* out);
void geglu_ref(int n, const float* gate, const float* up, float* out);

} // namespace strata
