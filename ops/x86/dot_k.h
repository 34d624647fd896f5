// Q2_K, Q3_K, Q5_K and IQ4_XS x Q8_K kernels (ops/x86/dot_k_impl.h): dot products, GEMV slices
// and prefill tiles, AVX2 (dot_k_avx2.cpp) and AVX-512 VNNI (dot_k_vnni.cpp). The kernel rows
// register them with one call each.
#pragma once

#include "ops/kernels.h"

#include <cstddef>

namespace strata {

#define STRATA_K_KERNELS(type, isa)                                                                \
    float dot_##type##_##isa(int n, const void* w, const void* a);                                 \
    void dot_rows_##type##_##isa(int n, const void* w, size_t stride, int n_rows, const void* a,   \
                                 float* out);                                                      \
    void dot_tile_##type##_##isa(int n, const void* w, size_t stride, int n_rows, const void* a,   \
                                 size_t act_stride, int n_tok, float* y, size_t y_stride);
STRATA_K_KERNELS(q2_k, avx2)
STRATA_K_KERNELS(q3_k, avx2)
STRATA_K_KERNELS(q5_k, avx2)
STRATA_K_KERNELS(iq4_xs, avx2)
STRATA_K_KERNELS(q2_k, vnni)
STRATA_K_KERNELS(q3_k, vnni)
STRATA_K_KERNELS(q5_k, vnni)
STRATA_K_KERNELS(iq4_xs, vnni)
#undef STRATA_K_KERNELS

// The four types' entries of an AVX2 (or AVX-512 without VNNI) row.
constexpr void add_k_kernels_avx2(Kernels& k) {
    k[DType::Q2_K] = {.dot = dot_q2_k_avx2, .rows = dot_rows_q2_k_avx2, .tile = dot_tile_q2_k_avx2};
    k[DType::Q3_K] = {.dot = dot_q3_k_avx2, .rows = dot_rows_q3_k_avx2, .tile = dot_tile_q3_k_avx2};
    k[DType::Q5_K] = {.dot = dot_q5_k_avx2, .rows = dot_rows_q5_k_avx2, .tile = dot_tile_q5_k_avx2};
    k[DType::IQ4_XS] = {
        .dot = dot_iq4_xs_avx2, .rows = dot_rows_iq4_xs_avx2, .tile = dot_tile_iq4_xs_avx2};
}

// The same for the avx512_vnni row (only that row's object files define these).
constexpr void add_k_kernels_vnni(Kernels& k) {
    k[DType::Q2_K] = {.dot = dot_q2_k_vnni, .rows = dot_rows_q2_k_vnni, .tile = dot_tile_q2_k_vnni};
    k[DType::Q3_K] = {.dot = dot_q3_k_vnni, .rows = dot_rows_q3_k_vnni, .tile = dot_tile_q3_k_vnni};
    k[DType::Q5_K] = {.dot = dot_q5_k_vnni, .rows = dot_rows_q5_k_vnni, .tile = dot_tile_q5_k_vnni};
    k[DType::IQ4_XS] = {
        .dot = dot_iq4_xs_vnni, .rows = dot_rows_iq4_xs_vnni, .tile = dot_tile_iq4_xs_vnni};
}

} // namespace strata
