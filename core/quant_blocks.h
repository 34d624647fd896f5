// Block layouts of the quantized types. Byte-for-byte the layouts GGUF uses, so GGUF tensors
// are copied, never requantized. Each block covers `block_size` consecutive values of one row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace strata {

constexpr int QK8_0 = 32;
constexpr int QK4_0 = 32;
constexpr int QK_K = 256; // super-block of the K-quants
constexpr int K_SCALE_BYTES = 12;

// Q8_0: x[i] = d * qs[i]
struct BlockQ8_0 {
    uint16_t d; // f16 scale
    int8_t qs[QK8_0];
};

// Q4_0: x[j] = d * ((qs[j] & 15) - 8), x[j + 16] = d * ((qs[j] >> 4) - 8), j < 16
struct BlockQ4_0 {
    uint16_t d; // f16 scale
    uint8_t qs[QK4_0 / 2];
};

// Q4_K: 8 sub-blocks of 32 with 6-bit scales and mins packed into 12 bytes.
// x = d * scale[s] * q - dmin * min[s]; values 64*p .. 64*p+31 are the low nibbles of
// qs[32*p .. 32*p+31], values 64*p+32 .. 64*p+63 their high nibbles.
struct BlockQ4_K {
    uint16_t d;    // f16 super-block scale of the scales
    uint16_t dmin; // f16 super-block scale of the mins
    uint8_t scales[K_SCALE_BYTES];
    uint8_t qs[QK_K / 2];
};

// Q6_K: 16 sub-blocks of 16 with signed 8-bit scales; 6-bit values split into 4 low bits (ql)
// and 2 high bits (qh), offset by 32.
struct BlockQ6_K {
    uint8_t ql[QK_K / 2];
    uint8_t qh[QK_K / 4];
    int8_t scales[QK_K / 16];
    uint16_t d; // f16 super-block scale
};

// Q8_K: activations for the K-quant dot products. bsums[i] = sum of qs[16*i .. 16*i+15].
struct BlockQ8_K {
    float d;
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16];
};

// The 6-bit scale and min of sub-block `j` (0..7) of a Q4_K block. Static inline: every
// ISA-specific file gets its own copy compiled with its own flags.
static inline void q4_k_scale_min(int j, const uint8_t* q, uint8_t* scale, uint8_t* min) {
    if (j < 4) {
        *scale = q[j] & 63;
        *min = q[j + 4] & 63;
    } else {
        *scale = uint8_t((q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4));
        *min = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// All 8 scales (bytes 0..7) and 8 mins (bytes 8..15) of a Q4_K block at once, with 32-bit word
// operations (each byte of a word is one sub-block): what q4_k_scale_min gives one at a time.
static inline void q4_k_unpack_scales_mins(const uint8_t* q, uint8_t out[16]) {
    uint32_t w[3], o[4];
    std::memcpy(w, q, 12);
    const uint32_t low6 = 0x3f3f3f3fu, low4 = 0x0f0f0f0fu, low2 = 0x03030303u;
    o[0] = w[0] & low6;                                        // scales 0..3: q[0..3] & 63
    o[1] = (w[2] & low4) | (((w[0] >> 6) & low2) << 4);        // scales 4..7
    o[2] = w[1] & low6;                                        // mins 0..3: q[4..7] & 63
    o[3] = ((w[2] >> 4) & low4) | (((w[1] >> 6) & low2) << 4); // mins 4..7
    std::memcpy(out, o, 16);
}

// The 8 sub-block scales of a Q4_K block, and the sum over sub-blocks of min x (sum of the Q8_K
// activations it covers, from their bsums): the part of a Q4_K x Q8_K dot product that the
// mins contribute, before scaling by dmin.
static inline int q4_k_scales_and_summin(const uint8_t* scales, const int16_t* bsums,
                                         uint8_t sc[8]) {
    int summin = 0;
    for (int j = 0; j < 8; j++) {
        uint8_t m;
        q4_k_scale_min(j, scales, &sc[j], &m);
        summin += m * (bsums[2 * j] + bsums[2 * j + 1]);
    }
    return summin;
}

// Q6_K: sum over the 16 sub-blocks of scale x (sum of the Q8_K activations it covers). Q6_K
// values are stored +32; dot products multiply the stored values and take 32 x this back out.
static inline int q6_k_scaled_bsum(const int8_t* scales, const int16_t* bsums) {
    int sum = 0;
    for (int s = 0; s < 16; s++) sum += scales[s] * bsums[s];
    return sum;
}

static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block must match GGUF");
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block must match GGUF");
static_assert(sizeof(BlockQ4_K) == 144, "Q4_K block must match GGUF");
static_assert(sizeof(BlockQ6_K) == 210, "Q6_K block must match GGUF");
static_assert(sizeof(BlockQ8_K) == 292, "Q8_K block must match GGUF");

} // namespace strata
