// Reference outputs in the fixtures: `.positions` (token fed at each position) and
// `.logits.bin` (per position: int32 pos, int32 token, int32 V, V float32 logits).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace strata::test {

struct GoldenRecord {
    int32_t pos, token;
    std::vector<float> logits;
};

std::vector<int32_t> read_positions(const std::string& path);
std::vector<GoldenRecord> read_golden_logits(const std::string& path);

} // namespace strata::test
