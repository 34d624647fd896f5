// Interleave8 Q4_0, Q8_0, Q4_K and Q6_K matrices (formats/interleave.h) against Q8_0 / Q8_K
// activations, AVX-512 VNNI on 256-bit registers (AVX512VL): the kernels of ops/x86/dot_x8_impl.h
// with VPDPBUSD, which multiplies, sums each row's 4 byte products and accumulates in int32 in one
// instruction (the AVX2 path needs VPMADDUBSW + VPADDW per piece and VPMADDWD per block).
// Built only into the avx512_vnni kernel row, with that row's flags.
#include "ops/x86/dot_x8_impl.h"
#include "ops/x86/x86_shared.h"

namespace strata {
namespace {

struct VnniProducts {
    using Acc = __m256i; // int32 per row
    static Acc zero() { return _mm256_setzero_si256(); }
    static Acc add(Acc acc, __m256i q, __m256i y) { return _mm256_dpbusd_epi32(acc, q, y); }
    static __m256i widen(Acc acc) { return acc; }
    static constexpr int kQ6Run = 4; // int32 sums: a whole 16-value sub-block
    static __m256i scales_i8(const uint8_t* sc) {
        return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc)));
    }
    static __m256i mul_scale(Acc acc, __m256i s) { return _mm256_mullo_epi32(acc, s); }
    static __m256i scaled(Acc acc, const uint8_t* sc) {
        return _mm256_mullo_epi32(
            acc, _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc))));
    }
    // signed quants made unsigned (q + 128, a flipped top bit) for VPDPBUSD; the 128 x the
    // token's block sum this adds comes out once per block
    using S8 = __m256i;
    static constexpr bool kS8Bias = true;
    static S8 s8(__m256i q) { return _mm256_xor_si256(q, _mm256_set1_epi8(char(0x80))); }
    static __m256i add_s8(__m256i acc, S8 q, __m256i y) { return _mm256_dpbusd_epi32(acc, q, y); }
};

} // namespace

void dot_x8_q4_0_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride) {
    x8::dot_q4_0<VnniProducts>(n, w, group_bytes, n_groups, act, act_stride, bsums, n_tokens, out,
                               out_stride);
}

void dot_x8_q8_0_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride) {
    x8::dot_q8_0<VnniProducts>(n, w, group_bytes, n_groups, act, act_stride, bsums, n_tokens, out,
                               out_stride);
}

void dot_x8_q4_k_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride) {
    x8::dot_q4_k<VnniProducts>(n, w, group_bytes, n_groups, act, act_stride, bsums, n_tokens, out,
                               out_stride);
}

void dot_x8_q6_k_vnni(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride) {
    x8::dot_q6_k<VnniProducts>(n, w, group_bytes, n_groups, act, act_stride, bsums, n_tokens, out,
                               out_stride);
}

} // namespace strata
