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
#include "runtime/session.h"
#include "tests/fixtures.h"
#include "tests/golden.h"
#include "tests/zoo_compare.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

using namespace strata;
using namespace strata::test;

namespace {

// Teacher-forced comparison of `model_path` with the golden logits of zoo file `name`.
ZooComparison run_zoo(const std::string& model_path, const std::string& name, int threads = 1) {
    return teacher_force(model_path, read_positions(fixture("zoo/" + name + ".prompt1.positions")),
                         read_golden_logits(fixture("zoo/" + name + ".prompt1.logits.bin")),
                         kZooPromptPositions, threads);
}

std::string convert_zoo(const TempDir& dir, const std::string& name) {
    ModelSource src = import_gguf(fixture("zoo/" + name + ".gguf"));
    const std::string out = dir.file(name + ".strata");
    convert_model(src, out, {});
    // The Q8_0 experts of the MoE files are stored interleaved (8 rows of one expert per group):
    // these tests then prove that layout against llama.cpp too. (gemma3n's 3-D tensors are F16
    // AltUp projections; a zoo file requantized to F16, run against its own llama.cpp goldens by
    // tools/strata-bench/zoo_variant_goldens.sh, keeps its float experts row-major.)
    const StrataFile file = StrataFile::open(out);
    for (const TensorEntry& t : file.tensors()) {
        if (t.shape.size() == 3 && t.name.find("_exps.") != std::string::npos &&
            t.type == DType::Q8_0) {
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
    const ZooComparison r = run_zoo(convert_zoo(dir, name), name);
    std::printf("%s: max |dlogit| %.4f = %.2f%% of logit std %.3f; top-1 %d/%d where margin > "
                "0.1 std\n",
                name.c_str(), r.max_abs, 100 * r.max_abs / r.logit_std, r.logit_std, r.top1_agree,
                r.top1_checked);
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

// The first n positions as one batch and token by token, in two sessions of `opt`: the largest
// logit difference, and the token-by-token logits' RMS.
std::pair<double, double> batch_against_one_by_one(const std::shared_ptr<const Model>& model,
                                                   const std::vector<int32_t>& positions, int n,
                                                   const SessionOptions& opt) {
    const int V = int(model->config().n_vocab);
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
    return {max_abs, rms};
}

TEST_P(ZooMoe, PrefillInTilesMatchesTokenByTokenDecode) {
    REQUIRE_FIXTURES();
    const std::string name = GetParam();
    TempDir dir;
    auto model = Model::load(convert_zoo(dir, name));
    const auto positions = read_positions(fixture("zoo/" + name + ".prompt1.positions"));
    const int n = kZooPromptPositions;
    for (int threads : {1, 2}) {
        SessionOptions opt;
        opt.n_ctx = 128;
        opt.n_threads = threads;
        opt.kv_type = DType::F32;
        const auto [max_abs, rms] = batch_against_one_by_one(model, positions, n, opt);
        EXPECT_LE(max_abs, 1e-3 * rms) << name << " at " << threads << " thread(s)";
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ZooMoe,
                         ::testing::Values("qwen3moe-q8_0", "olmoe-q8_0", "llama-moe-q8_0"),
                         [](const auto& info) { return test_name(info.param); });

} // namespace

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

// The zoo's gemma3n file came after the others: its tests skip where the fixtures predate it.
bool have_gemma3n() { return std::filesystem::exists(fixture("zoo/gemma3n-q8_0.gguf")); }

// Gemma 3n's KV sharing (zoo README): layers 20-24 compute no K/V; the sliding layers 20-23
// read layer 18's, the global layer 24 reads layer 19's, so the cache holds 20 layers' K/V.
TEST(ZooGemma3n, SharingLayersReadTheLastOwnerOfTheirKind) {
    REQUIRE_FIXTURES();
    if (!have_gemma3n()) GTEST_SKIP() << "zoo/gemma3n-q8_0.gguf not in the fixtures";
    const ModelSource src = import_gguf(fixture("zoo/gemma3n-q8_0.gguf"));
    const ModelConfig& c = src.config;
    ASSERT_EQ(c.n_layer, 25u);
    for (uint32_t l = 0; l < 25; l++) {
        EXPECT_EQ(c.sliding(l), l % 5 != 4) << "layer " << l;
        const int32_t want = l < 20 ? int32_t(l) : c.sliding(l) ? 18 : 19;
        EXPECT_EQ(c.kv_source[l], want) << "layer " << l;
    }
    EXPECT_EQ(c.n_kv_layers(), 20u);
    // The 16 sliding owners (read by sliding layers only) keep their window in a ring: only the
    // global owners 4, 9, 14, 19 grow with the context (K,V x heads x dim x F16 each).
    EXPECT_EQ(c.n_kv_windowed_layers(), 16u);
    EXPECT_EQ(c.kv_bytes_per_token(2.0), 4u * 2 * 2 * 128 * 2);
    EXPECT_EQ(c.kv_window_bytes(2.0), 16u * 16 * 2 * 2 * 128 * 2); // x the window's 16 positions
    EXPECT_EQ(c.altup_streams, 4u);
    EXPECT_EQ(c.per_layer_width, 256u);
    EXPECT_EQ(c.laurel_rank, 64u);
}

// Gemma 3n against llama.cpp. This fixture cannot meet the zoo's criterion for a runtime that
// does not reproduce llama.cpp's rounding bit for bit: over 25 layers the Q8_0 activation
// rounding turns any difference (summation order, a cache type) into independent quantization
// noise, which the sparse FFN gates and attention at scale 1 over unit-RMS Q/K amplify. strata
// itself, with only the KV cache changed from F16 to F32 (V moved by ~1e-4 relative), moves its
// logits by up to 17.9 (137% of their std), relative RMS 0.26 on average: the size of its
// distance to llama.cpp (max 17.6, relative RMS 0.265). llama.cpp is as sensitive to itself
// (tools/strata-bench/llama_teacher_force.cpp, the golden's own libllama): its F32 KV cache moves
// its logits by 151% of the std from the golden, all 65 positions in one batch instead of 34 then
// one at a time by 127% — where gemma3, gemma2, llama and qwen3 move by 1.4-2.2% and 0%. What is
// checked instead:
// - position 0 (BOS: its attention sees only itself) within 20% of the logit std (strata:
//   1.05 of 2.6; the KV and weight-type variants 0.70 to 1.07; dropping the per-layer inputs
//   from streams 1.. gives 7.7, the sparse gate 23, LAuReL's residual 31);
// - at every position the logits correlate with llama.cpp's (strata: min 0.91, mean 0.96; a
//   missing sparse gate gives mean 0.78, a missing LAuReL residual 0.71).
TEST(ZooGemma3n, LogitsFollowLlamaCppWithinTheFixturesSensitivity) {
    REQUIRE_FIXTURES();
    if (!have_gemma3n()) GTEST_SKIP() << "zoo/gemma3n-q8_0.gguf not in the fixtures";
    const std::string name = "gemma3n-q8_0";
    TempDir dir;
    const ZooComparison r = run_zoo(convert_zoo(dir, name), name);
    ASSERT_EQ(r.pos_corr.size(), 65u);
    double mean_corr = 0, min_corr = 1;
    for (double c : r.pos_corr)
        mean_corr += c / double(r.pos_corr.size()), min_corr = std::min(min_corr, c);
    std::printf("%s: position 0 max |dlogit| %.4f (%.2f%% of std %.3f); correlation min %.3f mean "
                "%.3f; over all positions max |dlogit| %.2f, top-1 %d/%d where margin > 0.1 std\n",
                name.c_str(), r.pos_max_abs[0], 100 * r.pos_max_abs[0] / r.logit_std, r.logit_std,
                min_corr, mean_corr, r.max_abs, r.top1_agree, r.top1_checked);
    EXPECT_LE(r.pos_max_abs[0], 0.20 * r.logit_std);
    EXPECT_GE(min_corr, 0.85);
    EXPECT_GE(mean_corr, 0.92);
}

// The prompt's first 12 tokens as one batch and one at a time give the same logits (F32 weights and
// cache, where no activation is quantized, so only summation order differs): the stream ops, views
// and per-layer slices are right for any number of rows, at 1 and 2 threads.
TEST(ZooGemma3n, PromptBatchMatchesTokenByTokenDecode) {
    REQUIRE_FIXTURES();
    if (!have_gemma3n()) GTEST_SKIP() << "zoo/gemma3n-q8_0.gguf not in the fixtures";
    TempDir dir;
    ModelSource src = import_gguf(fixture("zoo/gemma3n-q8_0.gguf"));
    convert_model(src, dir.file("g.strata"), {DType::F32, 0});
    auto model = Model::load(dir.file("g.strata"));
    const auto positions = read_positions(fixture("zoo/gemma3n-q8_0.prompt1.positions"));
    const int n = 12;
    for (int threads : {1, 2}) {
        SessionOptions opt;
        opt.n_ctx = 64;
        opt.n_threads = threads;
        opt.kv_type = DType::F32;
        const auto [max_abs, rms] = batch_against_one_by_one(model, positions, n, opt);
        EXPECT_LE(max_abs, 1e-3 * rms) << threads << " thread(s)";
    }
}
