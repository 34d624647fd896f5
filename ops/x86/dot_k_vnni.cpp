// Q2_K, Q3_K, Q5_K and IQ4_XS x Q8_K, AVX-512 VNNI on 256-bit registers (AVX512VL): the kernels of
// ops/x86/dot_k_impl.h with each scaled product as one VPDPWSSD (multiply the int16 pair sums by
// their scales, add pairs, accumulate in int32), where AVX2 needs VPMADDWD + VPADDD. Built only
// into the avx512_vnni kernel row, with that row's flags (which also give the compiler 32 vector
// registers).
#include "ops/x86/dot_k.h"
#include "ops/x86/dot_k_impl.h"

namespace strata {
namespace {

struct VnniScaledProducts {
    static __m256i scale_add(__m256i acc, __m256i pairs, __m256i scales) {
        return _mm256_dpwssd_epi32(acc, pairs, scales);
    }
};

} // namespace

STRATA_K_DEFINE(q2_k, Q2K, vnni, VnniScaledProducts)
STRATA_K_DEFINE(q3_k, Q3K, vnni, VnniScaledProducts)
STRATA_K_DEFINE(q5_k, Q5K, vnni, VnniScaledProducts)
STRATA_K_DEFINE(iq4_xs, IQ4XS, vnni, VnniScaledProducts)

} // namespace strata
