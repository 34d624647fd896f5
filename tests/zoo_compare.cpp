#include "tests/zoo_compare.h"

#include "runtime/sampler.h"
#include "runtime/session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace strata::test {

namespace {

double correlation(const float* a, const std::vector<float>& b) {
    const size_t n = b.size();
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; i++) ma += a[i], mb += b[i];
    ma /= double(n), mb /= double(n);
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / std::sqrt(saa * sbb);
}

} // namespace

double golden_std(const std::vector<GoldenRecord>& golden) {
    double sum = 0, sum2 = 0;
    size_t count = 0;
    for (const auto& r : golden)
        for (float v : r.logits) sum += v, sum2 += double(v) * v, count++;
    const double mean = sum / double(count);
    return std::sqrt(sum2 / double(count) - mean * mean);
}

ZooComparison teacher_force(const std::string& model_path, const std::vector<int32_t>& positions,
                            const std::vector<GoldenRecord>& golden, int n_prompt, int threads) {
    EXPECT_EQ(positions.size(), golden.size());
    ZooComparison res;
    res.logit_std = golden_std(golden);
    auto model = Model::load(model_path);
    SessionOptions opt;
    opt.n_ctx = 512;
    opt.n_threads = threads;
    Session s(model, opt);
    const int V = int(model->config().n_vocab);
    auto compare = [&](size_t pos, const float* logits) {
        const auto& g = golden.at(pos).logits;
        EXPECT_EQ(int(g.size()), V);
        if (int(g.size()) != V) return;
        double pos_max = 0;
        for (int i = 0; i < V; i++)
            pos_max = std::max(pos_max, double(std::fabs(logits[i] - g[size_t(i)])));
        res.max_abs = std::max(res.max_abs, pos_max);
        res.pos_max_abs.push_back(pos_max);
        res.pos_corr.push_back(correlation(logits, g));
        const Top1 top = golden_top1(g);
        if (top.margin > 0.1 * res.logit_std) {
            res.top1_checked++;
            res.top1_agree += argmax(logits, V) == top.token;
        }
    };
    const size_t n = std::min(positions.size(), golden.size());
    const int first = std::min(n_prompt, int(n));
    const float* all = s.decode(positions.data(), first, true);
    for (int p = 0; p < first; p++) compare(size_t(p), all + size_t(p) * size_t(V));
    for (size_t p = size_t(first); p < n; p++) compare(p, s.decode(&positions[p], 1));
    return res;
}

} // namespace strata::test
