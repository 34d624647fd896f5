// AVX2 kernels that the AVX-512 rows reuse as they are (row-wise ops where 256-bit code already
// runs at memory speed).
#pragma once

namespace strata {

void quantize_q8_0_avx2(const float* x, void* y, int n);
void quantize_q8_k_avx2(const float* x, void* y, int n);
void rmsnorm_avx2(int n, const float* x, const float* w, float eps, float* y);

} // namespace strata
