// Interleave8 matrices of every type with the layout (core/interleave.h, docs/format.md's table)
// against Q8_0 / Q8_K activations, AVX2: the kernels of ops/x86/dot_x8_impl.h with VPMADDUBSW
// products. Compiled with -mavx2 -mfma -mf16c only; the AVX2 and AVX-512 (without VNNI) rows of the
// kernel table use them.
#include "ops/x86/dot_x8_impl.h"
#include "ops/x86/dot_x8_lowbit_impl.h"
#include "ops/x86/x86_shared.h"

namespace strata {
namespace {

// Products summed in int16 lanes: 8 VPMADDUBSW results of 4-bit x 8-bit bytes stay within
// 8 x 2 x 15 x 128 < 2^15 (one Q4_0 block or one Q4_K sub-block), then VPMADDWD widens them.
struct Avx2Products {
    using Acc = __m256i;
    static Acc zero() { return _mm256_setzero_si256(); }
    static Acc add(Acc acc, __m256i q, __m256i y) {
        acc = _mm256_add_epi16(acc, _mm256_maddubs_epi16(q, y));
        // GCC re-associates chains of integer vector adds into trees that compute every product
        // first and spill them; an empty asm on the running sum keeps the chain in registers
        // (Q4_K prefill 92 -> 115 t/s at 2 threads).
        asm("" : "+x"(acc));
        return acc;
    }
    static Acc add4(Acc acc, __m256i q, const int8_t* y) { return add(acc, q, x8::bcast4(y)); }
    static __m256i widen(Acc acc) { return _mm256_madd_epi16(acc, _mm256_set1_epi16(1)); }
    // one chain: each more would cost a VPMADDWD, and AVX2 decode streams at the bound already
    static constexpr int kChains = 1;
    // 6-bit x 8-bit products: 2 VPMADDUBSW results (<= 2 x 2 x 63 x 128 < 2^15) per int16 sum
    static constexpr int kQ6Run = 2;
    // 5-bit x 8-bit products: 4 VPMADDUBSW results (<= 4 x 2 x 31 x 128 < 2^15) per int16 sum
    static constexpr int kQ5Run = 4;
    static constexpr bool kHigh16 = false;        // 2 x 240 x 128 overflows VPMADDUBSW's int16
    static __m256i scales_i8(const uint8_t* sc) { // each scale in both int16 halves
        const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc));
        return _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(v, v));
    }
    static __m256i mul_scale(Acc acc, __m256i s) { return _mm256_madd_epi16(acc, s); }
    // the scale in both int16 halves of each row's lane: one VPMADDWD scales and widens
    static __m256i scaled(Acc acc, __m128i sc) { // sc: the 8 rows' scale bytes, low 64 bits
        const __m256i x = _mm256_cvtepu8_epi32(sc);
        return _mm256_madd_epi16(acc, _mm256_or_si256(x, _mm256_slli_epi32(x, 16)));
    }
    // signed x signed bytes: |q| x (y with q's signs), whose byte pairs fit int16 (2 x 128 x 127),
    // widened to int32 at once (two pieces' sums would not fit)
    struct S8 {
        __m256i mag, q;
    };
    static constexpr bool kS8Bias = false;
    static S8 s8(__m256i q) { return {_mm256_abs_epi8(q), q}; }
    static __m256i add_s8(__m256i acc, const S8& s, __m256i y) {
        const __m256i p = _mm256_maddubs_epi16(s.mag, _mm256_sign_epi8(y, s.q));
        return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
    }
};

} // namespace

// Q4_0, Q4_1, Q5_0 and Q5_1: x8::dot_levels over the type
#define STRATA_X8_LEVELS(name, Ty)                                                                 \
    void dot_x8_##name##_avx2(int n, const void* w, size_t group_bytes, int n_groups,              \
                              const void* act, size_t act_stride, const int32_t* bsums,            \
                              int n_tokens, float* out, size_t out_stride) {                       \
        x8::dot_levels<Avx2Products, x8::Ty>(n, w, group_bytes, n_groups, act, act_stride, bsums,  \
                                             n_tokens, out, out_stride);                           \
    }
STRATA_X8_LEVELS(q4_0, Q4_0)
STRATA_X8_LEVELS(q4_1, Q4_1)
STRATA_X8_LEVELS(q5_0, Q5_0)
STRATA_X8_LEVELS(q5_1, Q5_1)
#undef STRATA_X8_LEVELS

void dot_x8_q8_0_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride) {
    x8::dot_q8_0<Avx2Products>(n, w, group_bytes, n_groups, act, act_stride, bsums, n_tokens, out,
                               out_stride);
}

void dot_x8_iq4_nl_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                        size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                        size_t out_stride) {
    x8::dot_iq4_nl<Avx2Products>(n, w, group_bytes, n_groups, act, act_stride, bsums, n_tokens, out,
                                 out_stride);
}

// Q4_K and Q5_K: x8::dot_k over the type
#define STRATA_X8_K(name, Ty)                                                                      \
    void dot_x8_##name##_avx2(int n, const void* w, size_t group_bytes, int n_groups,              \
                              const void* act, size_t act_stride, const int32_t* bsums,            \
                              int n_tokens, float* out, size_t out_stride) {                       \
        x8::dot_k<Avx2Products, x8::Ty>(n, w, group_bytes, n_groups, act, act_stride, bsums,       \
                                        n_tokens, out, out_stride);                                \
    }
STRATA_X8_K(q4_k, Q4_K)
STRATA_X8_K(q5_k, Q5_K)
#undef STRATA_X8_K

void dot_x8_iq4_xs_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                        size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                        size_t out_stride) {
    x8::dot_iq4_xs<Avx2Products>(n, w, group_bytes, n_groups, act, act_stride, bsums, n_tokens, out,
                                 out_stride);
}

void dot_x8_q6_k_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride) {
    x8::dot_q6_k<Avx2Products>(n, w, group_bytes, n_groups, act, act_stride, bsums, n_tokens, out,
                               out_stride);
}

// Q2_K and Q3_K: x8::dot_lowbit over the type (ops/x86/dot_x8_lowbit_impl.h)
void dot_x8_q2_k_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride) {
    x8::dot_lowbit<Avx2Products, x8::Q2K>(n, w, group_bytes, n_groups, act, act_stride, bsums,
                                          n_tokens, out, out_stride);
}

void dot_x8_q3_k_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride) {
    x8::dot_lowbit<Avx2Products, x8::Q3K>(n, w, group_bytes, n_groups, act, act_stride, bsums,
                                          n_tokens, out, out_stride);
}

} // namespace strata
