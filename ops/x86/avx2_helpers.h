// Small AVX2 helpers shared by the AVX2 kernel files (kernels_avx2.cpp, rowwise_avx2.cpp), in
// an anonymous namespace: every including file is compiled with AVX2 flags and keeps its own copy.
#pragma once

#include <cstdint>
#include <immintrin.h>

namespace strata {
namespace {

// F16C conversion of a block scale: one instruction instead of the portable bit twiddling.
inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline int hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

// 32 unsigned nibbles of 16 bytes: low nibbles in bytes 0..15, high nibbles in 16..31 (one
// broadcast load, one per-lane shift, one AND).
inline __m256i nibbles(const uint8_t* p) {
    const __m256i both =
        _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_and_si256(_mm256_srlv_epi32(both, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)),
                            _mm256_set1_epi8(15));
}

} // namespace
} // namespace strata
