#include "runtime/sampler.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace strata {

int32_t argmax(const float* logits, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

Sampler::Sampler(const SamplerOptions& o) : o_(o), rng_(o.seed) {
    if (!(o.temperature >= 0)) fail("temperature must be >= 0");
    if (o.top_k < 0) fail("top-k must be >= 0");
    if (!(o.top_p > 0 && o.top_p <= 1)) fail("top-p must be in (0, 1]");
    if (!(o.min_p >= 0 && o.min_p < 1)) fail("min-p must be in [0, 1)");
    if (!(o.repeat_penalty > 0)) fail("repeat penalty must be > 0");
}

int32_t Sampler::sample(const float* logits, int n_vocab, const std::vector<int32_t>& history) {
    cand_.resize(size_t(n_vocab));
    for (int i = 0; i < n_vocab; i++) cand_[size_t(i)] = {logits[i], i};
    if (o_.repeat_penalty != 1.0f) {
        std::unordered_set<int32_t> seen;
        const size_t from = history.size() > size_t(o_.repeat_last_n)
                                ? history.size() - size_t(o_.repeat_last_n)
                                : 0;
        for (size_t i = from; i < history.size(); i++) seen.insert(history[i]);
        for (int32_t t : seen)
            if (t >= 0 && t < n_vocab) {
                float& l = cand_[size_t(t)].first;
                l = l > 0 ? l / o_.repeat_penalty : l * o_.repeat_penalty;
            }
    }
    if (o_.temperature == 0) {
        size_t best = 0;
        for (size_t i = 1; i < cand_.size(); i++)
            if (cand_[i].first > cand_[best].first) best = i;
        return cand_[best].second;
    }
    size_t n = cand_.size();
    auto by_logit = [](const auto& a, const auto& b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    if (o_.top_k > 0 && size_t(o_.top_k) < n) {
        std::partial_sort(cand_.begin(), cand_.begin() + o_.top_k, cand_.end(), by_logit);
        n = size_t(o_.top_k);
    } else {
        std::sort(cand_.begin(), cand_.end(), by_logit);
    }
    // softmax with temperature over the survivors
    const float max = cand_[0].first;
    double sum = 0;
    std::vector<double> p(n);
    for (size_t i = 0; i < n; i++)
        sum += p[i] = std::exp(double(cand_[i].first - max) / o_.temperature);
    for (auto& x : p) x /= sum;
    size_t keep = n;
    if (o_.min_p > 0)
        for (size_t i = 1; i < keep; i++)
            if (p[i] < o_.min_p * p[0]) keep = i;
    if (o_.top_p < 1) {
        double cum = 0;
        for (size_t i = 0; i < keep; i++) {
            cum += p[i];
            if (cum >= o_.top_p) {
                keep = i + 1;
                break;
            }
        }
    }
    double total = 0;
    for (size_t i = 0; i < keep; i++) total += p[i];
    std::uniform_real_distribution<double> u(0.0, total);
    double r = u(rng_);
    for (size_t i = 0; i < keep; i++) {
        r -= p[i];
        if (r <= 0) return cand_[i].second;
    }
    return cand_[keep - 1].second;
}

} // namespace strata
