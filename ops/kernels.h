// The kernel table: one row of function pointers per instruction set, filled at start-up from
// the CPU's features. Every kernel has a scalar reference (ops/*_ref.cpp); SIMD versions live in
// ops/x86/ and ops/arm/, one file per ISA, each compiled with its own flags.
//
// Each row holds kernels per numeric type (TypeKernels, indexed by DType) where that ISA has
// them; the reference row has every type's dot product, and the others fall back to it. The
// activation type each weight type reads is a column of the type table (core/dtype.h).
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

// One weight type's kernels in one ISA's row (ops/kernels.h, Kernels::types). Any may be
// nullptr: dot() falls back to the reference row's, rows/tile mean "call dot per row" when
// absent, x8 falls back to the reference (types with the Interleave8 layout only). `quantize`
// is set for activation types (Q8_0, Q8_K): floats -> an activation row.
struct TypeKernels {
    DotFn dot = nullptr;
    DotRowsFn rows = nullptr;
    DotTileFn tile = nullptr;
    DotX8Fn x8 = nullptr;
    QuantizeFn quantize = nullptr;
};

struct Kernels {
    const char* name; // ref | avx2 | avx512 | avx512_vnni | avx512_amx | neon | neon_dotprod

    // Per numeric type, indexed by its id (core/dtype.h).
    TypeKernels types[kDTypeSlots] = {};

    // y = x / rms(x) * w
    void (*rmsnorm)(int n, const float* x, const float* w, float eps, float* y) = nullptr;
    // x = softmax(x)
    void (*softmax)(int n, float* x) = nullptr;
    // out = silu(gate) * up   |   out = gelu_tanh(gate) * up
    void (*swiglu)(int n, const float* gate, const float* up, float* out) = nullptr;
    void (*geglu)(int n, const float* gate, const float* up, float* out) = nullptr;
    // RoPE on n_heads heads of one token at `pos` (ops/rope.h)
    void (*rope)(const RopeParams& p, const float* inv_freq, int pos, float* x,
                 int n_heads) = nullptr;
    // fused attention for KV heads [g0, g1) of one token (ops/attention.h)
    void (*attention)(const AttentionArgs& a, int g0, int g1) = nullptr;
    // a row of n values of any type to floats (embedding lookups, KV rows)
    void (*dequantize)(DType type, const void* x, float* y, int n) = nullptr;

    constexpr TypeKernels& operator[](DType t) { return types[size_t(t)]; }
    constexpr const TypeKernels& operator[](DType t) const { return types[size_t(t)]; }

    DotFn dot(DType weight_type) const;          // this row's, else the reference; fails if none
    DotRowsFn dot_rows(DType weight_type) const; // nullptr: none for this type
    DotTileFn dot_tile(DType weight_type) const; // nullptr: none for this type
    DotX8Fn dot_x8(DType weight_type) const;     // Interleave8 types; fails for others
    QuantizeFn quantize(DType activation_type) const; // Q8_0 / Q8_K; fails for others
};

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
const Kernels* kernels_avx512_amx(); // avx512_vnni with AMX tile products (ops/x86/dot_x8_amx.cpp)
const Kernels* kernels_neon();
const Kernels* kernels_neon_dotprod();

} // namespace strata
