// Q4_1, Q5_0, Q5_1 and IQ4_NL rows against Q8_0 activations, AVX2: one skeleton (dot_q32) over
// per-type unpackers that turn a block into its 32 weight bytes. Symmetric types (Q5_0, IQ4_NL)
// give signed bytes, multiplied as |w| x (y with w's signs); types with a minimum (Q4_1, Q5_1)
// give unsigned levels and add min x dy x sum(y). Compiled with -mavx2 -mfma -mf16c; the AVX2
// and AVX-512 rows use them for dot products (GEMV rows and prefill tiles go per row).
#include "core/half.h"
#include "core/quant_blocks.h"
#include "ops/x86/x86_shared.h"

#include <cstring>
#include <immintrin.h>

namespace strata {
namespace {

float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// 16 bytes of nibbles -> 32 bytes: values 0..15 the low nibbles, 16..31 the high ones.
__m256i nibbles(const uint8_t* qs) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m128i m = _mm_set1_epi8(15);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), m), _mm_and_si128(raw, m));
}

// Bit j of the 32-bit word at qh as 0x10 in byte j (the fifth bit of Q5 value j).
__m256i fifth_bits(const uint8_t* qh) {
    uint32_t h;
    std::memcpy(&h, qh, 4);
    const __m256i spread =
        _mm256_shuffle_epi8(_mm256_set1_epi32(int(h)),
                            _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2,
                                             2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201));
    const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
    return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

struct Q5_0 {
    using Block = BlockQ5_0;
    static constexpr bool kSigned = true;
    static __m256i values(const Block& b) {
        return _mm256_sub_epi8(_mm256_or_si256(nibbles(b.qs), fifth_bits(b.qh)),
                               _mm256_set1_epi8(16));
    }
};

struct IQ4_NL {
    using Block = BlockIQ4_NL;
    static constexpr bool kSigned = true;
    static __m256i values(const Block& b) {
        const __m128i lut = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues));
        return _mm256_shuffle_epi8(_mm256_set_m128i(lut, lut), nibbles(b.qs));
    }
};

struct Q4_1 {
    using Block = BlockQ4_1;
    static constexpr bool kSigned = false;
    static __m256i values(const Block& b) { return nibbles(b.qs); }
};

struct Q5_1 {
    using Block = BlockQ5_1;
    static constexpr bool kSigned = false;
    static __m256i values(const Block& b) {
        return _mm256_or_si256(nibbles(b.qs), fifth_bits(b.qh));
    }
};

template <class T> float dot_q32(int n, const void* w, const void* a) {
    const auto* x = static_cast<const typename T::Block*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256 acc = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
    for (int b = 0; b < n / QK8_0; b++) {
        const __m256i q = T::values(x[b]);
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
        const float dy = f16_to_f32(y[b].d);
        __m256i p;
        if constexpr (T::kSigned) // pairs of |w| x +-y fit int16: 2 x 127 x 127
            p = _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(v, q));
        else
            p = _mm256_maddubs_epi16(q, v); // 2 x 31 x 128
        acc = _mm256_fmadd_ps(_mm256_set1_ps(f16_to_f32(x[b].d) * dy),
                              _mm256_cvtepi32_ps(_mm256_madd_epi16(p, ones16)), acc);
        if constexpr (!T::kSigned) {
            const __m256i s =
                _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), v), ones16);
            acc_min = _mm256_fmadd_ps(_mm256_set1_ps(f16_to_f32(x[b].m) * dy),
                                      _mm256_cvtepi32_ps(s), acc_min);
        }
    }
    return hsum_ps(_mm256_add_ps(acc, acc_min));
}

} // namespace

float dot_q4_1_avx2(int n, const void* w, const void* a) { return dot_q32<Q4_1>(n, w, a); }
float dot_q5_0_avx2(int n, const void* w, const void* a) { return dot_q32<Q5_0>(n, w, a); }
float dot_q5_1_avx2(int n, const void* w, const void* a) { return dot_q32<Q5_1>(n, w, a); }
float dot_iq4_nl_avx2(int n, const void* w, const void* a) { return dot_q32<IQ4_NL>(n, w, a); }

} // namespace strata
