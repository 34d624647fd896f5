// Picks the next token from logits: greedy (temperature 0) or temperature sampling after
// repetition penalty, top-k, top-p and min-p filtering, with a seeded RNG.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace strata {

struct SamplerOptions {
    float temperature = 0.8f;    // 0 = greedy argmax
    int top_k = 40;              // 0 = off
    float top_p = 0.95f;         // 1 = off
    float min_p = 0.05f;         // 0 = off
    float repeat_penalty = 1.0f; // 1 = off; divides positive logits (multiplies negative ones)
    int repeat_last_n = 64;
    uint64_t seed = 0;
};

class Sampler {
  public:
    explicit Sampler(const SamplerOptions& options);
    // `history`: tokens seen so far (for the repetition penalty).
    int32_t sample(const float* logits, int n_vocab, const std::vector<int32_t>& history);

  private:
    SamplerOptions o_;
    std::mt19937_64 rng_;
    std::vector<std::pair<float, int32_t>> cand_;
};

// First index of the largest logit.
int32_t argmax(const float* logits, int n);

} // namespace strata
