// Teacher-forced comparison with llama.cpp's golden logits (../shared/fixtures/zoo/README.md):
// feed a golden's positions (the first n_prompt as one batch, then one per decode, as llama.cpp
// ran them) and measure every position's logits against the golden's.
#pragma once

#include "tests/golden.h"

#include <string>
#include <vector>

namespace strata::test {

struct ZooComparison {
    double max_abs = 0;   // max |dlogit| over every position
    double logit_std = 0; // the golden logits' standard deviation over every position
    // positions where llama.cpp's top-1 margin exceeds 0.1 std, and of those, where strata's
    // top-1 is llama.cpp's
    int top1_checked = 0, top1_agree = 0;
    // per position: max |dlogit| and the Pearson correlation of the two logit vectors
    std::vector<double> pos_max_abs, pos_corr;
};

double golden_std(const std::vector<GoldenRecord>& golden);

// BOS and prompt1's 33 tokens: the zoo goldens' first batch
constexpr int kZooPromptPositions = 34;

ZooComparison teacher_force(const std::string& model_path, const std::vector<int32_t>& positions,
                            const std::vector<GoldenRecord>& golden,
                            int n_prompt = kZooPromptPositions, int threads = 1);

} // namespace strata::test
