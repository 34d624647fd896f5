#include "tests/golden.h"

#include "tests/fixtures.h"

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace strata::test {

std::vector<int32_t> read_positions(const std::string& path) {
    std::ifstream f(path);
    if (!f) throw std::runtime_error("cannot read " + path);
    std::vector<int32_t> out;
    int32_t t;
    while (f >> t) out.push_back(t);
    return out;
}

std::vector<GoldenRecord> read_golden_logits(const std::string& path) {
    const auto bytes = read_file(path);
    std::vector<GoldenRecord> out;
    size_t o = 0;
    while (o + 12 <= bytes.size()) {
        int32_t h[3];
        std::memcpy(h, bytes.data() + o, 12);
        o += 12;
        if (h[2] <= 0 || o + size_t(h[2]) * 4 > bytes.size())
            throw std::runtime_error("bad golden file " + path);
        GoldenRecord r{h[0], h[1], std::vector<float>(size_t(h[2]))};
        std::memcpy(r.logits.data(), bytes.data() + o, size_t(h[2]) * 4);
        o += size_t(h[2]) * 4;
        out.push_back(std::move(r));
    }
    return out;
}

Top1 golden_top1(const std::vector<float>& g) {
    int best = 0, second = -1;
    for (int i = 1; i < int(g.size()); i++) {
        if (g[size_t(i)] > g[size_t(best)])
            second = best, best = i;
        else if (second < 0 || g[size_t(i)] > g[size_t(second)])
            second = i;
    }
    return {best, second < 0 ? 0.0f : g[size_t(best)] - g[size_t(second)]};
}

} // namespace strata::test
