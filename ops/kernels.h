// The kernel table: one row of function pointers per instruction set, filled at start-up from
// the CPU's features. Every kernel has a scalar reference (ops/*_ref.cpp); SIMD versions live in
// ops/x86/ and ops/arm/, one file per ISA, each compiled with its own flags.
//
// Activation types: F32/F16/BF16 weights take F32 activations; Q8_0 and Q4_0 weights take Q8_0
// activations; Q4_K and Q6_K weights take Q8_K activations.
#pragma once

#include "core/dtype.h"
#include "ops/attention.h"
#include "ops/rope.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strata {

// Dot product of one weight row (n values of its type) with one activation row.
using DotFn = float (*)(int n, const void* weights, const void* activations);
// The same for n_rows weight rows `row_stride` bytes apart (a GEMV slice): out[r] = dot(row r).
// Rows processed together share each activation load and their block scales are converted
// together; nullptr in a table means "call the DotFn per row".
using DotRowsFn = void (*)(int n, const void* weights, size_t row_stride, int n_rows,
                           const void* activations, float* out);
// Several weight rows against several activation rows (a prefill tile): y[t * y_stride + r] =
// dot(row r, activation t), r < n_rows, t < n_tokens. Weights unpacked once serve every token.
using DotTileFn = void (*)(int n, const void* weights, size_t row_stride, int n_rows,
                           const void* activations, size_t act_stride, int n_tokens, float* y,
                           size_t y_stride);
// An Interleave8 matrix (core/interleave.h: groups of 8 rows, `group_bytes` apart) against
// n_tokens activation rows: out[t * out_stride + 8g + k] = dot(row k of group g, token t).
// For Q4_0 and Q8_0 (Q8_0 activations) bsums[t * (n / 32) + b] is the sum of token t's block b
// quants (block_sums_q8_0), computed once per matrix product by the caller rather than once per
// group; Q4_K kernels take the sums the Q8_K blocks carry and ignore it.
using DotX8Fn = void (*)(int n, const void* weights, size_t group_bytes, int n_groups,
                         const void* activations, size_t act_stride, const int32_t* bsums,
                         int n_tokens, float* out, size_t out_stride);
// Quantize n floats into an activation row.
using QuantizeFn = void (*)(const float* x, void* y, int n);

struct Kernels {
    const char* name; // ref | avx2 | avx512 | avx512_vnni | neon | neon_dotprod

    DotFn dot_f32, dot_f16, dot_bf16;
    DotFn dot_q8_0, dot_q4_0; // x Q8_0 activations
    DotFn dot_q4_k, dot_q6_k; // x Q8_K activations
    QuantizeFn quantize_q8_0, quantize_q8_k;
    DotRowsFn dot_rows_q8_0 = nullptr, dot_rows_q4_0 = nullptr;
    DotRowsFn dot_rows_f16 = nullptr, dot_rows_bf16 = nullptr; // x F32 activations
    DotTileFn dot_tile_q4_0 = nullptr, dot_tile_q8_0 = nullptr;

    // y = x / rms(x) * w
    void (*rmsnorm)(int n, const float* x, const float* w, float eps, float* y);
    // x = softmax(x)
    void (*softmax)(int n, float* x);
    // out = silu(gate) * up   |   out = gelu_tanh(gate) * up
    void (*swiglu)(int n, const float* gate, const float* up, float* out);
    void (*geglu)(int n, const float* gate, const float* up, float* out);
    // RoPE on n_heads heads of one token at `pos` (ops/rope.h)
    void (*rope)(const RopeParams& p, const float* inv_freq, int pos, float* x, int n_heads);
    // fused attention for KV heads [g0, g1) of one token (ops/attention.h)
    void (*attention)(const AttentionArgs& a, int g0, int g1);
    // a row of n values of any type to floats (embedding lookups, KV rows)
    void (*dequantize)(DType type, const void* x, float* y, int n);
    // Interleave8 Q4_0 and Q8_0 x Q8_0, Q4_K and Q6_K x Q8_K matrices (every row has them)
    DotX8Fn dot_x8_q4_0 = nullptr, dot_x8_q4_k = nullptr, dot_x8_q6_k = nullptr;
    DotX8Fn dot_x8_q8_0 = nullptr;

    DotFn dot(DType weight_type) const;
    DotRowsFn dot_rows(DType weight_type) const; // nullptr: none for this type
    DotTileFn dot_tile(DType weight_type) const; // nullptr: none for this type
    DotX8Fn dot_x8(DType weight_type) const; // Interleave8 q4_0/q8_0/q4_k/q6_k; fails for others
};

// The activation type a weight type's dot product reads.
DType activation_type(DType weight_type);

// The kernels in use: the best this CPU supports, or the one STRATA_ISA names
// (ref | avx2 | avx512). Chosen once.
const Kernels& kernels();
// A specific row (by name) if this CPU can run it, else nullptr.
const Kernels* kernels_named(const std::string& name);
// Every row this CPU can run, reference first.
std::vector<const Kernels*> available_kernels();

// Per-ISA tables (defined in their own files; absent ones are nullptr).
extern const Kernels kKernelsRef;
const Kernels* kernels_avx2();
const Kernels* kernels_avx512();
const Kernels* kernels_avx512_vnni();
const Kernels* kernels_neon();
const Kernels* kernels_neon_dotprod();

} // namespace strata
