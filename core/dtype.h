// Element types of tensors. The numeric ids are the ones GGUF uses for the same types, and the
// ones stored in `.strata` tensor directories (docs/format.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace strata {

enum class DType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 8,
    Q4_K = 12,
    Q6_K = 14,
    Q8_K = 15,
    BF16 = 30,
};

struct DTypeInfo {
    DType type;
    const char* name; // lower case, as on the command line: "q4_0"
    int block_size;   // values per block (1 for plain floats)
    int block_bytes;  // bytes per block
    bool quantized;
};

// Traits of a type; nullptr-free: every DType value has a row.
const DTypeInfo& dtype_info(DType t);
// The type with this numeric id, if strata knows it.
std::optional<DType> dtype_from_id(uint32_t id);
// Parse "q4_0", "F16", ... (case-insensitive).
std::optional<DType> dtype_from_name(std::string_view name);
inline const char* dtype_name(DType t) { return dtype_info(t).name; }

// Bytes of a row of `n` values, or 0 if `n` is not a multiple of the block size.
size_t row_bytes(DType t, uint64_t n);

} // namespace strata
