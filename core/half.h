// Scalar IEEE binary16 and bfloat16 conversions. These are the reference conversions; SIMD
// kernels use F16C / AVX512-BF16 / NEON instructions and are tested against these.
#pragma once

#include <cstdint>
#include <cstring>

namespace strata {

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

static inline float f32_from_bits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// binary16 -> binary32, exact for every input (subnormals, inf, NaN included).
static inline float f16_to_f32(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000) << 16;
    const uint32_t exp = (h >> 10) & 0x1f;
    const uint32_t mant = h & 0x3ff;
    if (exp == 0x1f) return f32_from_bits(sign | 0x7f800000u | (mant << 13)); // inf / NaN
    if (exp != 0) return f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
    if (mant == 0) return f32_from_bits(sign);
    // subnormal half: value = mant * 2^-24
    float v = float(mant) * (1.0f / 16777216.0f);
    return (h & 0x8000) ? -v : v;
}

// binary32 -> binary16, round to nearest even; overflow gives inf, NaN stays NaN.
static inline uint16_t f32_to_f16(float f) {
    const uint32_t u = f32_bits(f);
    const uint32_t sign = (u >> 16) & 0x8000;
    const uint32_t abs = u & 0x7fffffff;
    if (abs >= 0x7f800000u) // inf or NaN
        return uint16_t(sign | 0x7c00 | (abs > 0x7f800000u ? 0x200 : 0));
    if (abs >= 0x477ff000u) return uint16_t(sign | 0x7c00); // rounds to >= 65520: inf
    if (abs < 0x38800000u) {                                // below the smallest normal half
        if (abs < 0x33000000u) return uint16_t(sign);       // below half the smallest subnormal
        const uint32_t e = abs >> 23;
        const uint32_t m = (abs & 0x7fffff) | 0x800000;
        const uint32_t shift = 126 - e; // 14..24
        uint32_t q = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1);
        const uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return uint16_t(sign | q);
    }
    uint32_t r = abs - 0x38000000u; // rebias exponent 127 -> 15
    const uint32_t rem = r & 0x1fff;
    r >>= 13;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;
    return uint16_t(sign | r);
}

static inline float bf16_to_f32(uint16_t b) { return f32_from_bits(uint32_t(b) << 16); }

// binary32 -> bfloat16, round to nearest even; NaN stays a quiet NaN.
static inline uint16_t f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffff) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);
    u += 0x7fff + ((u >> 16) & 1);
    return uint16_t(u >> 16);
}

} // namespace strata
