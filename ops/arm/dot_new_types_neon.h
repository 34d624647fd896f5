// NEON dot products of the GGUF types beyond Q4_0/Q8_0/Q4_K/Q6_K (dot_new_types_neon.cpp):
// Q4_1, Q5_0, Q5_1 and IQ4_NL against Q8_0; Q2_K, Q3_K, Q5_K and IQ4_XS against Q8_K. Compiled
// into both NEON rows (plain and dotprod), so each build's functions live in a namespace of
// their own.
#pragma once

#include "ops/kernels.h"

namespace strata {

#ifdef __ARM_FEATURE_DOTPROD
#define STRATA_NEON_TYPES_NS neon_dotprod_types
#else
#define STRATA_NEON_TYPES_NS neon_types
#endif

namespace STRATA_NEON_TYPES_NS {

float dot_q4_1(int n, const void* w, const void* a);
float dot_q5_0(int n, const void* w, const void* a);
float dot_q5_1(int n, const void* w, const void* a);
float dot_iq4_nl(int n, const void* w, const void* a);
float dot_q2_k(int n, const void* w, const void* a);
float dot_q3_k(int n, const void* w, const void* a);
float dot_q5_k(int n, const void* w, const void* a);
float dot_iq4_xs(int n, const void* w, const void* a);

// Fills these types' dot products in a NEON row.
constexpr void set_new_type_dots(Kernels& k) {
    k[DType::Q4_1].dot = dot_q4_1;
    k[DType::Q5_0].dot = dot_q5_0;
    k[DType::Q5_1].dot = dot_q5_1;
    k[DType::IQ4_NL].dot = dot_iq4_nl;
    k[DType::Q2_K].dot = dot_q2_k;
    k[DType::Q3_K].dot = dot_q3_k;
    k[DType::Q5_K].dot = dot_q5_k;
    k[DType::IQ4_XS].dot = dot_iq4_xs;
}

} // namespace STRATA_NEON_TYPES_NS

} // namespace strata
