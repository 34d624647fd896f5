// The GGUF quantization types against llama.cpp: each `zoo/llama512-*.gguf` (one Llama-3-style
// model quantized by llama-quantize to one type mix, zoo/README.md) is imported bit for bit,
// converted with its types kept, and run teacher-forced over the positions llama.cpp ran; the
// logits must agree with llama.cpp's to 10% of the golden logits' standard deviation, with the
// same top-1 wherever llama.cpp's top-1 margin exceeds 0.1 standard deviations.
#include "core/error.h"
#include "core/quantize_ref.h"
#include "formats/convert.h"
#include "formats/gguf_reader.h"
#include "formats/model_source.h"
#include "formats/quant_mix.h"
#include "tests/fixtures.h"
#include "tests/golden.h"
#include "tests/zoo_compare.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>

using namespace strata;
using namespace strata::test;

namespace {

bool file_exists(const std::string& p) { return std::filesystem::exists(p); }

class ZooQuant : public ::testing::TestWithParam<std::string> {};

// Every tensor's GGUF type is a row of the type table, and the table's block bytes put each
// tensor's data exactly where the file's next tensor begins (GGUF aligns starts to 32 bytes).
TEST_P(ZooQuant, EveryTensorTypeIsKnownWithGgufsBlockBytes) {
    REQUIRE_FIXTURES();
    const std::string path = fixture("zoo/llama512-" + GetParam() + ".gguf");
    if (!file_exists(path)) GTEST_SKIP() << "fixture missing: " << path;
    const GgufFile g = GgufFile::open(path);
    std::vector<const GgufTensor*> by_offset;
    std::map<std::string, int> types;
    for (const auto& t : g.tensors()) {
        ASSERT_TRUE(t.supported) << t.name << ": " << gguf_type_name(t.ggml_type);
        EXPECT_EQ(uint32_t(t.type), t.ggml_type) << t.name;
        by_offset.push_back(&t);
        types[dtype_name(t.type)]++;
    }
    std::sort(by_offset.begin(), by_offset.end(),
              [](const GgufTensor* a, const GgufTensor* b) { return a->offset < b->offset; });
    for (size_t i = 0; i + 1 < by_offset.size(); i++)
        EXPECT_EQ((by_offset[i]->offset + by_offset[i]->bytes + 31) / 32 * 32,
                  by_offset[i + 1]->offset)
            << by_offset[i]->name << " (" << dtype_name(by_offset[i]->type) << ")";
    std::printf("%s:", GetParam().c_str());
    for (const auto& [name, n] : types) std::printf(" %s x%d", name.c_str(), n);
    std::printf("\n");
    const std::string want = GetParam().substr(0, 4); // "q3_k_m" -> "q3_k", "iq4_nl" -> "iq4_"
    bool found = false;
    for (const auto& [name, n] : types) found |= name.compare(0, 4, want) == 0;
    EXPECT_TRUE(found) << want;
}

// The weights were drawn N(0, 0.02) (token_embd N(0, 1), output N(0, 0.5)) before llama-quantize
// (zoo/README.md): every quantized tensor, dequantized by the reference, has mean ~0 and about
// its standard deviation. A misread scale, min or high bit moves these far.
TEST_P(ZooQuant, DequantizedWeightsHaveTheDistributionTheyWereDrawnFrom) {
    REQUIRE_FIXTURES();
    const std::string path = fixture("zoo/llama512-" + GetParam() + ".gguf");
    if (!file_exists(path)) GTEST_SKIP() << "fixture missing: " << path;
    const GgufFile g = GgufFile::open(path);
    int checked = 0;
    for (const auto& t : g.tensors()) {
        if (!dtype_info(t.type).quantized) continue;
        const uint64_t cols = t.shape.back(), rows = t.bytes / row_bytes(t.type, cols);
        std::vector<float> row(cols);
        double sum = 0, sum2 = 0;
        for (uint64_t r = 0; r < rows; r++) {
            dequantize_row_ref(t.type, g.data(t) + r * row_bytes(t.type, cols), row.data(),
                               int64_t(cols));
            for (float v : row) sum += v, sum2 += double(v) * v;
        }
        const double n = double(rows * cols), mean = sum / n;
        const double sd = std::sqrt(sum2 / n - mean * mean);
        const double want = t.name == "token_embd.weight" ? 1.0
                            : t.name == "output.weight"   ? 0.5
                                                          : 0.02;
        EXPECT_NEAR(mean, 0.0, 0.02 * want) << t.name << " " << dtype_name(t.type);
        EXPECT_NEAR(sd, want, 0.08 * want) << t.name << " " << dtype_name(t.type);
        checked++;
    }
    EXPECT_GE(checked, 22);
}

std::vector<float> dequantized(const GgufFile& g, const GgufTensor& t) {
    const uint64_t cols = t.shape.back(), rows = t.bytes / row_bytes(t.type, cols);
    std::vector<float> out(rows * cols);
    for (uint64_t r = 0; r < rows; r++)
        dequantize_row_ref(t.type, g.data(t) + r * row_bytes(t.type, cols), out.data() + r * cols,
                           int64_t(cols));
    return out;
}

// All eight files quantize the same F16 model: every tensor, dequantized from each file, agrees
// with the Q5_1 file's to within the two types' documented errors. A block read in the wrong
// order or with a misplaced bit disagrees at the level of the weights themselves (relative
// difference ~1.4), far above the bound.
TEST(ZooQuantAll, DequantizedTensorsAgreeAcrossTheFiles) {
    REQUIRE_FIXTURES();
    const char* names[] = {"q4_1", "q5_0", "q2_k", "q3_k_m", "q5_k_m", "iq4_nl", "iq4_xs"};
    const std::string ref_path = fixture("zoo/llama512-q5_1.gguf");
    if (!file_exists(ref_path)) GTEST_SKIP() << "fixture missing: " << ref_path;
    const GgufFile ref = GgufFile::open(ref_path);
    std::map<std::string, const GgufTensor*> ref_by_name;
    for (const auto& t : ref.tensors()) ref_by_name[t.name] = &t;
    std::map<std::string, double> worst; // type -> largest (relative difference / bound)
    for (const char* name : names) {
        const GgufFile g = GgufFile::open(fixture(std::string("zoo/llama512-") + name + ".gguf"));
        for (const auto& t : g.tensors()) {
            if (!dtype_info(t.type).quantized) continue;
            const GgufTensor& r = *ref_by_name.at(t.name);
            const auto a = dequantized(g, t), b = dequantized(ref, r);
            ASSERT_EQ(a.size(), b.size()) << t.name;
            double diff = 0, norm = 0;
            for (size_t i = 0; i < a.size(); i++)
                diff += double(a[i] - b[i]) * (a[i] - b[i]), norm += double(b[i]) * b[i];
            const double rel = std::sqrt(diff / norm);
            const double ea = dtype_info(t.type).max_rmse_n01, eb = dtype_info(r.type).max_rmse_n01;
            const double bound = 1.5 * std::sqrt(ea * ea + eb * eb);
            EXPECT_LT(rel, bound) << name << " " << t.name << " " << dtype_name(t.type) << " vs "
                                  << dtype_name(r.type);
            double& w = worst[dtype_name(t.type)];
            w = std::max(w, rel / bound);
        }
    }
    for (const auto& [type, w] : worst)
        std::printf("%-6s vs the q5_1 file: worst relative difference %.2f of its bound\n",
                    type.c_str(), w);
    EXPECT_GE(worst.size(), 8u) << "every new type and the q4_k/q6_k beside them";
}

// strata-convert's q3_k_m and q5_k_m mixes give each tensor the type llama-quantize gave it in
// the zoo's files of those mixes (3 layers, 4 query heads per KV head).
TEST(ZooQuantAll, MixesPickTheTypesLlamaQuantizePicked) {
    REQUIRE_FIXTURES();
    for (const char* mix : {"q3_k_m", "q5_k_m"}) {
        const std::string path = fixture(std::string("zoo/llama512-") + mix + ".gguf");
        if (!file_exists(path)) GTEST_SKIP() << "fixture missing: " << path;
        const GgufFile g = GgufFile::open(path);
        int matrices = 0;
        for (const auto& t : g.tensors()) {
            if (t.shape.size() != 2) continue; // norms, rope_freqs: F32 vectors
            EXPECT_EQ(dtype_name(quant_mix_type(mix, t.name, {3, 4})),
                      std::string(dtype_name(t.type)))
                << mix << " " << t.name;
            matrices++;
        }
        EXPECT_EQ(matrices, 23) << mix;
    }
}

TEST_P(ZooQuant, TeacherForcedLogitsAgreeWithLlamaCpp) {
    REQUIRE_FIXTURES();
    const std::string base = fixture("zoo/llama512-" + GetParam());
    if (!file_exists(base + ".gguf")) GTEST_SKIP() << "fixture missing: " << base << ".gguf";
    TempDir dir;
    ModelSource src = import_gguf(base + ".gguf");
    ConvertOptions opt;
    convert_model(src, dir.file("m.strata"), opt);
    const auto positions = read_positions(base + ".prompt1.positions");
    const auto golden = read_golden_logits(base + ".prompt1.logits.bin");
    ASSERT_EQ(positions.size(), golden.size());
    const ZooComparison c =
        teacher_force(dir.file("m.strata"), positions, golden, kZooPromptPositions, 2);
    std::printf("llama512-%s: max |dlogit| %.3f = %.1f%% of logit std %.2f; top-1 %d/%d where "
                "the margin > 0.1 std\n",
                GetParam().c_str(), c.max_abs, 100 * c.max_abs / c.logit_std, c.logit_std,
                c.top1_agree, c.top1_checked);
    EXPECT_LE(c.max_abs, 0.10 * c.logit_std);
    EXPECT_EQ(c.top1_agree, c.top1_checked);
    EXPECT_GT(c.top1_checked, 20);
}

INSTANTIATE_TEST_SUITE_P(Zoo, ZooQuant,
                         ::testing::Values("q4_1", "q5_0", "q5_1", "q2_k", "q3_k_m", "q5_k_m",
                                           "iq4_nl", "iq4_xs"),
                         [](const auto& info) { return info.param; });

} // namespace
