// AVX2 kernels that the AVX-512 rows reuse as they are (row-wise ops where 256-bit code already
// runs at memory speed).
#pragma once

#include "ops/attention.h"
#include "ops/kernels.h"
#include "ops/rope.h"
#include "ops/x86/dot_k.h"
#include "ops/x86/dot_q32_avx2.h"

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
// GEMV slices of 8 rows (ops/kernels.h, DotRowsFn). On the one AVX-512 machine measured (a
// 16-core Xeon with VNNI) these beat 512-bit single-row dots 1.7x: the AVX-512 rows use them.
// Q4_K x Q8_K with word-unpacked scales and shuffled scale broadcasts (ops/x86/kernels_avx2.cpp)
float dot_q4_k_avx2(int n, const void* w, const void* a);
float dot_q6_k_avx2(int n, const void* w, const void* a);
void dot_rows_q4_0_avx2(int n, const void* w, size_t stride, int n_rows, const void* a, float* out);
void dot_tile_q4_0_avx2(int n, const void* w, size_t stride, int n_rows, const void* a,
                        size_t act_stride, int n_tok, float* y, size_t y_stride);
void dot_rows_q8_0_avx2(int n, const void* w, size_t stride, int n_rows, const void* a, float* out);
float dot_f32_avx2(int n, const void* w, const void* a);
float dot_q8_0_avx2(int n, const void* w, const void* a);
float dot_q4_0_avx2(int n, const void* w, const void* a);
// F16/BF16 rows x F32 activations: one row, and GEMV slices of 4 rows sharing each activation load
float dot_f16_avx2(int n, const void* w, const void* a);
float dot_bf16_avx2(int n, const void* w, const void* a);
void dot_rows_f16_avx2(int n, const void* w, size_t stride, int n_rows, const void* a, float* out);
void dot_rows_bf16_avx2(int n, const void* w, size_t stride, int n_rows, const void* a, float* out);
void dot_tile_q8_0_avx2(int n, const void* w, size_t stride, int n_rows, const void* a,
                        size_t act_stride, int n_tok, float* y, size_t y_stride);
// Interleave8 matrices, one kernel per type with the layout (docs/format.md's table; Q2_K and Q3_K
// further down) against Q8_0 / Q8_K activations (ops/kernels.h, DotX8Fn): AVX2
// (ops/x86/dot_x8_avx2.cpp) and AVX-512 VNNI (ops/x86/dot_x8_vnni.cpp, in the avx512_vnni row only)
void dot_x8_q6_k_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_q6_k_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_q4_0_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_q4_k_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_iq4_xs_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                        size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                        size_t out_stride);
void dot_x8_iq4_xs_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                        size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                        size_t out_stride);
void dot_x8_q5_k_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_q5_k_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_q4_k_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_q8_0_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_q8_0_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_iq4_nl_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                        size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                        size_t out_stride);
void dot_x8_iq4_nl_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                        size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                        size_t out_stride);
void dot_x8_q5_0_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_q5_0_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_q4_1_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_q4_1_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_q5_1_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_q5_1_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_q4_0_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
// Q2_K and Q3_K x Q8_K (ops/x86/dot_x8_lowbit_impl.h)
void dot_x8_q2_k_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_q2_k_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_q3_k_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);
void dot_x8_q3_k_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride);

// Every entry of the AVX2 row. The AVX-512 rows start from it and replace what their wider
// registers do better, so an AVX2 kernel is registered in one place and reaches all three rows.
constexpr void set_avx2_kernels(Kernels& k) {
    k[DType::F32].dot = dot_f32_avx2;
    k[DType::F16] = {.dot = dot_f16_avx2, .rows = dot_rows_f16_avx2};
    k[DType::BF16] = {.dot = dot_bf16_avx2, .rows = dot_rows_bf16_avx2};
    k[DType::Q8_0] = {.dot = dot_q8_0_avx2,
                      .rows = dot_rows_q8_0_avx2,
                      .tile = dot_tile_q8_0_avx2,
                      .x8 = dot_x8_q8_0_avx2,
                      .quantize = quantize_q8_0_avx2};
    k[DType::Q4_0] = {.dot = dot_q4_0_avx2,
                      .rows = dot_rows_q4_0_avx2,
                      .tile = dot_tile_q4_0_avx2,
                      .x8 = dot_x8_q4_0_avx2};
    k[DType::Q4_K] = {.dot = dot_q4_k_avx2, .x8 = dot_x8_q4_k_avx2};
    k[DType::Q6_K] = {.dot = dot_q6_k_avx2, .x8 = dot_x8_q6_k_avx2};
    k[DType::Q8_K].quantize = quantize_q8_k_avx2;
    set_q32_kernels_avx2(k); // Q4_1, Q5_0, Q5_1, IQ4_NL: dot, rows, tile (dot_q32_avx2.cpp)
    k[DType::IQ4_NL].x8 = dot_x8_iq4_nl_avx2;
    k[DType::Q5_0].x8 = dot_x8_q5_0_avx2;
    k[DType::Q4_1].x8 = dot_x8_q4_1_avx2;
    k[DType::Q5_1].x8 = dot_x8_q5_1_avx2;
    add_k_kernels_avx2(k); // Q2_K, Q3_K, Q5_K, IQ4_XS (dot_k_avx2.cpp)
    // (after it: it sets those types' whole entries)
    k[DType::Q5_K].x8 = dot_x8_q5_k_avx2;
    k[DType::IQ4_XS].x8 = dot_x8_iq4_xs_avx2;
    k[DType::Q2_K].x8 = dot_x8_q2_k_avx2;
    k[DType::Q3_K].x8 = dot_x8_q3_k_avx2;
    k.rmsnorm = rmsnorm_avx2;
    k.softmax = softmax_avx2;
    k.swiglu = swiglu_avx2;
    k.geglu = geglu_avx2;
    k.rope = rope_avx2;
    k.attention = attention_avx2;
    k.dequantize = dequantize_avx2;
}

} // namespace strata
