// AVX2 + FMA + F16C row-wise kernels: the activations' quantization (Q8_0, Q8_K), RMSNorm,
// softmax, SwiGLU/GeGLU, RoPE, dequantization and attention (ops/attention_impl.h's skeleton over
// AVX2 primitives). Compiled with -mavx2 -mfma -mf16c only; the AVX-512 rows reuse these
// (ops/x86/x86_shared.h). The dot products are in kernels_avx2.cpp.
#include "core/half.h"
#include "core/quant_blocks.h"
#include "core/quantize_ref.h"
#include "ops/dot_ref.h"
#include "ops/kernels.h"
#include "ops/x86/avx2_helpers.h"
#include "ops/x86/x86_shared.h"

#include <cmath>
#include <cstring>
#include <immintrin.h>

namespace strata {
namespace {

// max |x| over n floats (n a multiple of 8)
inline float amax8(const float* x, int n) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 8)
        m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Rounds 32 floats times `id` to int8 (round to nearest even, as lrintf) into dst.
inline void round_32(const float* x, float id, int8_t* dst) {
    const __m256 mul = _mm256_set1_ps(id);
    __m256i v[4];
    for (int k = 0; k < 4; k++)
        v[k] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), mul));
    const __m256i p01 = _mm256_packs_epi32(v[0], v[1]);
    const __m256i p23 = _mm256_packs_epi32(v[2], v[3]);
    __m256i b = _mm256_packs_epi16(p01, p23);
    // packs interleave 128-bit lanes: restore element order
    b = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), b);
}

} // namespace

// Shared with the AVX-512 rows (every AVX-512 CPU has AVX2): declared in ops/x86/x86_shared.h.
void quantize_q8_0_avx2(const float* x, void* vy, int n) {
    auto* y = static_cast<BlockQ8_0*>(vy);
    for (int b = 0; b < n / QK8_0; b++, x += QK8_0) {
        const float amax = amax8(x, QK8_0);
        const float d = amax / 127.0f;
        y[b].d = f32_to_f16(d);
        round_32(x, d != 0 ? 1.0f / d : 0.0f, y[b].qs);
    }
}

void quantize_q8_k_avx2(const float* x, void* vy, int n) {
    auto* y = static_cast<BlockQ8_K*>(vy);
    for (int b = 0; b < n / QK_K; b++, x += QK_K) {
        const float amax = amax8(x, QK_K);
        const float d = amax / 127.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        y[b].d = d;
        for (int k = 0; k < QK_K / 32; k++) round_32(x + 32 * k, id, y[b].qs + 32 * k);
        for (int g = 0; g < QK_K / 16; g++) {
            const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(y[b].qs + 16 * g));
            const __m256i w = _mm256_cvtepi8_epi16(q);
            y[b].bsums[g] = int16_t(hsum_i32(_mm256_madd_epi16(w, _mm256_set1_epi16(1))));
        }
    }
}

void rmsnorm_avx2(int n, const float* x, const float* w, float eps, float* y) {
    __m256 acc = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        acc = _mm256_fmadd_ps(v, v, acc);
    }
    double ss = hsum(acc);
    for (; i < n; i++) ss += double(x[i]) * x[i];
    const float scale = float(1.0 / std::sqrt(ss / n + eps));
    const __m256 s = _mm256_set1_ps(scale);
    for (i = 0; i + 8 <= n; i += 8)
        _mm256_storeu_ps(
            y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), s), _mm256_loadu_ps(w + i)));
    for (; i < n; i++) y[i] = x[i] * scale * w[i];
}

namespace {

// e^x for 8 floats: x = n ln2 + r with |r| <= ln2/2, e^r by its degree-6 Taylor polynomial
// (relative error < 4e-7), 2^n added to the exponent bits. Inputs are clamped to [-87, 88].
inline __m256 exp8(__m256 x) {
    x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.0f)), _mm256_set1_ps(-87.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145752f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.42860677e-6f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i e = _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e));
}

inline float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

} // namespace

void softmax_avx2(int n, float* x) {
    int i = 0;
    __m256 vm = _mm256_set1_ps(-INFINITY);
    for (; i + 8 <= n; i += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(x + i));
    float max = hmax(vm);
    for (; i < n; i++) max = std::fmax(max, x[i]);
    const __m256 m8 = _mm256_set1_ps(max);
    __m256 vs = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), m8));
        _mm256_storeu_ps(x + i, e);
        vs = _mm256_add_ps(vs, e);
    }
    double sum = hsum(vs);
    for (; i < n; i++) sum += x[i] = std::exp(x[i] - max);
    const __m256 inv = _mm256_set1_ps(float(1.0 / sum));
    for (i = 0; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
    for (; i < n; i++) x[i] *= float(1.0 / sum);
}

void swiglu_avx2(int n, const float* gate, const float* up, float* out) {
    int i = 0;
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256 silu =
            _mm256_div_ps(g, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), g))));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
    }
    if (i < n) swiglu_ref(n - i, gate + i, up + i, out + i);
}

void geglu_avx2(int n, const float* gate, const float* up, float* out) {
    int i = 0;
    const __m256 one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f),
                 half = _mm256_set1_ps(0.5f);
    const __m256 k = _mm256_set1_ps(0.7978845608f), c = _mm256_set1_ps(0.044715f);
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256 y =
            _mm256_mul_ps(k, _mm256_fmadd_ps(_mm256_mul_ps(c, g), _mm256_mul_ps(g, g), g));
        // tanh(y) = 1 - 2 / (e^(2y) + 1)
        const __m256 t =
            _mm256_sub_ps(one, _mm256_div_ps(two, _mm256_add_ps(exp8(_mm256_mul_ps(two, y)), one)));
        _mm256_storeu_ps(out + i,
                         _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(half, g), _mm256_add_ps(one, t)),
                                       _mm256_loadu_ps(up + i)));
    }
    if (i < n) geglu_ref(n - i, gate + i, up + i, out + i);
}

void rope_avx2(const RopeParams& p, const float* inv_freq, int pos, float* x, int n_heads) {
    const int half = p.rope_dim / 2;
    if (half > 256 || half % 8 != 0) {
        rope_apply_ref(p, inv_freq, pos, x, n_heads);
        return;
    }
    // cos/sin once per token, shared by all heads; for adjacent pairs each value appears twice
    alignas(32) float c[512], s[512];
    for (int i = 0; i < half; i++) {
        const double angle = double(pos) * inv_freq[i];
        const float ci = float(std::cos(angle)), si = float(std::sin(angle));
        if (p.neox) {
            c[i] = ci, s[i] = si;
        } else {
            c[2 * i] = c[2 * i + 1] = ci;
            s[2 * i] = -si, s[2 * i + 1] = si; // (x0, x1) -> (x0 c - x1 s, x1 c + x0 s)
        }
    }
    for (int h = 0; h < n_heads; h++) {
        float* v = x + size_t(h) * size_t(p.head_dim);
        if (p.neox) {
            for (int i = 0; i < half; i += 8) {
                const __m256 a = _mm256_loadu_ps(v + i), b = _mm256_loadu_ps(v + i + half);
                const __m256 ci = _mm256_load_ps(c + i), si = _mm256_load_ps(s + i);
                _mm256_storeu_ps(v + i, _mm256_fmsub_ps(a, ci, _mm256_mul_ps(b, si)));
                _mm256_storeu_ps(v + i + half, _mm256_fmadd_ps(a, si, _mm256_mul_ps(b, ci)));
            }
        } else {
            for (int i = 0; i < 2 * half; i += 8) {
                const __m256 a = _mm256_loadu_ps(v + i);
                const __m256 swapped = _mm256_permute_ps(a, 0xB1); // (x1, x0) per pair
                _mm256_storeu_ps(v + i,
                                 _mm256_fmadd_ps(a, _mm256_load_ps(c + i),
                                                 _mm256_mul_ps(swapped, _mm256_load_ps(s + i))));
            }
        }
    }
}

namespace {

void dequantize_q8_0(const void* vx, float* y, int n) {
    const auto* x = static_cast<const BlockQ8_0*>(vx);
    for (int b = 0; b < n / QK8_0; b++, y += QK8_0) {
        const __m256 d = _mm256_set1_ps(h2f(x[b].d));
        for (int k = 0; k < 4; k++) {
            const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x[b].qs + 8 * k));
            _mm256_storeu_ps(y + 8 * k,
                             _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q))));
        }
    }
}

void dequantize_q4_0(const void* vx, float* y, int n) {
    const auto* x = static_cast<const BlockQ4_0*>(vx);
    for (int b = 0; b < n / QK4_0; b++, y += QK4_0) {
        const __m256 d = _mm256_set1_ps(h2f(x[b].d));
        alignas(32) int8_t q[32];
        _mm256_store_si256(reinterpret_cast<__m256i*>(q),
                           _mm256_sub_epi8(nibbles(x[b].qs), _mm256_set1_epi8(8)));
        for (int k = 0; k < 4; k++) {
            const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + 8 * k));
            _mm256_storeu_ps(y + 8 * k,
                             _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v))));
        }
    }
}

} // namespace

// Rows of any type to floats: F16, BF16, Q8_0 and Q4_0 with AVX2, the K-quants by reference.
void dequantize_avx2(DType t, const void* x, float* y, int n) {
    const auto* h = static_cast<const uint8_t*>(x);
    int i = 0;
    switch (t) {
    case DType::F16:
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(
                                        reinterpret_cast<const __m128i*>(h + 2 * i))));
        if (i < n) dequantize_row_ref(t, h + 2 * i, y + i, n - i);
        return;
    case DType::BF16:
        for (; i + 8 <= n; i += 8) {
            const __m256i w =
                _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 2 * i)));
            _mm256_storeu_ps(y + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
        }
        if (i < n) dequantize_row_ref(t, h + 2 * i, y + i, n - i);
        return;
    case DType::Q8_0:
        dequantize_q8_0(x, y, n);
        return;
    case DType::Q4_0:
        dequantize_q4_0(x, y, n);
        return;
    default:
        dequantize_row_ref(t, x, y, n);
        return;
    }
}

namespace {

struct Avx2Prims {
    static void load(DType t, const uint8_t* row, float* out, int n) {
        int i = 0;
        if (t == DType::F32) {
            std::memcpy(out, row, size_t(n) * 4);
            return;
        }
        if (t == DType::Q8_0) {
            dequantize_q8_0(row, out, n);
            return;
        }
        for (; i + 32 <= n; i += 32) // (a block of positions is one run: 4 per step)
            for (int u = 0; u < 32; u += 8)
                _mm256_storeu_ps(out + i + u,
                                 _mm256_cvtph_ps(_mm_loadu_si128(
                                     reinterpret_cast<const __m128i*>(row + 2 * (i + u)))));
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(
                                          reinterpret_cast<const __m128i*>(row + 2 * i))));
        for (; i < n; i++) {
            uint16_t h;
            std::memcpy(&h, row + 2 * i, 2);
            out[i] = h2f(h);
        }
    }
    static float dot(const float* a, const float* b, int n) {
        __m256 acc = _mm256_setzero_ps();
        int i = 0;
        for (; i + 8 <= n; i += 8)
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
        float s = hsum(acc);
        for (; i < n; i++) s += a[i] * b[i];
        return s;
    }
    static void axpy(float a, const float* x, float* y, int n) {
        const __m256 va = _mm256_set1_ps(a);
        int i = 0;
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i,
                             _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
        for (; i < n; i++) y[i] += a * x[i];
    }
    static void scale(float* y, float a, int n) {
        const __m256 va = _mm256_set1_ps(a);
        int i = 0;
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, _mm256_mul_ps(va, _mm256_loadu_ps(y + i)));
        for (; i < n; i++) y[i] *= a;
    }
    // 8 rows at a time: 8 independent sums (one dot's single chain of FMAs waited on their
    // latency) reduced together by a tree of horizontal adds into one register of 8 scores
    static void dots(const float* q, const float* rows, int n_rows, int n, float scale,
                     float* out) {
        int j = 0;
        if (n % 8 == 0)
            for (; j + 8 <= n_rows; j += 8) {
                const float* r = rows + size_t(j) * size_t(n);
                __m256 acc[8];
                for (int k = 0; k < 8; k++) acc[k] = _mm256_setzero_ps();
                for (int i = 0; i < n; i += 8) {
                    const __m256 qv = _mm256_loadu_ps(q + i);
                    for (int k = 0; k < 8; k++)
                        acc[k] =
                            _mm256_fmadd_ps(qv, _mm256_loadu_ps(r + size_t(k) * n + i), acc[k]);
                }
                const __m256 u0 =
                    _mm256_hadd_ps(_mm256_hadd_ps(acc[0], acc[1]), _mm256_hadd_ps(acc[2], acc[3]));
                const __m256 u1 =
                    _mm256_hadd_ps(_mm256_hadd_ps(acc[4], acc[5]), _mm256_hadd_ps(acc[6], acc[7]));
                // u0 lane half L: the half's sums of rows 0-3, u1 of rows 4-7
                const __m256 sums = _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20),
                                                  _mm256_permute2f128_ps(u0, u1, 0x31));
                _mm256_storeu_ps(out + j, _mm256_mul_ps(sums, _mm256_set1_ps(scale)));
            }
        for (; j < n_rows; j++) out[j] = dot(q, rows + size_t(j) * size_t(n), n) * scale;
    }
    // y kept in W registers over all rows (8 for a 64-wide head: two FMAs per cycle in flight)
    template <int W>
    static int axpys_pass(const float* s, const float* rows, int n_rows, int n, float* y, int i) {
        for (; i + 8 * W <= n; i += 8 * W) {
            __m256 acc[W];
            for (int w = 0; w < W; w++) acc[w] = _mm256_loadu_ps(y + i + 8 * w);
            for (int j = 0; j < n_rows; j++) {
                const __m256 sv = _mm256_set1_ps(s[j]);
                const float* r = rows + size_t(j) * size_t(n) + i;
                for (int w = 0; w < W; w++)
                    acc[w] = _mm256_fmadd_ps(sv, _mm256_loadu_ps(r + 8 * w), acc[w]);
            }
            for (int w = 0; w < W; w++) _mm256_storeu_ps(y + i + 8 * w, acc[w]);
        }
        return i;
    }
    static void axpys(const float* s, const float* rows, int n_rows, int n, float* y) {
        int i = axpys_pass<8>(s, rows, n_rows, n, y, 0);
        i = axpys_pass<4>(s, rows, n_rows, n, y, i);
        i = axpys_pass<1>(s, rows, n_rows, n, y, i);
        for (; i < n; i++)
            for (int j = 0; j < n_rows; j++) y[i] += s[j] * rows[size_t(j) * size_t(n) + size_t(i)];
    }
    static float max(const float* x, int n, float m) {
        int j = 0;
        if (n >= 8) { // (max is exact, so the order does not matter)
            __m256 v = _mm256_loadu_ps(x);
            for (j = 8; j + 8 <= n; j += 8) v = _mm256_max_ps(v, _mm256_loadu_ps(x + j));
            __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
            h = _mm_max_ps(h, _mm_movehl_ps(h, h));
            h = _mm_max_ss(h, _mm_movehdup_ps(h));
            const float vm = _mm_cvtss_f32(h);
            m = vm > m ? vm : m;
        }
        for (; j < n; j++) m = x[j] > m ? x[j] : m;
        return m;
    }
    static float exp(float x) { return std::exp(x); }
    static float exp_sum(float* x, int n, float m) {
        const __m256 m8 = _mm256_set1_ps(m);
        __m256 acc = _mm256_setzero_ps();
        int j = 0;
        for (; j + 8 <= n; j += 8) {
            const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + j), m8));
            _mm256_storeu_ps(x + j, e);
            acc = _mm256_add_ps(acc, e);
        }
        float s = hsum(acc);
        for (; j < n; j++) s += x[j] = std::exp(x[j] - m);
        return s;
    }
};

#include "ops/attention_impl.h"

} // namespace

void attention_avx2(const AttentionArgs& a, int g0, int g1) {
    attention_impl<Avx2Prims>(a, g0, g1);
}

} // namespace strata
