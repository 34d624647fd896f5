// The model zoo: one small random-weight GGUF per architecture (../shared/fixtures/zoo), made
// and run by llama.cpp. Each row imports a file as it is, feeds its `.positions` teacher-forced
// (BOS and the 33 prompt tokens as one batch, then one token per decode) and compares every
// position's logits with llama.cpp's: max |dlogit| <= 10% of the golden logits' standard
// deviation, and the same top-1 wherever llama.cpp's top-1 margin exceeds 0.1 standard
// deviations (the zoo README's criterion). A new architecture is one more row.
#include "core/error.h"
#include "formats/convert.h"
#include "formats/model_source.h"
#include "formats/strata_reader.h"
#include "ops/rope.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "tests/fixtures.h"
#include "tests/golden.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

using namespace strata;
using namespace strata::test;

namespace {

constexpr int kPromptPositions = 34; // BOS + the prompt's 33 tokens: one batch

struct ZooResult {
    double max_abs = 0, logit_std = 0;
    int top1_checked = 0, top1_agree = 0;
};

// Teacher-forced comparison of `model_path` with the golden logits of zoo file `name`.
ZooResult run_zoo(const std::string& model_path, const std::string& name, int threads = 1) {
    const auto positions = read_positions(fixture("zoo/" + name + ".prompt1.positions"));
    const auto golden = read_golden_logits(fixture("zoo/" + name + ".prompt1.logits.bin"));
    EXPECT_EQ(positions.size(), golden.size());
    // the golden logits' standard deviation over every position
    double sum = 0, sum2 = 0;
    size_t count = 0;
    for (const auto& r : golden)
        for (float v : r.logits) sum += v, sum2 += double(v) * v, count++;
    ZooResult res;
    const double mean = sum / double(count);
    res.logit_std = std::sqrt(sum2 / double(count) - mean * mean);

    auto model = Model::load(model_path);
    SessionOptions opt;
    opt.n_ctx = 512;
    opt.n_threads = threads;
    Session s(model, opt);
    const int V = int(model->config().n_vocab);
    auto compare = [&](size_t pos, const float* logits) {
        const auto& g = golden.at(pos).logits;
        EXPECT_EQ(int(g.size()), V);
        for (int i = 0; i < V; i++)
            res.max_abs = std::max(res.max_abs, double(std::fabs(logits[i] - g[size_t(i)])));
        int best = 0, second = -1;
        for (int i = 1; i < V; i++) {
            if (g[size_t(i)] > g[size_t(best)])
                second = best, best = i;
            else if (second < 0 || g[size_t(i)] > g[size_t(second)])
                second = i;
        }
        if (g[size_t(best)] - g[size_t(second)] > 0.1 * res.logit_std) {
            res.top1_checked++;
            res.top1_agree += argmax(logits, V) == best;
        }
    };
    const int n_prompt = std::min(kPromptPositions, int(positions.size()));
    const float* all = s.decode(positions.data(), n_prompt, true);
    for (int p = 0; p < n_prompt; p++) compare(size_t(p), all + size_t(p) * size_t(V));
    for (size_t p = size_t(n_prompt); p < positions.size(); p++)
        compare(p, s.decode(&positions[p], 1));
    return res;
}

std::string convert_zoo(const TempDir& dir, const std::string& name) {
    ModelSource src = import_gguf(fixture("zoo/" + name + ".gguf"));
    const std::string out = dir.file(name + ".strata");
    convert_model(src, out, {});
    // The Q8_0 experts of the MoE files are stored interleaved (8 rows of one expert per group):
    // these tests then prove that layout against llama.cpp too.
    const StrataFile file = StrataFile::open(out);
    for (const TensorEntry& t : file.tensors()) {
        if (t.shape.size() == 3) {
            EXPECT_EQ(t.layout, TensorLayout::Interleave8) << name << ": " << t.name;
        }
    }
    return out;
}

class Zoo : public ::testing::TestWithParam<std::string> {};

TEST_P(Zoo, TeacherForcedLogitsAgreeWithLlamaCpp) {
    REQUIRE_FIXTURES();
    const std::string name = GetParam();
    if (!std::filesystem::exists(fixture("zoo/" + name + ".gguf")))
        GTEST_SKIP() << "zoo/" << name << ".gguf not in the fixtures";
    TempDir dir;
    const ZooResult r = run_zoo(convert_zoo(dir, name), name);
    std::printf("%s: max |dlogit| %.4f = %.2f%% of logit std %.3f; top-1 %d/%d where margin > "
                "0.1 std\n",
                name.c_str(), r.max_abs, 100 * r.max_abs / r.logit_std, r.logit_std,
                r.top1_agree, r.top1_checked);
    EXPECT_LE(r.max_abs, 0.10 * r.logit_std);
    EXPECT_EQ(r.top1_agree, r.top1_checked);
    EXPECT_GT(r.top1_checked, 0);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Zoo,
                         ::testing::Values("llama-q8_0", "qwen2-q8_0", "qwen3-q8_0", "granite-q8_0",
                                           "smollm3-q8_0", "hunyuan-dense-q8_0", "phi3-q8_0",
                                           "qwen3moe-q8_0", "olmoe-q8_0", "llama-moe-q8_0",
                                           "gemma2-q8_0", "gemma3-q8_0"),
                         [](const auto& info) { return test_name(info.param); });

// Mixture-of-experts prefill runs each expert once over the tokens routed to it (a tile
// matmul); decode runs the chosen experts of one token. The prompt fed as one batch and fed one
// token at a time must give the same logits (up to the GEMM/GEMV summation order), at 1 and 2
// threads.
class ZooMoe : public ::testing::TestWithParam<std::string> {};

TEST_P(ZooMoe, PrefillInTilesMatchesTokenByTokenDecode) {
    REQUIRE_FIXTURES();
    const std::string name = GetParam();
    TempDir dir;
    auto model = Model::load(convert_zoo(dir, name));
    const auto positions = read_positions(fixture("zoo/" + name + ".prompt1.positions"));
    const int V = int(model->config().n_vocab), n = kPromptPositions;
    for (int threads : {1, 2}) {
        SessionOptions opt;
        opt.n_ctx = 128;
        opt.n_threads = threads;
        opt.kv_type = DType::F32;
        Session batch(model, opt), one(model, opt);
        const float* all = batch.decode(positions.data(), n, true);
        const std::vector<float> batched(all, all + size_t(n) * size_t(V));
        double max_abs = 0, sum2 = 0;
        for (int p = 0; p < n; p++) {
            const float* l = one.decode(&positions[size_t(p)], 1);
            for (int i = 0; i < V; i++) {
                const double d = double(l[i]) - batched[size_t(p) * size_t(V) + size_t(i)];
                max_abs = std::max(max_abs, std::fabs(d));
                sum2 += double(l[i]) * l[i];
            }
        }
        const double rms = std::sqrt(sum2 / (double(n) * V));
        EXPECT_LE(max_abs, 1e-3 * rms) << name << " at " << threads << " thread(s)";
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ZooMoe,
                         ::testing::Values("qwen3moe-q8_0", "olmoe-q8_0", "llama-moe-q8_0"),
                         [](const auto& info) { return test_name(info.param); });

} // namespace

// Files of architectures (or features) not supported yet are refused at import with a message
// naming the architecture, never converted into something that computes wrong numbers.
class ZooRefused : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(ZooRefused, ImportNamesTheMissingArchitectureOrFeature) {
    REQUIRE_FIXTURES();
    const auto& [name, expect] = GetParam();
    try {
        import_gguf(fixture("zoo/" + name + ".gguf"));
        FAIL() << name << " was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << e.what();
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ZooRefused,
                         ::testing::Values(std::pair<std::string, std::string>{"gemma3n-q8_0",
                                                                               "'gemma3n'"}),
                         [](const auto& info) { return test_name(info.param.first); });

// Llama 3's RoPE scaling two ways: HF's rope_scaling {type llama3} computed by rope_inv_freq,
// and the GGUF's rope_freqs.weight divisors llama.cpp's converter wrote for the same
// parameters (zoo README: factor 8, low 1, high 4, original context 8192, base 10000).
TEST(ZooRopeFreqs, Llama3ScalingEqualsTheGgufDivisors) {
    REQUIRE_FIXTURES();
    GgufFile g = GgufFile::open(fixture("zoo/llama-q8_0.gguf"));
    const GgufTensor* t = g.find("rope_freqs.weight");
    ASSERT_NE(t, nullptr);
    ASSERT_EQ(t->type, DType::F32);
    ASSERT_EQ(t->shape, std::vector<uint64_t>{32});
    const float* divisors = reinterpret_cast<const float*>(g.data(*t));
    RopeParams p;
    p.head_dim = p.rope_dim = 64;
    p.theta = 10000.0f;
    const std::vector<float> plain = rope_inv_freq(p);
    p.scaling = "llama3";
    p.factor = 8.0f;
    p.original_ctx = 8192;
    p.low_freq_factor = 1.0f;
    p.high_freq_factor = 4.0f;
    const std::vector<float> scaled = rope_inv_freq(p);
    int scaled_pairs = 0;
    for (size_t i = 0; i < 32; i++) {
        EXPECT_NEAR(scaled[i], plain[i] / divisors[i], 1e-6 * plain[i]) << "pair " << i;
        scaled_pairs += divisors[i] != 1.0f;
    }
    EXPECT_GT(scaled_pairs, 0); // the fixture does scale some pairs
}

// Gemma 3 4B and larger scale RoPE linearly (x8) on the global layers only: llama.cpp's sliding
// layers keep rope_freq_scale_train_swa 1 and their own base (1e4). The zoo's gemma3 with a
// linear x8 scaling added: the global table is base 1e6 / 8, the sliding one base 1e4 unscaled.
TEST(ZooRopeFreqs, Gemma3LinearScalingLeavesTheSlidingLayersUnscaled) {
    REQUIRE_FIXTURES();
    ModelSource src = import_gguf(fixture("zoo/gemma3-q8_0.gguf"));
    src.config.rope_scaling.type = "linear";
    src.config.rope_scaling.factor = 8.0f;
    TempDir dir;
    convert_model(src, dir.file("g.strata"), {});
    auto m = Model::load(dir.file("g.strata"));
    RopeParams p;
    p.head_dim = p.rope_dim = 128;
    p.neox = true;
    p.theta = 1e6f;
    const std::vector<float> global = rope_inv_freq(p);
    p.theta = 1e4f;
    const std::vector<float> local = rope_inv_freq(p);
    ASSERT_EQ(m->rope.inv_freq.size(), global.size());
    ASSERT_EQ(m->rope_swa.inv_freq.size(), local.size());
    for (size_t i = 0; i < global.size(); i++) {
        EXPECT_NEAR(m->rope.inv_freq[i], global[i] / 8, 1e-6 * global[i]) << "pair " << i;
        EXPECT_NEAR(m->rope_swa.inv_freq[i], local[i], 1e-6 * local[i]) << "pair " << i;
    }
}
