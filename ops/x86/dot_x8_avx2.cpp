// Interleave8 Q4_0 matrices (formats/interleave.h) against Q8_0 activations, AVX2. Compiled with
// -mavx2 -mfma -mf16c only; the AVX2 and AVX-512 rows of the kernel table use it.
//
// One 32-byte load holds 4 quant bytes of each of 8 rows: its low nibbles are values 4c..4c+3 of
// the 8 rows and its high nibbles values 16+4c..16+4c+3, so VPMADDUBSW against the token's 4
// matching activation bytes broadcast to every lane leaves row r's products in lane r — no
// horizontal sums. Per block the 8 unsigned-nibble products stay in int16 (|sum| <= 8 x 2 x 15
// x 128 < 2^15), one VPMADDWD makes them int32, and the -8 offset is taken out once per block as
// 8 x the token's block sum (precomputed by the caller, see DotX8Fn).
#include "formats/quant_blocks.h"
#include "ops/x86/x86_shared.h"

#include <cstring>
#include <immintrin.h>

namespace strata {
namespace {

constexpr size_t kGroupBlock = 8 * sizeof(BlockQ4_0); // 8 f16 scales + 8 x 16 quant bytes
// Decode reads each thread's rows as one sequential stream, which the hardware prefetcher alone
// serves at ~60% of the bandwidth that several streams reach; prefetching 8 KiB ahead raised
// TinyLlama Q4_0 generation from 24 to 29-32 t/s (1 thread) and 44 to 51-53 (2 threads); 1, 2,
// 4, 16 and 32 KiB measured the same within noise, none (0) clearly worse.
constexpr size_t kAhead = 8192;

inline __m256i bcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

// T tokens at once: each group's unpacked nibbles serve all T.
template <int T>
void groups(int nb, const uint8_t* w, size_t group_bytes, int n_groups, const BlockQ8_0* const* y,
            const int32_t* const* bsum, float* const* out) {
    const __m256i m4 = _mm256_set1_epi8(15), ones = _mm256_set1_epi16(1);
    for (int g = 0; g < n_groups; g++) {
        const uint8_t* group = w + size_t(g) * group_bytes;
        __m256 acc[T];
        for (int u = 0; u < T; u++) acc[u] = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t* blk = group + size_t(b) * kGroupBlock;
            if (T == 1)
                for (int l = 0; l < 3; l++)
                    _mm_prefetch(reinterpret_cast<const char*>(blk) + kAhead + 64 * l, _MM_HINT_T0);
            // the block's 8 rows unpacked once: q[2c] low nibbles of piece c, q[2c+1] high
            __m256i q[8];
            for (int c = 0; c < 4; c++) {
                const __m256i v =
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16 + 32 * c));
                q[2 * c] = _mm256_and_si256(v, m4);
                q[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            }
            const __m256 dw =
                _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
            for (int u = 0; u < T; u++) { // one token at a time: q[] and acc[] stay in registers
                const int8_t* yq = y[u][b].qs;
                __m256i a = _mm256_maddubs_epi16(q[0], bcast4(yq));
                a = _mm256_add_epi16(a, _mm256_maddubs_epi16(q[1], bcast4(yq + 16)));
                a = _mm256_add_epi16(a, _mm256_maddubs_epi16(q[2], bcast4(yq + 4)));
                a = _mm256_add_epi16(a, _mm256_maddubs_epi16(q[3], bcast4(yq + 20)));
                a = _mm256_add_epi16(a, _mm256_maddubs_epi16(q[4], bcast4(yq + 8)));
                a = _mm256_add_epi16(a, _mm256_maddubs_epi16(q[5], bcast4(yq + 24)));
                a = _mm256_add_epi16(a, _mm256_maddubs_epi16(q[6], bcast4(yq + 12)));
                a = _mm256_add_epi16(a, _mm256_maddubs_epi16(q[7], bcast4(yq + 28)));
                // (broadcasts from memory, then shift / convert: fewer uops than scalar work)
                const __m256i sum =
                    _mm256_sub_epi32(_mm256_madd_epi16(a, ones),
                                     _mm256_slli_epi32(_mm256_set1_epi32(bsum[u][b]), 3));
                const __m256 dy = _mm256_cvtph_ps(_mm_set1_epi16(short(y[u][b].d)));
                acc[u] = _mm256_fmadd_ps(_mm256_mul_ps(dw, dy), _mm256_cvtepi32_ps(sum), acc[u]);
            }
        }
        for (int u = 0; u < T; u++) _mm256_storeu_ps(out[u] + 8 * g, acc[u]);
    }
}

} // namespace

void dot_x8_q4_0_avx2(int n, const void* w, size_t group_bytes, int n_groups, const void* act,
                      size_t act_stride, const int32_t* bsums, int n_tokens, float* out,
                      size_t out_stride) {
    const int nb = n / QK4_0;
    const auto* wb = static_cast<const uint8_t*>(w);
    const auto* ab = static_cast<const uint8_t*>(act);
    const BlockQ8_0* y[4];
    const int32_t* s[4];
    float* o[4];
    auto take = [&](int t, int count) {
        for (int u = 0; u < count; u++) {
            y[u] = reinterpret_cast<const BlockQ8_0*>(ab + size_t(t + u) * act_stride);
            s[u] = bsums + size_t(t + u) * size_t(nb);
            o[u] = out + size_t(t + u) * out_stride;
        }
    };
    int t = 0;
    for (; t + 4 <= n_tokens; t += 4) {
        take(t, 4);
        groups<4>(nb, wb, group_bytes, n_groups, y, s, o);
    }
    for (; t < n_tokens; t++) {
        take(t, 1);
        groups<1>(nb, wb, group_bytes, n_groups, y, s, o);
    }
}

} // namespace strata
