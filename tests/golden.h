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

// A golden logit vector's top-1 token and its margin over the second best.
struct Top1 {
    int token;
    float margin;
};
Top1 golden_top1(const std::vector<float>& logits);

} // namespace strata::test
