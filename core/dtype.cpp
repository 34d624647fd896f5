#include "core/dtype.h"

#include "core/quant_blocks.h"
#include "core/quantize_ref.h"

#include <array>
#include <cctype>

namespace strata {

namespace {

template <class Block> constexpr int bytes() { return int(sizeof(Block)); }

// One row per type. To add a type: its block struct in core/quant_blocks.h, its reference
// quantize/dequantize in core/quantize_ref*.cpp, a row here, its reference dot product in
// ops/kernels.cpp's reference row (docs/architecture-recipe-type.md).
// clang-format off
constexpr DTypeInfo kTypes[] = {
//   type          name      block   bytes                 quant  activation    weight kv     x8     fallback32     max rmse  quantize / dequantize
    {DType::F32,   "f32",    1,      4,                    false, DType::F32,   true,  true,  false, DType::F32   , 0,        quantize_row_f32_ref,  dequantize_row_f32_ref},
    {DType::F16,   "f16",    1,      2,                    false, DType::F32,   true,  true,  false, DType::F16   , 0,        quantize_row_f16_ref,  dequantize_row_f16_ref},
    {DType::BF16,  "bf16",   1,      2,                    false, DType::F32,   true,  false, false, DType::BF16  , 0,        quantize_row_bf16_ref, dequantize_row_bf16_ref},
    {DType::Q8_0,  "q8_0",   QK8_0,  bytes<BlockQ8_0>(),   true,  DType::Q8_0,  true,  true,  true, DType::Q8_0  ,  0.0075,   quantize_row_q8_0_ref,  dequantize_row_q8_0_ref},
    {DType::Q4_0,  "q4_0",   QK4_0,  bytes<BlockQ4_0>(),   true,  DType::Q8_0,  true,  false, true, DType::Q4_0  ,  0.110,    quantize_row_q4_0_ref,  dequantize_row_q4_0_ref},
    {DType::Q4_1,  "q4_1",   QK4_1,  bytes<BlockQ4_1>(),   true,  DType::Q8_0,  true,  false, true,  DType::Q4_1  , 0.100,    quantize_row_q4_1_ref,  dequantize_row_q4_1_ref},
    {DType::Q5_0,  "q5_0",   QK5_0,  bytes<BlockQ5_0>(),   true,  DType::Q8_0,  true,  false, true,  DType::Q5_0  , 0.055,    quantize_row_q5_0_ref,  dequantize_row_q5_0_ref},
    {DType::Q5_1,  "q5_1",   QK5_1,  bytes<BlockQ5_1>(),   true,  DType::Q8_0,  true,  false, true,  DType::Q5_1  , 0.050,    quantize_row_q5_1_ref,  dequantize_row_q5_1_ref},
    {DType::IQ4_NL,"iq4_nl", QK4_NL, bytes<BlockIQ4_NL>(), true,  DType::Q8_0,  true,  false, true,  DType::IQ4_NL, 0.100,    quantize_row_iq4_nl_ref, dequantize_row_iq4_nl_ref},
    {DType::Q2_K,  "q2_k",   QK_K,   bytes<BlockQ2_K>(),   true,  DType::Q8_K,  true,  false, true,  DType::IQ4_NL, 0.350,    quantize_row_q2_k_ref,  dequantize_row_q2_k_ref},
    {DType::Q3_K,  "q3_k",   QK_K,   bytes<BlockQ3_K>(),   true,  DType::Q8_K,  true,  false, true,  DType::IQ4_NL, 0.200,    quantize_row_q3_k_ref,  dequantize_row_q3_k_ref},
    {DType::Q4_K,  "q4_k",   QK_K,   bytes<BlockQ4_K>(),   true,  DType::Q8_K,  true,  false, true, DType::Q4_0  ,  0.100,    quantize_row_q4_k_ref,  dequantize_row_q4_k_ref},
    {DType::Q5_K,  "q5_k",   QK_K,   bytes<BlockQ5_K>(),   true,  DType::Q8_K,  true,  false, true,  DType::Q5_1  , 0.050,    quantize_row_q5_k_ref,  dequantize_row_q5_k_ref},
    {DType::Q6_K,  "q6_k",   QK_K,   bytes<BlockQ6_K>(),   true,  DType::Q8_K,  true,  false, true, DType::Q8_0  ,  0.025,    quantize_row_q6_k_ref,  dequantize_row_q6_k_ref},
    {DType::IQ4_XS,"iq4_xs", QK_K,   bytes<BlockIQ4_XS>(), true,  DType::Q8_K,  true,  false, true,  DType::IQ4_NL, 0.100,    quantize_row_iq4_xs_ref, dequantize_row_iq4_xs_ref},
    {DType::Q8_K,  "q8_k",   QK_K,   bytes<BlockQ8_K>(),   true,  DType::Q8_K,  false, false, false, DType::Q8_K  , 0.0085,   quantize_row_q8_k_ref,  dequantize_row_q8_k_ref},
};
// clang-format on

// Table index of each id, -1 where strata has no type.
constexpr std::array<int, kDTypeSlots> kIndex = [] {
    std::array<int, kDTypeSlots> a{};
    for (auto& v : a) v = -1;
    for (size_t i = 0; i < std::size(kTypes); i++) a[size_t(kTypes[i].type)] = int(i);
    return a;
}();

std::string names_where(bool DTypeInfo::*column) {
    std::string out;
    for (const auto& info : kTypes)
        if (info.*column) out.append(out.empty() ? "" : " ").append(info.name);
    return out;
}

} // namespace

std::span<const DTypeInfo> dtype_table() { return kTypes; }

const DTypeInfo& dtype_info(DType t) {
    const size_t id = size_t(t);
    if (id < kDTypeSlots && kIndex[id] >= 0) return kTypes[kIndex[id]];
    return kTypes[0]; // unreachable for valid enum values: ids are checked by dtype_from_id
}

std::optional<DType> dtype_from_id(uint32_t id) {
    if (id < kDTypeSlots && kIndex[id] >= 0) return kTypes[kIndex[id]].type;
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

std::string weight_type_names() { return names_where(&DTypeInfo::weight); }
std::string kv_type_names() { return names_where(&DTypeInfo::kv_cache); }

std::string gguf_type_name(uint32_t id) {
    // GGUF's type ids (ggml_type); 4, 5 and 31..33, 36..38 are retired.
    static const char* names[] = {
        "f32",   "f16",        "q4_0",       "q4_1",       "q4_2",     "q4_3",     "q5_0",
        "q5_1",  "q8_0",       "q8_1",       "q2_k",       "q3_k",     "q4_k",     "q5_k",
        "q6_k",  "q8_k",       "iq2_xxs",    "iq2_xs",     "iq3_xxs",  "iq1_s",    "iq4_nl",
        "iq3_s", "iq2_s",      "iq4_xs",     "i8",         "i16",      "i32",      "i64",
        "f64",   "iq1_m",      "bf16",       "q4_0_4_4",   "q4_0_4_8", "q4_0_8_8", "tq1_0",
        "tq2_0", "iq4_nl_4_4", "iq4_nl_4_8", "iq4_nl_8_8", "mxfp4"};
    if (id < std::size(names)) return names[id];
    return "type " + std::to_string(id);
}

size_t row_bytes(DType t, uint64_t n) {
    const DTypeInfo& info = dtype_info(t);
    if (n % info.block_size != 0) return 0;
    return size_t(n / info.block_size) * info.block_bytes;
}

} // namespace strata
