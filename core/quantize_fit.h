// Scale searches shared by the reference quantizers (core/quantize_ref*.cpp). Internal to core.
#pragma once

#include "core/quant_blocks.h"

#include <cmath>
#include <cstdint>

namespace strata {

inline int nearest_int(float v) { return int(std::lrintf(v)); }

// Fit x ~= scale * q - min with q in [0, qmax] for one sub-block of n, minimizing squared
// error: start from the min/max range, then alternate rounding and a least-squares solve of
// (scale, min) over a few trial step sizes. Returns scale; `*min_out` gets min (>= 0: the
// K-quant formats store the range's lower end as a non-negative min).
float fit_scale_min(const float* x, int n, int qmax, float* min_out);

// Symmetric fit x ~= scale * q, q in [-nmax, nmax - 1]: step sizes around the one that maps the
// largest-magnitude value to -nmax, each refit by least squares; the best is returned.
float fit_scale_sym(const float* x, int n, int nmax);

// Packs 8 six-bit scales and mins into the 12 bytes Q4_K and Q5_K share (q4_k_scale_min reads
// them back).
void pack_k_scales_mins(const uint8_t ls[8], const uint8_t lm[8], uint8_t out[K_SCALE_BYTES]);

} // namespace strata

namespace strata {

// IQ4_NL / IQ4_XS: the index of the level of kIq4nlValues nearest to v (in level units), and
// the scale d minimizing sum (x - d * level)^2 over one sub-block (core/quantize_ref_q32.cpp).
int iq4_nearest_level(float v);
float fit_scale_iq4(const float* x, int n);

} // namespace strata
