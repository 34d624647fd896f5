// The numeric-type table: one row per element type strata knows (core/dtype.cpp). Every list of
// types elsewhere (converter types, KV types, the GGUF type map, tests) is read from it. The
// numeric ids are the ones GGUF uses for the same types, and the ones stored in `.strata` tensor
// directories (docs/format.md). Kernels per instruction set are rows of ops/kernels.h, indexed by
// the same ids.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace strata {

enum class DType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ4_NL = 20,
    IQ4_XS = 23,
    BF16 = 30,
};

// Arrays indexed by a DType's id have this many slots (GGUF ids 0..30).
constexpr size_t kDTypeSlots = 31;

// Reference conversions of one row of n values (n a multiple of the block size).
using QuantizeRowFn = void (*)(const float* x, void* y, int64_t n);
using DequantizeRowFn = void (*)(const void* x, float* y, int64_t n);

struct DTypeInfo {
    DType type;
    const char* name; // lower case, as on the command line: "q4_0"
    int block_size;   // values per block (1 for plain floats)
    int block_bytes;  // bytes per block
    bool quantized;
    // The type a weight row's dot product reads its activations in: F32 for float weights, Q8_0
    // for the 32-value blocks, Q8_K for the 256-value ones (as llama.cpp pairs them; Q4_1 and
    // Q5_1 take Q8_0 and form the activation block sums themselves).
    DType activation;
    bool weight;      // may be a tensor's type (Q8_K is an activation type only)
    bool kv_cache;    // may be the KV cache's type (--kv-type)
    bool interleave8; // has the Interleave8 layout (core/interleave.h)
    // The 32-value type of about the same size that the converter gives rows which don't fill
    // this type's 256-value blocks (as llama-quantize falls back); the type itself otherwise.
    DType fallback32;
    // Round-trip RMSE of the reference quantizer on N(0, 1) rows must stay below this
    // (measured values in tests/test_quantize.cpp; 0 for float types, checked there by rounding).
    double max_rmse_n01;
    QuantizeRowFn quantize;     // scalar reference: what the type means
    DequantizeRowFn dequantize; // scalar reference
};

// Every row, in the table's order (floats first, then quantized types).
std::span<const DTypeInfo> dtype_table();
// Traits of a type; every DType value has a row.
const DTypeInfo& dtype_info(DType t);
// The type with this numeric (GGUF) id, if strata knows it.
std::optional<DType> dtype_from_id(uint32_t id);
// Parse "q4_0", "F16", ... (case-insensitive).
std::optional<DType> dtype_from_name(std::string_view name);
inline const char* dtype_name(DType t) { return dtype_info(t).name; }
// The activation type a weight type's dot product reads (F32 for float weights).
inline DType activation_type(DType weight_type) { return dtype_info(weight_type).activation; }
// The names of the weight types ("f32 f16 ... iq4_xs"), or of the KV cache types, space-separated.
std::string weight_type_names();
std::string kv_type_names();
// GGUF's name for a type id, including the types strata refuses ("iq2_xxs", "tq1_0", ...).
std::string gguf_type_name(uint32_t id);

// Bytes of a row of `n` values, or 0 if `n` is not a multiple of the block size.
size_t row_bytes(DType t, uint64_t n);

} // namespace strata
