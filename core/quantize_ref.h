// Scalar reference quantization and dequantization of rows, one pair per type. These define
// what each type means; SIMD versions are tested against them.
#pragma once

#include "core/dtype.h"

#include <cstdint>

namespace strata {

// Quantize `n` floats (n a multiple of the type's block size) into `dst`: the type's row of
// the table (core/dtype.h).
void quantize_row_ref(DType type, const float* src, void* dst, int64_t n);
// Dequantize `n` values of `type` into floats.
void dequantize_row_ref(DType type, const void* src, float* dst, int64_t n);

// Float rows (F16/BF16 rows may sit at any byte offset: safetensors data is unaligned).
void quantize_row_f32_ref(const float* x, void* y, int64_t n);
void quantize_row_f16_ref(const float* x, void* y, int64_t n);
void quantize_row_bf16_ref(const float* x, void* y, int64_t n);
void dequantize_row_f32_ref(const void* x, float* y, int64_t n);
void dequantize_row_f16_ref(const void* x, float* y, int64_t n);
void dequantize_row_bf16_ref(const void* x, float* y, int64_t n);

void quantize_row_q8_0_ref(const float* x, void* y, int64_t n);
void quantize_row_q4_0_ref(const float* x, void* y, int64_t n);
void quantize_row_q4_k_ref(const float* x, void* y, int64_t n);
void quantize_row_q6_k_ref(const float* x, void* y, int64_t n);
void quantize_row_q8_k_ref(const float* x, void* y, int64_t n);
// core/quantize_ref_q32.cpp
void quantize_row_q4_1_ref(const float* x, void* y, int64_t n);
void quantize_row_q5_0_ref(const float* x, void* y, int64_t n);
void quantize_row_q5_1_ref(const float* x, void* y, int64_t n);
void quantize_row_iq4_nl_ref(const float* x, void* y, int64_t n);
// core/quantize_ref_k.cpp
void quantize_row_q2_k_ref(const float* x, void* y, int64_t n);
void quantize_row_q3_k_ref(const float* x, void* y, int64_t n);
void quantize_row_q5_k_ref(const float* x, void* y, int64_t n);
void quantize_row_iq4_xs_ref(const float* x, void* y, int64_t n);

void dequantize_row_q8_0_ref(const void* x, float* y, int64_t n);
void dequantize_row_q4_0_ref(const void* x, float* y, int64_t n);
void dequantize_row_q4_k_ref(const void* x, float* y, int64_t n);
void dequantize_row_q6_k_ref(const void* x, float* y, int64_t n);
void dequantize_row_q8_k_ref(const void* x, float* y, int64_t n);
void dequantize_row_q4_1_ref(const void* x, float* y, int64_t n);
void dequantize_row_q5_0_ref(const void* x, float* y, int64_t n);
void dequantize_row_q5_1_ref(const void* x, float* y, int64_t n);
void dequantize_row_iq4_nl_ref(const void* x, float* y, int64_t n);
void dequantize_row_q2_k_ref(const void* x, float* y, int64_t n);
void dequantize_row_q3_k_ref(const void* x, float* y, int64_t n);
void dequantize_row_q5_k_ref(const void* x, float* y, int64_t n);
void dequantize_row_iq4_xs_ref(const void* x, float* y, int64_t n);

} // namespace strata
