// The NEON rows' interleave8 kernels (DotX8Fn, core/interleave.h), one file per family:
// dot_x8_q32_neon.cpp (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL x Q8_0), dot_x8_k_neon.cpp (Q4_K,
// Q5_K, Q6_K x Q8_K), dot_x8_lowbit_neon.cpp (Q2_K, Q3_K) and dot_x8_iq4_xs_neon.cpp (IQ4_XS).
// Compiled into both NEON rows, each build's in its own namespace (dot_new_types_neon.h).
#pragma once

#include "ops/arm/dot_new_types_neon.h"
#include "ops/kernels.h"

#include <type_traits>

namespace strata {
namespace STRATA_NEON_TYPES_NS {

using DotX8 = std::remove_pointer_t<DotX8Fn>; // (a function type: these declare functions)
DotX8 dot_x8_q4_0, dot_x8_q4_1, dot_x8_q5_0, dot_x8_q5_1, dot_x8_q8_0, dot_x8_iq4_nl;
DotX8 dot_x8_q4_k, dot_x8_q5_k, dot_x8_q6_k;
DotX8 dot_x8_q2_k, dot_x8_q3_k;
DotX8 dot_x8_iq4_xs;

// Fills every interleave8 type's x8 kernel in a NEON row.
constexpr void set_x8_kernels(Kernels& k) {
    k[DType::Q4_0].x8 = dot_x8_q4_0;
    k[DType::Q4_1].x8 = dot_x8_q4_1;
    k[DType::Q5_0].x8 = dot_x8_q5_0;
    k[DType::Q5_1].x8 = dot_x8_q5_1;
    k[DType::Q8_0].x8 = dot_x8_q8_0;
    k[DType::IQ4_NL].x8 = dot_x8_iq4_nl;
    k[DType::Q2_K].x8 = dot_x8_q2_k;
    k[DType::Q3_K].x8 = dot_x8_q3_k;
    k[DType::Q4_K].x8 = dot_x8_q4_k;
    k[DType::Q5_K].x8 = dot_x8_q5_k;
    k[DType::Q6_K].x8 = dot_x8_q6_k;
    k[DType::IQ4_XS].x8 = dot_x8_iq4_xs;
}

} // namespace STRATA_NEON_TYPES_NS
} // namespace strata
