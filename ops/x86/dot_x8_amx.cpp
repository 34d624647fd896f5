// Interleave8 Q4_0 and Q8_0 matrices (core/interleave.h) against Q8_0 activations with Intel AMX
// (AMX-TILE + AMX-INT8): the prefill products of the avx512_amx kernel row, which is the
// avx512_vnni row with these two x8 entries replaced. Built with that row's flags plus
// -mamx-tile -mamx-int8; chosen only where CPUID reports AMX and Linux grants the process its
// tile state (ops/cpu_features.cpp).
//
// One TDPBSSD multiplies a 16 x 32 tile of signed bytes (A: 16 tokens' activation quants of one
// block, read in place: a tile load takes a row stride, the activation row's length) by an 8 x 64
// tile of 4-byte pieces (B: one block of a pair of groups, line c holding piece c of their 16
// rows — the Interleave8 layout with two groups side by side, repacked once per call, Q4_0's
// nibbles unpacked to q - 8 on the way) into 16 x 16 int32 sums: token t's exact integer dot
// product with each row's block. Each token's line of sums is scaled and added as the VNNI
// kernels do it (fma(dw * dy, float(sum), acc)), so every output is bit for bit the avx512_vnni
// row's: the integer sums are exact in both (the VNNI kernels' "- 8 x block sum" is the q - 8
// here). A block's scales differ per row and per token, so each block's product leaves the tiles
// (K = 32 per TDPBSSD). Decode (fewer than 16 tokens), the last n_tokens % 16 tokens and an odd
// last group go to the VNNI kernels.
#include "ops/x86/dot_x8_impl.h"
#include "ops/x86/x86_shared.h"

#include <cstring>
#include <vector>

namespace strata {
namespace {

constexpr int kTileTokens = 16;

// The 64-byte operand of LDTILECFG (palette 1).
struct alignas(64) TileConfig {
    uint8_t palette = 1, start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t colsb[16] = {};
    uint8_t rows[16] = {};
};

// tmm0: A, 16 tokens x 32 activation bytes; tmm1: B, one block of a pair of groups (8 pieces x
// 16 rows x 4 bytes); tmm2 and tmm3: C, 16 tokens x 16 rows of int32 sums, alternating by block
// so that one block's tile product overlaps the previous block's scaling. Every AMX kernel here
// uses this one configuration: it is loaded once per thread.
void configure_tiles() {
    thread_local bool configured = false;
    if (configured) return;
    TileConfig c;
    c.rows[0] = kTileTokens, c.colsb[0] = 32;
    c.rows[1] = 8, c.colsb[1] = 64;
    c.rows[2] = c.rows[3] = kTileTokens, c.colsb[2] = c.colsb[3] = 64;
    _tile_loadconfig(&c);
    configured = true;
}

// A pair of groups repacked once per call for B: per block, 8 lines of 64 bytes, line c holding
// piece c (values 4c..4c+3) of the 16 rows as signed bytes (group g's 8 rows, then g + 1's), and
// the 16 rows' scales as floats.
struct PairPanel {
    int nb = 0;
    std::vector<int8_t> pieces; // [nb][8][64]
    std::vector<float> scales;  // [nb][16]
    void resize(int blocks) {
        nb = blocks;
        pieces.resize(size_t(nb) * 512);
        scales.resize(size_t(nb) * 16);
    }
};

inline void store_scales(const uint8_t* d0, const uint8_t* d1, float* out) {
    _mm512_storeu_ps(
        out, _mm512_cvtph_ps(_mm256_inserti128_si256(
                 _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(d0))),
                 _mm_loadu_si128(reinterpret_cast<const __m128i*>(d1)), 1)));
}

// Q8_0 groups: piece c of 8 rows is 32 bytes at 16 + 32c of the group's block
void pack_q8_0(const uint8_t* g0, const uint8_t* g1, PairPanel& p) {
    for (int b = 0; b < p.nb; b++) {
        const uint8_t* b0 = g0 + size_t(b) * x8::kGroupBlock8;
        const uint8_t* b1 = g1 + size_t(b) * x8::kGroupBlock8;
        int8_t* d = p.pieces.data() + size_t(b) * 512;
        for (int c = 0; c < 8; c++) {
            std::memcpy(d + 64 * c, b0 + 16 + 32 * c, 32);
            std::memcpy(d + 64 * c + 32, b1 + 16 + 32 * c, 32);
        }
        store_scales(b0, b1, p.scales.data() + size_t(b) * 16);
    }
}

// Q4_0 groups: stored piece c (32 bytes at 16 + 32c) holds values 4c..4c+3 of 8 rows in its low
// nibbles and 16 + 4c.. in its high ones: lines c and 4 + c, as q - 8
void pack_q4_0(const uint8_t* g0, const uint8_t* g1, PairPanel& p) {
    const __m256i m4 = _mm256_set1_epi8(15), eight = _mm256_set1_epi8(8);
    for (int b = 0; b < p.nb; b++) {
        const uint8_t* b0 = g0 + size_t(b) * x8::kGroupBlock;
        const uint8_t* b1 = g1 + size_t(b) * x8::kGroupBlock;
        int8_t* d = p.pieces.data() + size_t(b) * 512;
        for (int h = 0; h < 2; h++) {
            const uint8_t* qs = (h == 0 ? b0 : b1) + 16;
            for (int c = 0; c < 4; c++) {
                const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
                const __m256i lo = _mm256_sub_epi8(_mm256_and_si256(v, m4), eight);
                const __m256i hi =
                    _mm256_sub_epi8(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), eight);
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + 64 * c + 32 * h), lo);
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + 64 * (4 + c) + 32 * h), hi);
            }
        }
        store_scales(b0, b1, p.scales.data() + size_t(b) * 16);
    }
}

// One tile product: 16 activation lines of 32 bytes at `a` (`stride` apart) times a packed B
// panel line block (8 x 64 bytes at `b`), into C set `set` (tmm2 or tmm3: consecutive products
// alternate, so one's product overlaps the previous one's use), stored as 16 lines of 16 int32.
inline void tile_product(const uint8_t* a, size_t stride, const int8_t* b, int set,
                         int32_t (*sums)[16]) {
    _tile_loadd(0, a, long(stride));
    _tile_loadd(1, b, 64);
    if (set) {
        _tile_zero(3);
        _tile_dpbssd(3, 0, 1);
        _tile_stored(3, sums, 64);
    } else {
        _tile_zero(2);
        _tile_dpbssd(2, 0, 1);
        _tile_stored(2, sums, 64);
    }
}

// 16 tokens (the activation rows at `act`) against a packed pair of groups: out[t * out_stride
// + r] for r < 16.
void tile_pair(const PairPanel& p, const uint8_t* act, size_t act_stride, float* out,
               size_t out_stride) {
    alignas(64) int32_t sums[2][kTileTokens][16];
    alignas(64) float dy[kTileTokens];
    __m512 acc[kTileTokens];
    for (int t = 0; t < kTileTokens; t++) acc[t] = _mm512_setzero_ps();
    // the tokens' block scales are gathered 16 at a time: token t's block b starts at
    // t * act_stride + 34b (its f16 scale, then its 32 quants)
    const __m512i rows =
        _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                           _mm512_set1_epi32(int(act_stride)));
    auto products = [&](int b) { // the tile product of block b into set b & 1
        tile_product(act + size_t(b) * sizeof(BlockQ8_0) + 2, act_stride,
                     p.pieces.data() + size_t(b) * 512, b & 1, sums[b & 1]);
    };
    auto scale = [&](int b) { // acc += dw * dy * sums, as the VNNI kernels
        const __m512i d = _mm512_i32gather_epi32(rows, act + size_t(b) * sizeof(BlockQ8_0), 1);
        _mm512_store_ps(dy, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(d)));
        const __m512 dw = _mm512_loadu_ps(p.scales.data() + size_t(b) * 16);
        const int32_t(*s)[16] = sums[b & 1];
        for (int t = 0; t < kTileTokens; t++)
            acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(dy[t])),
                                     _mm512_cvtepi32_ps(_mm512_load_si512(s[t])), acc[t]);
    };
    products(0);
    for (int b = 1; b < p.nb; b++) {
        products(b);
        scale(b - 1);
    }
    scale(p.nb - 1);
    for (int t = 0; t < kTileTokens; t++) _mm512_storeu_ps(out + size_t(t) * out_stride, acc[t]);
}

// ---- Q4_K against Q8_K -----------------------------------------------------------------------
// One tile product per 32-value sub-block (its 6-bit scale differs per row), the products summed
// in int32 with the scales per row, then per 256-value block the VNNI kernel's float steps:
// fmsub(dv, sumi, dm * summin) times the token's scale, added to the token's sums. The integer
// sums are exact in any order, so the outputs are the avx512_vnni row's bit for bit.

// A pair of Q4_K groups repacked once per call: per block, per sub-block j, 8 lines of 64 bytes
// (line i: values 32j + 4i.. of the 16 rows, group g's 8 rows then g + 1's), the 16 rows'
// sub-block scales as int32, their mins as int16 pairs (sub-blocks 2q, 2q + 1) and d, dmin.
struct PairPanelK {
    int nb = 0;
    std::vector<int8_t> pieces;  // [nb][8][8][64]
    std::vector<int32_t> scales; // [nb][8][16]
    std::vector<int16_t> mins;   // [nb][4][32]
    std::vector<float> d, dmin;  // [nb][16]
    void resize(int blocks) {
        nb = blocks;
        pieces.resize(size_t(nb) * 4096);
        scales.resize(size_t(nb) * 128);
        mins.resize(size_t(nb) * 128);
        d.resize(size_t(nb) * 16);
        dmin.resize(size_t(nb) * 16);
    }
};

void pack_q4_k(const uint8_t* g0, const uint8_t* g1, PairPanelK& p) {
    const __m256i m4 = _mm256_set1_epi8(15);
    alignas(64) uint8_t sc[2][64], mn[2][64];
    for (int b = 0; b < p.nb; b++) {
        const uint8_t* blk[2] = {g0 + size_t(b) * x8::kGroupBlockK,
                                 g1 + size_t(b) * x8::kGroupBlockK};
        int8_t* dst = p.pieces.data() + size_t(b) * 4096;
        for (int h = 0; h < 2; h++) {
            x8::scales_mins8(blk[h] + 32, sc[h], mn[h]);
            // stored piece (p, i) at 128 + 256p + 32i: low nibbles sub-block 2p, high 2p + 1
            for (int q = 0; q < 4; q++)
                for (int i = 0; i < 8; i++) {
                    const __m256i v = _mm256_loadu_si256(
                        reinterpret_cast<const __m256i*>(blk[h] + 128 + 256 * q + 32 * i));
                    _mm256_storeu_si256(
                        reinterpret_cast<__m256i*>(dst + 512 * (2 * q) + 64 * i + 32 * h),
                        _mm256_and_si256(v, m4));
                    _mm256_storeu_si256(
                        reinterpret_cast<__m256i*>(dst + 512 * (2 * q + 1) + 64 * i + 32 * h),
                        _mm256_and_si256(_mm256_srli_epi16(v, 4), m4));
                }
        }
        for (int j = 0; j < 8; j++)
            for (int r = 0; r < 16; r++)
                p.scales[size_t(b) * 128 + size_t(j) * 16 + size_t(r)] = sc[r / 8][8 * j + r % 8];
        for (int q = 0; q < 4; q++)
            for (int r = 0; r < 16; r++) {
                int16_t* m = p.mins.data() + size_t(b) * 128 + size_t(q) * 32 + 2 * size_t(r);
                m[0] = mn[r / 8][8 * (2 * q) + r % 8];
                m[1] = mn[r / 8][8 * (2 * q + 1) + r % 8];
            }
        store_scales(blk[0], blk[1], p.d.data() + size_t(b) * 16);
        store_scales(blk[0] + 16, blk[1] + 16, p.dmin.data() + size_t(b) * 16);
    }
}

void tile_pair_k(const PairPanelK& p, const uint8_t* act, size_t act_stride, float* out,
                 size_t out_stride) {
    alignas(64) int32_t sums[2][kTileTokens][16];
    __m512 acc[kTileTokens];
    __m512i sumi[kTileTokens];
    for (int t = 0; t < kTileTokens; t++) acc[t] = _mm512_setzero_ps();
    const int n_sub = 8 * p.nb;
    auto products = [&](int s) { // sub-block s % 8 of block s / 8 into set s & 1
        tile_product(act + size_t(s / 8) * sizeof(BlockQ8_K) + 4 + 32 * size_t(s % 8), act_stride,
                     p.pieces.data() + size_t(s) * 512, s & 1, sums[s & 1]);
    };
    auto consume = [&](int s) {
        const int b = s / 8, j = s % 8;
        const __m512i sc = _mm512_loadu_si512(p.scales.data() + size_t(s) * 16);
        const int32_t(*c)[16] = sums[s & 1];
        if (j == 0)
            for (int t = 0; t < kTileTokens; t++)
                sumi[t] = _mm512_mullo_epi32(_mm512_load_si512(c[t]), sc);
        else
            for (int t = 0; t < kTileTokens; t++)
                sumi[t] =
                    _mm512_add_epi32(sumi[t], _mm512_mullo_epi32(_mm512_load_si512(c[t]), sc));
        if (j < 7) return;
        __m512i mpair[4];
        for (int q = 0; q < 4; q++)
            mpair[q] = _mm512_loadu_si512(p.mins.data() + size_t(b) * 128 + size_t(q) * 32);
        const __m512 dv = _mm512_loadu_ps(p.d.data() + size_t(b) * 16);
        const __m512 dm = _mm512_loadu_ps(p.dmin.data() + size_t(b) * 16);
        for (int t = 0; t < kTileTokens; t++) {
            const auto* y = reinterpret_cast<const BlockQ8_K*>(act + size_t(t) * act_stride) + b;
            alignas(16) int32_t ys[4];
            _mm_store_si128(
                reinterpret_cast<__m128i*>(ys),
                _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y->bsums)),
                               _mm_loadu_si128(reinterpret_cast<const __m128i*>(y->bsums + 8))));
            __m512i summin = _mm512_madd_epi16(mpair[0], _mm512_set1_epi32(ys[0]));
            for (int q = 1; q < 4; q++)
                summin =
                    _mm512_add_epi32(summin, _mm512_madd_epi16(mpair[q], _mm512_set1_epi32(ys[q])));
            const __m512 v = _mm512_fmsub_ps(dv, _mm512_cvtepi32_ps(sumi[t]),
                                             _mm512_mul_ps(dm, _mm512_cvtepi32_ps(summin)));
            acc[t] = _mm512_fmadd_ps(_mm512_set1_ps(y->d), v, acc[t]);
        }
    };
    products(0);
    for (int s = 1; s < n_sub; s++) {
        products(s);
        consume(s - 1);
    }
    consume(n_sub - 1);
    for (int t = 0; t < kTileTokens; t++) _mm512_storeu_ps(out + size_t(t) * out_stride, acc[t]);
}

// An x8 kernel (DotX8Fn) of the avx512_amx row: whole 16-token tiles over whole pairs of groups
// (Pack repacks a pair into a Panel, Tile computes 16 tokens against it); the remaining tokens
// and an odd last group go to Vnni, the avx512_vnni row's kernel, whose arithmetic is the same.
template <int kBlock, class Panel, auto Pack, auto Tile, DotX8Fn Vnni>
void dot_x8_amx(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                size_t out_stride) {
    const int tiled_tokens = n_tokens / kTileTokens * kTileTokens;
    const int paired = n_groups / 2 * 2;
    if (tiled_tokens == 0 || paired == 0) {
        Vnni(n, w, group_bytes, n_groups, act, act_stride, bsums, n_tokens, out, out_stride);
        return;
    }
    configure_tiles();
    thread_local Panel panel;
    panel.resize(n / kBlock);
    const auto* a = static_cast<const uint8_t*>(act);
    const auto* wb = static_cast<const uint8_t*>(w);
    for (int g = 0; g < paired; g += 2) {
        Pack(wb + size_t(g) * group_bytes, wb + size_t(g + 1) * group_bytes, panel);
        for (int t = 0; t < tiled_tokens; t += kTileTokens)
            Tile(panel, a + size_t(t) * act_stride, act_stride,
                 out + size_t(t) * out_stride + 8 * size_t(g), out_stride);
    }
    if (paired < n_groups) // an odd last group, every token
        Vnni(n, wb + size_t(paired) * group_bytes, group_bytes, n_groups - paired, act, act_stride,
             bsums, n_tokens, out + 8 * size_t(paired), out_stride);
    if (tiled_tokens < n_tokens) // the last tokens, the paired groups
        Vnni(n, w, group_bytes, paired, a + size_t(tiled_tokens) * act_stride, act_stride,
             bsums ? bsums + size_t(tiled_tokens) * size_t(n / 32) : nullptr,
             n_tokens - tiled_tokens, out + size_t(tiled_tokens) * out_stride, out_stride);
}

} // namespace

// The avx512_vnni row with AMX products for prefill (ops/kernels.cpp offers it where the CPU has
// AMX-INT8 and the OS has granted tile state).
const Kernels* kernels_avx512_amx() {
    static const Kernels row = [] {
        Kernels k = *kernels_avx512_vnni();
        k.name = "avx512_amx";
        k[DType::Q8_0].x8 = dot_x8_amx<QK8_0, PairPanel, pack_q8_0, tile_pair, dot_x8_q8_0_vnni>;
        k[DType::Q4_0].x8 = dot_x8_amx<QK4_0, PairPanel, pack_q4_0, tile_pair, dot_x8_q4_0_vnni>;
        k[DType::Q4_K].x8 = dot_x8_amx<QK_K, PairPanelK, pack_q4_k, tile_pair_k, dot_x8_q4_k_vnni>;
        return k;
    }();
    return &row;
}

} // namespace strata
