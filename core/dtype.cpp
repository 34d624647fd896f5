#include "core/dtype.h"

#include "core/quant_blocks.h"

#include <cctype>

namespace strata {

static const DTypeInfo kTypes[] = {
    {DType::F32, "f32", 1, 4, false},
    {DType::F16, "f16", 1, 2, false},
    {DType::BF16, "bf16", 1, 2, false},
    {DType::Q8_0, "q8_0", QK8_0, sizeof(BlockQ8_0), true},
    {DType::Q4_0, "q4_0", QK4_0, sizeof(BlockQ4_0), true},
    {DType::Q4_K, "q4_k", QK_K, sizeof(BlockQ4_K), true},
    {DType::Q6_K, "q6_k", QK_K, sizeof(BlockQ6_K), true},
    {DType::Q8_K, "q8_k", QK_K, sizeof(BlockQ8_K), true},
};

const DTypeInfo& dtype_info(DType t) {
    for (const auto& info : kTypes)
        if (info.type == t) return info;
    return kTypes[0]; // unreachable for valid enum values: ids are checked by dtype_from_id
}

std::optional<DType> dtype_from_id(uint32_t id) {
    for (const auto& info : kTypes)
        if (uint32_t(info.type) == id) return info.type;
    return std::nullopt;
}

std::optional<DType> dtype_from_name(std::string_view name) {
    for (const auto& info : kTypes) {
        std::string_view n = info.name;
        if (n.size() != name.size()) continue;
        bool same = true;
        for (size_t i = 0; i < n.size(); i++)
            same &= std::tolower(static_cast<unsigned char>(name[i])) == n[i];
        if (same) return info.type;
    }
    return std::nullopt;
}

size_t row_bytes(DType t, uint64_t n) {
    const DTypeInfo& info = dtype_info(t);
    if (n % info.block_size != 0) return 0;
    return size_t(n / info.block_size) * info.block_bytes;
}

} // namespace strata
