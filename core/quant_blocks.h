// Block layouts of the quantized types. Byte-for-byte the layouts GGUF uses, so GGUF tensors
// are copied, never requantized. Each block covers `block_size` consecutive values of one row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace strata {

constexpr int QK8_0 = 32;
constexpr int QK4_0 = 32;
constexpr int QK4_1 = 32;
constexpr int QK5_0 = 32;
constexpr int QK5_1 = 32;
constexpr int QK4_NL = 32;
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

// Q4_1: x[j] = d * (qs[j] & 15) + m, x[j + 16] = d * (qs[j] >> 4) + m, j < 16
struct BlockQ4_1 {
    uint16_t d; // f16 scale
    uint16_t m; // f16 minimum
    uint8_t qs[QK4_1 / 2];
};

// Q5_0: 5-bit q = low nibble (as Q4_0) | bit j of the little-endian word qh << 4 (bit j + 16
// for value j + 16); x = d * (q - 16).
struct BlockQ5_0 {
    uint16_t d; // f16 scale
    uint8_t qh[4];
    uint8_t qs[QK5_0 / 2];
};

// Q5_1: q as Q5_0; x = d * q + m.
struct BlockQ5_1 {
    uint16_t d; // f16 scale
    uint16_t m; // f16 minimum
    uint8_t qh[4];
    uint8_t qs[QK5_1 / 2];
};

// IQ4_NL: nibbles as Q4_0, each an index into the 16 non-uniform levels kIq4nlValues;
// x = d * kIq4nlValues[q].
struct BlockIQ4_NL {
    uint16_t d; // f16 scale
    uint8_t qs[QK4_NL / 2];
};

// GGUF's IQ4_NL / IQ4_XS levels (int8, ascending, denser near 0).
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

// Q2_K: 16 sub-blocks of 16; scales[s] low nibble = scale, high nibble = min (4 bits each).
// Value 128n + 32j + l (n < 2, j < 4, l < 32) is bits 2j..2j+1 of qs[32n + l], sub-block
// 8n + 2j + l / 16; x = d * scale * q - dmin * min.
struct BlockQ2_K {
    uint8_t scales[QK_K / 16];
    uint8_t qs[QK_K / 4];
    uint16_t d;    // f16 super-block scale of the scales
    uint16_t dmin; // f16 super-block scale of the mins
};

// Q3_K: 16 sub-blocks of 16 with 6-bit scales (offset 32) packed in 12 bytes (q3_k_scales).
// Value 128n + 32j + l: low 2 bits = bits 2j.. of qs[32n + l], high bit = bit 4n + j of
// hmask[l]; q = low - (high ? 0 : 4) in -4..3; sub-block 8n + 2j + l / 16; x = d * (sc - 32) * q.
struct BlockQ3_K {
    uint8_t hmask[QK_K / 8];
    uint8_t qs[QK_K / 4];
    uint8_t scales[12];
    uint16_t d; // f16 super-block scale
};

// Q5_K: as Q4_K, plus a fifth bit: value 64p + l's is bit 2p of qh[l], value 64p + 32 + l's
// is bit 2p + 1 (l < 32); x = d * scale[s] * q - dmin * min[s].
struct BlockQ5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[K_SCALE_BYTES];
    uint8_t qh[QK_K / 8];
    uint8_t qs[QK_K / 2];
};

// IQ4_XS: 8 sub-blocks of 32 with 6-bit scales (low 4 bits in scales_l, nibble s % 2 of byte
// s / 2; high 2 bits at bits 2s of scales_h), offset 32; nibbles of sub-block s in
// qs[16s .. 16s+15] as IQ4_NL's; x = d * (scale - 32) * kIq4nlValues[q].
struct BlockIQ4_XS {
    uint16_t d;
    uint16_t scales_h;
    uint8_t scales_l[QK_K / 64];
    uint8_t qs[QK_K / 2];
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

// The 16 signed scales (already less 32) of a Q3_K block from its 12 packed bytes: scale s's
// low 4 bits are nibble s / 8 of byte s % 8, its high 2 bits bits 2 (s / 4) of byte 8 + s % 4.
static inline void q3_k_scales(const uint8_t* q, int8_t out[16]) {
    for (int s = 0; s < 16; s++) {
        const int lo = (q[s % 8] >> (4 * (s / 8))) & 15;
        const int hi = (q[8 + s % 4] >> (2 * (s / 4))) & 3;
        out[s] = int8_t((lo | (hi << 4)) - 32);
    }
}

// The 6-bit scale (less 32) of IQ4_XS sub-block s.
static inline int iq4_xs_scale(const BlockIQ4_XS& b, int s) {
    const int lo = (b.scales_l[s / 2] >> (4 * (s % 2))) & 15;
    const int hi = (b.scales_h >> (2 * s)) & 3;
    return (lo | (hi << 4)) - 32;
}

// The 5-bit value j (< 32) of a Q5_0 / Q5_1 block.
static inline int q5_value(const uint8_t* qs, const uint8_t* qh, int j) {
    uint32_t h;
    std::memcpy(&h, qh, 4);
    const int lo = j < 16 ? qs[j] & 15 : qs[j - 16] >> 4;
    return lo | int(((h >> j) & 1) << 4);
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
static_assert(sizeof(BlockQ4_1) == 20, "Q4_1 block must match GGUF");
static_assert(sizeof(BlockQ5_0) == 22, "Q5_0 block must match GGUF");
static_assert(sizeof(BlockQ5_1) == 24, "Q5_1 block must match GGUF");
static_assert(sizeof(BlockIQ4_NL) == 18, "IQ4_NL block must match GGUF");
static_assert(sizeof(BlockQ2_K) == 84, "Q2_K block must match GGUF");
static_assert(sizeof(BlockQ3_K) == 110, "Q3_K block must match GGUF");
static_assert(sizeof(BlockQ5_K) == 176, "Q5_K block must match GGUF");
static_assert(sizeof(BlockIQ4_XS) == 136, "IQ4_XS block must match GGUF");

} // namespace strata
