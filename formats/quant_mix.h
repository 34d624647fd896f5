// The K-quant mixes of llama.cpp's llama-quantize (q3_k_s/m/l, q4_k_s/m, q5_k_s/m): a base type
// for the matrices and a larger type for the ones llama.cpp gives more bits (the output matrix,
// attn_v, ffn_down and attn_output of some layers). Facts from llama.cpp's
// llama_tensor_get_type for dense models without an importance matrix.
#pragma once

#include "core/dtype.h"

#include <optional>
#include <string>
#include <string_view>

namespace strata {

// Every mix name, space-separated ("q3_k_s q3_k_m ... q5_k_m").
std::string quant_mix_names();
// The base type of a mix, or nullopt if `mix` names none.
std::optional<DType> quant_mix_base(std::string_view mix);

// The shape facts the rules read.
struct MixModel {
    uint32_t n_layer = 0;
    uint32_t n_gqa = 1; // query heads per KV head
};

// The type matrix `name` gets in `mix` (a mix name quant_mix_base accepts).
DType quant_mix_type(std::string_view mix, const std::string& name, const MixModel& m);

// llama.cpp's use_more_bits: the first and last eighth of the layers and every third between.
bool quant_mix_more_bits(uint32_t layer, uint32_t n_layer);

} // namespace strata
