// Every golden in the zoo, whatever its name: each `zoo/NAME.gguf` with a `NAME.PROMPT.positions`
// and `NAME.PROMPT.logits.bin` beside it (prompt1 of the files README.md lists, and any other
// prompt or file put there: goldens for more prompts, the zoo requantized to F16 —
// tools/strata-bench/zoo_variant_goldens.sh makes those with llama.cpp). Each is imported as it
// is, fed teacher-forced (the first 34 positions as one batch, then one per decode) and held to
// the criterion:
// - quantized weights: max |dlogit| <= 10% of the golden logits' std, and the same top-1 wherever
//   llama.cpp's top-1 margin exceeds 0.1 std;
// - float weights only (F32/F16/BF16: the same weights as llama.cpp's, only summation order and
//   llama.cpp's F16 rounding of activations differ): max |dlogit| <= 2% of the std, same top-1;
// - gemma3n, whose logits move by more than its std under any change of rounding (llama.cpp's
//   own: tests/test_zoo.cpp, ZooGemma3n): position 0 within 20% of the std and every position's
//   logits correlated with llama.cpp's (>= 0.85, mean >= 0.92).
// The named tests (test_zoo.cpp, test_zoo_quant.cpp) say what each file exercises; this one
// makes sure no golden in the fixtures goes unchecked.
#include "formats/convert.h"
#include "formats/model_source.h"
#include "tests/fixtures.h"
#include "tests/golden.h"
#include "tests/zoo_compare.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

using namespace strata;
using namespace strata::test;

namespace {

namespace fs = std::filesystem;

struct Golden {
    std::string model, prompt; // zoo/MODEL.gguf, zoo/MODEL.PROMPT.{positions,logits.bin}
};

std::vector<Golden> every_golden(const fs::path& zoo) {
    std::vector<Golden> out;
    for (const auto& e : fs::directory_iterator(zoo)) {
        const std::string f = e.path().filename().string();
        const std::string suffix = ".logits.bin";
        if (f.size() <= suffix.size() || !f.ends_with(suffix)) continue;
        const std::string stem = f.substr(0, f.size() - suffix.size()); // MODEL.PROMPT
        const size_t dot = stem.rfind('.');
        if (dot == std::string::npos) continue;
        Golden g{stem.substr(0, dot), stem.substr(dot + 1)};
        if (fs::exists(zoo / (g.model + ".gguf")) &&
            fs::exists(zoo / (g.model + "." + g.prompt + ".positions")))
            out.push_back(g);
    }
    std::sort(out.begin(), out.end(), [](const Golden& a, const Golden& b) {
        return a.model != b.model ? a.model < b.model : a.prompt < b.prompt;
    });
    return out;
}

TEST(ZooGoldens, EveryGoldenInTheFixturesAgreesWithLlamaCpp) {
    REQUIRE_FIXTURES();
    const fs::path zoo = fixture("zoo");
    if (!fs::is_directory(zoo)) GTEST_SKIP() << "no zoo/ in the fixtures";
    const auto goldens = every_golden(zoo);
    ASSERT_FALSE(goldens.empty()) << "no NAME.PROMPT.logits.bin with its .gguf in " << zoo;
    TempDir dir;
    std::string converted_for;
    for (const Golden& g : goldens) {
        SCOPED_TRACE(g.model + "." + g.prompt);
        const std::string base = (zoo / g.model).string();
        ModelSource src = import_gguf(base + ".gguf");
        bool float_only = true;
        for (const SourceTensor& t : src.tensors)
            if (t.shape.size() >= 2 && dtype_info(t.type).quantized) float_only = false;
        const std::string arch = src.config.arch;
        const std::string model = dir.file(g.model + ".strata");
        if (converted_for != g.model) {
            convert_model(src, model, {});
            converted_for = g.model;
        }
        const auto positions = read_positions(base + "." + g.prompt + ".positions");
        const auto golden = read_golden_logits(base + "." + g.prompt + ".logits.bin");
        ASSERT_EQ(positions.size(), golden.size());
        const ZooComparison c = teacher_force(model, positions, golden);
        const double rel = c.max_abs / c.logit_std;
        double min_corr = 1, mean_corr = 0;
        for (double r : c.pos_corr)
            min_corr = std::min(min_corr, r), mean_corr += r / double(c.pos_corr.size());
        std::printf("%s.%s (%s, %s weights): max |dlogit| %.4f = %.2f%% of std %.3f; top-1 %d/%d; "
                    "correlation min %.3f\n",
                    g.model.c_str(), g.prompt.c_str(), arch.c_str(),
                    float_only ? "float" : "quantized", c.max_abs, 100 * rel, c.logit_std,
                    c.top1_agree, c.top1_checked, min_corr);
        if (arch == "gemma3n") {
            ASSERT_FALSE(c.pos_max_abs.empty());
            EXPECT_LE(c.pos_max_abs[0], 0.20 * c.logit_std);
            EXPECT_GE(min_corr, 0.85);
            EXPECT_GE(mean_corr, 0.92);
            continue;
        }
        EXPECT_LE(rel, float_only ? 0.02 : 0.10);
        EXPECT_EQ(c.top1_agree, c.top1_checked);
        EXPECT_GT(c.top1_checked, 0);
    }
}

} // namespace
