// AVX-512 (F/BW/VL) kernels. This file is compiled twice: once with -mavx512vnni, where the
// byte dot products use VPDPBUSD, and once without, where they use VPMADDUBSW + VPMADDWD. The
// build passes STRATA_AVX512_ROW (kernels_avx512 or kernels_avx512_vnni) to name the row.
#include "core/half.h"
#include "core/quant_blocks.h"
#include "core/quantize_ref.h"
#include "ops/dot_ref.h"
#include "ops/kernels.h"
#include "ops/x86/dot_k.h"
#include "ops/x86/dot_q32_avx2.h"
#include "ops/x86/x86_shared.h"

#include <immintrin.h>

#ifndef STRATA_AVX512_ROW
#error "STRATA_AVX512_ROW must name the table getter"
#endif
#define STRATA_STR2(x) #x
#define STRATA_STR(x) STRATA_STR2(x)

namespace strata {
namespace {

// acc += sum over each 4 bytes of u (unsigned) * s (signed), as 16 int32 lanes.
inline __m512i dot_u8s8(__m512i acc, __m512i u, __m512i s) {
#ifdef __AVX512VNNI__
    return _mm512_dpbusd_epi32(acc, u, s);
#else
    return _mm512_add_epi32(acc,
                            _mm512_madd_epi16(_mm512_maddubs_epi16(u, s), _mm512_set1_epi16(1)));
#endif
}

// acc += signed x signed bytes (|x| * (y with x's sign)).
inline __m512i dot_s8s8(__m512i acc, __m512i x, __m512i y) {
    const __m512i sy = _mm512_mask_sub_epi8(y, _mm512_movepi8_mask(x), _mm512_setzero_si512(), y);
    return dot_u8s8(acc, _mm512_abs_epi8(x), sy);
}

inline __m512i join(__m256i lo, __m256i hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
inline __m512 join_scales(float lo, float hi) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_set1_ps(lo)),
                                               _mm256_castps_pd(_mm256_set1_ps(hi)), 1));
}
inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// 32 nibbles of 16 bytes: low nibbles in bytes 0..15, high in 16..31.
inline __m256i nibbles(const uint8_t* p) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(b, 4), b), _mm256_set1_epi8(15));
}

float dot_f32(int n, const void* w, const void* a) {
    const float* x = static_cast<const float*>(w);
    const float* y = static_cast<const float*>(a);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), acc1);
    }
    if (i + 16 <= n) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), acc0);
        i += 16;
    }
    if (i < n) { // masked tail
        const __mmask16 m = __mmask16((1u << (n - i)) - 1);
        acc1 =
            _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i), acc1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

float dot_q8_0(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ8_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    const int nb = n / QK8_0;
    __m512 acc = _mm512_setzero_ps();
    int b = 0;
    for (; b + 2 <= nb; b += 2) {
        const __m512i qx = join(load256(x[b].qs), load256(x[b + 1].qs));
        const __m512i qy = join(load256(y[b].qs), load256(y[b + 1].qs));
        const __m512i s = dot_s8s8(_mm512_setzero_si512(), qx, qy);
        const __m512 d = join_scales(f16_to_f32(x[b].d) * f16_to_f32(y[b].d),
                                     f16_to_f32(x[b + 1].d) * f16_to_f32(y[b + 1].d));
        acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc);
    }
    float sum = _mm512_reduce_add_ps(acc);
    if (b < nb) sum += dot_q8_0_ref(QK8_0, x + b, y + b);
    return sum;
}

float dot_q4_0(int n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ4_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    const int nb = n / QK4_0;
    __m512 acc = _mm512_setzero_ps();
    const __m512i eight = _mm512_set1_epi8(8);
    int b = 0;
    for (; b + 2 <= nb; b += 2) {
        const __m512i qx = _mm512_sub_epi8(join(nibbles(x[b].qs), nibbles(x[b + 1].qs)), eight);
        const __m512i qy = join(load256(y[b].qs), load256(y[b + 1].qs));
        const __m512i s = dot_s8s8(_mm512_setzero_si512(), qx, qy);
        const __m512 d = join_scales(f16_to_f32(x[b].d) * f16_to_f32(y[b].d),
                                     f16_to_f32(x[b + 1].d) * f16_to_f32(y[b + 1].d));
        acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc);
    }
    float sum = _mm512_reduce_add_ps(acc);
    if (b < nb) sum += dot_q4_0_ref(QK4_0, x + b, y + b);
    return sum;
}

// F16 and BF16 rows against F32 activations: the skeleton of ops/dot_half_impl.h with 512-bit
// vectors, 32 values (one 64-byte line of a row) per step and 8 rows per GEMV slice (16
// accumulators of the 32 registers).
struct Half512 {
    using Vec = __m512;
    static constexpr int kStep = 32;
    static Vec zero() { return _mm512_setzero_ps(); }
    static Vec fma(Vec w, Vec a, Vec acc) { return _mm512_fmadd_ps(w, a, acc); }
    static float hsum(Vec a, Vec b) { return _mm512_reduce_add_ps(_mm512_add_ps(a, b)); }
};
struct HalfF16 : Half512 {
    static void act(const float* y, __m512& a0, __m512& a1) {
        a0 = _mm512_loadu_ps(y), a1 = _mm512_loadu_ps(y + 16);
    }
    static void weights(const uint16_t* x, __m512& w0, __m512& w1) {
        w0 = _mm512_cvtph_ps(load256(x));
        w1 = _mm512_cvtph_ps(load256(x + 16));
    }
    static float widen(uint16_t v) { return f16_to_f32(v); }
};
// One 64-byte load holds 32 BF16 values, two to each 32-bit lane: shifting a lane left by 16
// makes the float of its even value, masking its low half the float of its odd one. The
// activations are split into even and odd values to match, once per step for all rows.
struct HalfBF16 : Half512 {
    static void act(const float* y, __m512& a0, __m512& a1) {
        const __m512 y0 = _mm512_loadu_ps(y), y1 = _mm512_loadu_ps(y + 16);
        const __m512i even =
            _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        a0 = _mm512_permutex2var_ps(y0, even, y1);
        a1 = _mm512_permutex2var_ps(y0, _mm512_add_epi32(even, _mm512_set1_epi32(1)), y1);
    }
    static void weights(const uint16_t* x, __m512& w0, __m512& w1) {
        const __m512i v = _mm512_loadu_si512(x);
        w0 = _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
        w1 = _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(int(0xffff0000u))));
    }
    static float widen(uint16_t v) { return bf16_to_f32(v); }
};

#include "ops/dot_half_impl.h"

float dot_f16(int n, const void* w, const void* a) { return dot_half_row<HalfF16>(n, w, a); }
float dot_bf16(int n, const void* w, const void* a) { return dot_half_row<HalfBF16>(n, w, a); }

} // namespace

#ifdef __AVX512VNNI__
#define STRATA_ROW_NAME "avx512_vnni"
#else
#define STRATA_ROW_NAME "avx512"
#endif

namespace {

// The AVX2 row (x86_shared.h), with the kernels 512-bit registers do better in its place. Q4_K/Q6_K
// dots and the quantized GEMV slices stay AVX2 (their 8-row slices beat one 512-bit row at a time
// on the lent AVX-512 Xeon); F16/BF16 take 8-row slices of 512-bit vectors (dot_half_impl.h).
constexpr Kernels make_avx512_row() {
    Kernels k{.name = STRATA_ROW_NAME};
    set_avx2_kernels(k);
    k[DType::F32].dot = dot_f32;
    k[DType::Q8_0].dot = dot_q8_0;
    k[DType::Q4_0].dot = dot_q4_0;
    k[DType::F16] = {.dot = dot_f16, .rows = dot_rows_half<HalfF16, 8>};
    k[DType::BF16] = {.dot = dot_bf16, .rows = dot_rows_half<HalfBF16, 8>};
#ifdef __AVX512VNNI__ // byte products as VPDPBUSD
    k[DType::Q8_0].x8 = dot_x8_q8_0_vnni;
    k[DType::Q4_0].x8 = dot_x8_q4_0_vnni;
    k[DType::Q4_K].x8 = dot_x8_q4_k_vnni;
    k[DType::Q6_K].x8 = dot_x8_q6_k_vnni;
    set_q32_kernels_vnni(k); // Q4_1, Q5_0, Q5_1, IQ4_NL (dot_q32_avx2.cpp built for VNNI)
    k[DType::IQ4_NL].x8 = dot_x8_iq4_nl_vnni; // (after the entries set_q32_kernels_vnni replaces)
    k[DType::Q5_0].x8 = dot_x8_q5_0_vnni;
    k[DType::Q4_1].x8 = dot_x8_q4_1_vnni;
    k[DType::Q5_1].x8 = dot_x8_q5_1_vnni;
    add_k_kernels_vnni(k); // Q2_K, Q3_K, Q5_K, IQ4_XS (dot_k_vnni.cpp)
    // (after it: it sets those types' whole entries)
    k[DType::Q5_K].x8 = dot_x8_q5_k_vnni;
    k[DType::IQ4_XS].x8 = dot_x8_iq4_xs_vnni;
    k[DType::Q2_K].x8 = dot_x8_q2_k_vnni;
    k[DType::Q3_K].x8 = dot_x8_q3_k_vnni;
#endif
    return k;
}

constinit const Kernels kRow = make_avx512_row();

} // namespace

const Kernels* STRATA_AVX512_ROW() { return &kRow; }

} // namespace strata
