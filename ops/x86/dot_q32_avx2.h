// Q4_1, Q5_0, Q5_1 and IQ4_NL x Q8_0, AVX2 (ops/x86/dot_q32_avx2.cpp): one-row dots, GEMV slices
// of 8 rows and prefill tiles (8 rows x 4 tokens; VNNI 16 x 8), and their entries in a row of the
// kernel table: _avx2 (the avx2 and avx512 rows), _vnni (the same source built with AVX-512 VNNI,
// for the avx512_vnni row).
#pragma once

#include "ops/kernels.h"

#include <cstddef>

namespace strata {

#define STRATA_Q32_DECLARE(name, isa)                                                              \
    float dot_##name##_##isa(int n, const void* w, const void* a);                                 \
    void dot_rows_##name##_##isa(int n, const void* w, size_t stride, int n_rows, const void* a,   \
                                 float* out);                                                      \
    void dot_tile_##name##_##isa(int n, const void* w, size_t stride, int n_rows, const void* a,   \
                                 size_t act_stride, int n_tok, float* y, size_t y_stride);
#define STRATA_Q32_ENTRY(name, isa)                                                                \
    TypeKernels {                                                                                  \
        .dot = dot_##name##_##isa, .rows = dot_rows_##name##_##isa,                                \
        .tile = dot_tile_##name##_##isa                                                            \
    }
#define STRATA_Q32_ROW(isa)                                                                        \
    STRATA_Q32_DECLARE(q4_1, isa)                                                                  \
    STRATA_Q32_DECLARE(q5_0, isa)                                                                  \
    STRATA_Q32_DECLARE(q5_1, isa)                                                                  \
    STRATA_Q32_DECLARE(iq4_nl, isa)                                                                \
    /* Fills the four types' entries of a kernel row. */                                           \
    constexpr void set_q32_kernels_##isa(Kernels& k) {                                             \
        k[DType::Q4_1] = STRATA_Q32_ENTRY(q4_1, isa);                                              \
        k[DType::Q5_0] = STRATA_Q32_ENTRY(q5_0, isa);                                              \
        k[DType::Q5_1] = STRATA_Q32_ENTRY(q5_1, isa);                                              \
        k[DType::IQ4_NL] = STRATA_Q32_ENTRY(iq4_nl, isa);                                          \
    }

STRATA_Q32_ROW(avx2) // AVX2 (the avx2 and avx512 rows)
STRATA_Q32_ROW(vnni) // AVX-512 VNNI (the avx512_vnni row)

#undef STRATA_Q32_ROW
#undef STRATA_Q32_ENTRY
#undef STRATA_Q32_DECLARE

} // namespace strata
