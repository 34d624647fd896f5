// Scalar reference kernels, exposed so SIMD tests and SIMD tails can call them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace strata {

float dot_f32_ref(int n, const void* w, const void* a);
float dot_f16_ref(int n, const void* w, const void* a);
float dot_bf16_ref(int n, const void* w, const void* a);
float dot_q8_0_ref(int n, const void* w, const void* a);
float dot_q4_0_ref(int n, const void* w, const void* a);
float dot_q4_k_ref(int n, const void* w, const void* a);
float dot_q6_k_ref(int n, const void* w, const void* a);
// ops/dot_ref_types.cpp: x Q8_0 activations
float dot_q4_1_ref(int n, const void* w, const void* a);
float dot_q5_0_ref(int n, const void* w, const void* a);
float dot_q5_1_ref(int n, const void* w, const void* a);
float dot_iq4_nl_ref(int n, const void* w, const void* a);
// x Q8_K activations
float dot_q2_k_ref(int n, const void* w, const void* a);
float dot_q3_k_ref(int n, const void* w, const void* a);
float dot_q5_k_ref(int n, const void* w, const void* a);
float dot_iq4_xs_ref(int n, const void* w, const void* a);
// Interleave8 matrices, one reference per type with the layout (docs/format.md's table;
// ops/kernels.h, DotX8Fn) and the Q8_0 activation block sums that the Q8_0-activation kernels take.
void dot_x8_q4_0_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                     size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                     size_t out_stride);
void dot_x8_iq4_nl_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                       size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                       size_t out_stride);
void dot_x8_q4_1_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                     size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                     size_t out_stride);
void dot_x8_q5_1_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                     size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                     size_t out_stride);
void dot_x8_q5_0_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                     size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                     size_t out_stride);
void dot_x8_q8_0_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                     size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                     size_t out_stride);
void dot_x8_q4_k_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                     size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                     size_t out_stride);
void dot_x8_q5_k_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                     size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                     size_t out_stride);
void dot_x8_q6_k_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                     size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                     size_t out_stride);
void dot_x8_iq4_xs_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                       size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                       size_t out_stride);
void dot_x8_q3_k_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                     size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                     size_t out_stride);
void dot_x8_q2_k_ref(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                     size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                     size_t out_stride);
void block_sums_q8_0(int n, const void* act, size_t act_stride, int n_tokens, int32_t* out);
void quantize_q8_0_ref(const float* x, void* y, int n);
void quantize_q8_k_ref(const float* x, void* y, int n);

void rmsnorm_ref(int n, const float* x, const float* w, float eps, float* y);
void softmax_ref(int n, float* x);
void swiglu_ref(int n, const float* gate, const float* up, float* out);
void geglu_ref(int n, const float* gate, const float* up, float* out);

} // namespace strata
