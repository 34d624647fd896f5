#include "formats/quant_mix.h"

#include "core/error.h"

#include <cstdlib>

namespace strata {

namespace {

struct Mix {
    const char* name;
    DType base;
};

constexpr Mix kMixes[] = {
    {"q3_k_s", DType::Q3_K}, {"q3_k_m", DType::Q3_K}, {"q3_k_l", DType::Q3_K},
    {"q4_k_s", DType::Q4_K}, {"q4_k_m", DType::Q4_K}, {"q5_k_s", DType::Q5_K},
    {"q5_k_m", DType::Q5_K},
};

// "blk.N.<what>" -> N, or -1 for other names.
int layer_of(const std::string& name, const char* what) {
    if (name.compare(0, 4, "blk.") != 0 || name.find(what) == std::string::npos) return -1;
    char* end = nullptr;
    const unsigned long layer = std::strtoul(name.c_str() + 4, &end, 10);
    if (end == name.c_str() + 4 || *end != '.') return -1;
    return int(layer);
}

} // namespace

std::string quant_mix_names() {
    std::string out;
    for (const Mix& m : kMixes) out.append(out.empty() ? "" : " ").append(m.name);
    return out;
}

std::optional<DType> quant_mix_base(std::string_view mix) {
    for (const Mix& m : kMixes)
        if (mix == m.name) return m.base;
    return std::nullopt;
}

bool quant_mix_more_bits(uint32_t i, uint32_t n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

DType quant_mix_type(std::string_view mix, const std::string& name, const MixModel& m) {
    const auto base = quant_mix_base(mix);
    if (!base) fail("unknown quantization mix '" + std::string(mix) + "'");
    if (name == "output.weight") return DType::Q6_K; // every K mix
    const uint32_t n = m.n_layer;
    if (const int v = layer_of(name, ".attn_v."); v >= 0) {
        const uint32_t i = uint32_t(v);
        if (mix == "q3_k_m") return i < 2 ? DType::Q5_K : DType::Q4_K;
        if (mix == "q3_k_l") return DType::Q5_K;
        if (mix == "q4_k_s") return i < 4 ? DType::Q5_K : *base;
        if ((mix == "q4_k_m" || mix == "q5_k_m") && quant_mix_more_bits(i, n)) return DType::Q6_K;
        return *base;
    }
    if (const int d = layer_of(name, ".ffn_down."); d >= 0) {
        const uint32_t i = uint32_t(d);
        if (mix == "q3_k_m") return i < n / 16 ? DType::Q5_K : DType::Q4_K;
        if (mix == "q3_k_l") return DType::Q5_K;
        if (mix == "q4_k_s") return i < n / 8 ? DType::Q5_K : *base;
        if ((mix == "q4_k_m" || mix == "q5_k_m") && quant_mix_more_bits(i, n)) return DType::Q6_K;
        return *base;
    }
    if (layer_of(name, ".attn_output.") >= 0) {
        if (mix == "q3_k_m") return DType::Q4_K;
        if (mix == "q3_k_l") return DType::Q5_K;
    }
    return *base;
}

} // namespace strata
