// Q4_1, Q5_0, Q5_1 and IQ4_NL x Q8_0, AVX2 (ops/x86/dot_q32_avx2.cpp): one-row dots, GEMV slices
// of 8 rows and prefill tiles of 8 rows x 4 tokens, and their entries in a row of the kernel
// table (the AVX2 and both AVX-512 rows use the same kernels).
#pragma once

#include "ops/kernels.h"

#include <cstddef>

namespace strata {

#define STRATA_Q32_DECLARE(name)                                                                   \
    float dot_##name##_avx2(int n, const void* w, const void* a);                                  \
    void dot_rows_##name##_avx2(int n, const void* w, size_t stride, int n_rows, const void* a,    \
                                float* out);                                                       \
    void dot_tile_##name##_avx2(int n, const void* w, size_t stride, int n_rows, const void* a,    \
                                size_t act_stride, int n_tok, float* y, size_t y_stride);
STRATA_Q32_DECLARE(q4_1)
STRATA_Q32_DECLARE(q5_0)
STRATA_Q32_DECLARE(q5_1)
STRATA_Q32_DECLARE(iq4_nl)
#undef STRATA_Q32_DECLARE

// Fills the four types' entries of a kernel row.
constexpr void set_q32_kernels_avx2(Kernels& k) {
    k[DType::Q4_1] = {.dot = dot_q4_1_avx2, .rows = dot_rows_q4_1_avx2, .tile = dot_tile_q4_1_avx2};
    k[DType::Q5_0] = {.dot = dot_q5_0_avx2, .rows = dot_rows_q5_0_avx2, .tile = dot_tile_q5_0_avx2};
    k[DType::Q5_1] = {.dot = dot_q5_1_avx2, .rows = dot_rows_q5_1_avx2, .tile = dot_tile_q5_1_avx2};
    k[DType::IQ4_NL] = {
        .dot = dot_iq4_nl_avx2, .rows = dot_rows_iq4_nl_avx2, .tile = dot_tile_iq4_nl_avx2};
}

} // namespace strata
