// Q2_K, Q3_K, Q5_K and IQ4_XS x Q8_K, AVX2: the kernels of ops/x86/dot_k_impl.h with the scaled
// products as VPMADDWD + VPADDD. Compiled with -mavx2 -mfma -mf16c; the AVX2 and AVX-512 (without
// VNNI) rows use them.
#include "ops/x86/dot_k.h"
#include "ops/x86/dot_k_impl.h"

namespace strata {
namespace {

struct Avx2ScaledProducts {
    static __m256i scale_add(__m256i acc, __m256i pairs, __m256i scales) {
        return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, scales));
    }
};

} // namespace

STRATA_K_DEFINE(q2_k, Q2K, avx2, Avx2ScaledProducts)
STRATA_K_DEFINE(q3_k, Q3K, avx2, Avx2ScaledProducts)
STRATA_K_DEFINE(q5_k, Q5K, avx2, Avx2ScaledProducts)
STRATA_K_DEFINE(iq4_xs, IQ4XS, avx2, Avx2ScaledProducts)
#undef STRATA_K_DEFINE

} // namespace strata
