// The compute graph: built from kv_source alone (no architecture special cases), planned so
// tensors share one arena.
#include "formats/convert.h"
#include "formats/model_source.h"
#include "runtime/arch/arch.h"
#include "runtime/session.h"

#include "tests/fixtures.h"
#include "tests/kernel_test_data.h"
#include <cmath>

using namespace strata;
using namespace strata::test;

TEST(Graph, ConsumerLayersStoreNoKvAndTheArenaIsShared) {
    TempDir dir;
    for (int cla : {0, 2, 3}) {
        SyntheticOptions syn;
        syn.shape = "test-tiny";
        syn.layers = 6;
        ModelSource src = make_synthetic(syn);
        convert_model(src, dir.file("m.strata"), {DType::Q8_0, uint32_t(cla)});
        auto m = Model::load(dir.file("m.strata"));
        for (int n : {1, 7}) {
            const Graph g = build_graph(*m, n, false);
            const size_t sources = cla == 0 ? 6 : 6 / size_t(cla);
            EXPECT_EQ(g.count(Op::StoreKv), sources) << "cla " << cla;
            EXPECT_EQ(g.count(Op::Attention), 6u);
            EXPECT_EQ(g.count(Op::MatMul), 6 * 5 + 2 * sources + 1); // q o gate up down, k v, head
            EXPECT_LT(g.arena_floats(), g.unshared_floats() / 3) << "planning should reuse memory";
            EXPECT_GT(g.activation_bytes(), 0u);
        }
    }
}

namespace {

// Logits at a few positions past kAttentionChunk, each computed by the chunked path (a single
// token) and by the prompt path (one batch of every position): they must agree.
void expect_chunked_decode_matches_prompt(const std::string& path, const std::string& what) {
    auto m = Model::load(path);
    std::vector<int32_t> tokens;
    const int n_vocab = int(m->config().n_vocab);
    for (int i = 0; i < 600; i++) tokens.push_back(int32_t(1 + (i * 13) % (n_vocab - 1)));
    SessionOptions o;
    o.n_ctx = 1024;
    o.kv_type = DType::F32;
    o.n_batch = 1024;
    Session batch(m, o);
    const size_t V = m->config().n_vocab;
    const float* all = batch.decode(tokens.data(), 600, true);
    for (int last : {256, 257, 513, 599}) {
        Session s(m, o);
        s.decode(tokens.data(), last);                       // positions 0..last-1 in one batch
        const float* l = s.decode(&tokens[size_t(last)], 1); // position `last`, chunked
        double worst = 0, scale = 0;
        for (size_t v = 0; v < V; v++) {
            worst = std::max(worst, double(std::fabs(l[v] - all[size_t(last) * V + v])));
            scale = std::max(scale, double(std::fabs(all[size_t(last) * V + v])));
        }
        EXPECT_LT(worst, 1e-4 * scale + 1e-5) << what << " position " << last;
    }
}

} // namespace

// A single token over more than kAttentionChunk positions takes the chunked attention path
// (split over positions, merged); a prompt batch takes the whole-context path. Both must give
// the same logits for the same position.
TEST(Graph, ChunkedDecodeAttentionMatchesThePromptPath) {
    TempDir dir;
    SyntheticOptions syn;
    syn.shape = "test-tiny";
    ModelSource src = make_synthetic(syn);
    convert_model(src, dir.file("t.strata"), {DType::F32, 0});
    expect_chunked_decode_matches_prompt(dir.file("t.strata"), "test-tiny");
}

// The same with sliding windows wider than a chunk (the chunks then cover only the window) and
// attention soft-capping: the zoo's gemma2 (cap 50) and gemma3 with their window set to 300.
TEST(Graph, ChunkedDecodeOfSlidingLayersMatchesThePromptPath) {
    REQUIRE_FIXTURES();
    TempDir dir;
    for (const char* name : {"gemma2-q8_0", "gemma3-q8_0"}) {
        ModelSource src = import_gguf(fixture(std::string("zoo/") + name + ".gguf"));
        ASSERT_FALSE(src.config.layer_sliding.empty());
        src.config.sliding_window = 300;
        convert_model(src, dir.file("g.strata"), {DType::F32, 0});
        expect_chunked_decode_matches_prompt(dir.file("g.strata"), name);
    }
}

// `--synthetic gemma-3-1b`: Gemma 3 1B's shape (head_dim 256 though n_embd / n_head is 288;
// window 512 on five of every six layers; tied) and its parameter count, 999,885,952.
TEST(Graph, SyntheticGemma3OneBHasTheRealShape) {
    SyntheticOptions syn;
    syn.shape = "gemma-3-1b";
    const ModelSource src = make_synthetic(syn);
    const ModelConfig& c = src.config;
    EXPECT_EQ(c.arch, "gemma3");
    EXPECT_EQ(c.head_dim, 256u);
    EXPECT_EQ(c.n_layer, 26u);
    EXPECT_EQ(c.sliding_window, 512u);
    ASSERT_EQ(c.layer_sliding.size(), 26u);
    for (uint32_t l = 0; l < 26; l++) EXPECT_EQ(c.sliding(l), l % 6 != 5) << l;
    EXPECT_EQ(c.rope_theta_swa, 10000.0f);
    EXPECT_TRUE(c.tied_output);
    EXPECT_EQ(parameter_count(c), 999885952u);
}

// The synthetic shapes of issue #20's families: their real hyperparameters, and one layer of
// each converts to Q4_0, loads and decodes (a prompt batch through the grouped MoE path, then
// single tokens) to finite logits.
TEST(Graph, SyntheticShapesOfTheNewFamiliesRun) {
    struct Want {
        const char* shape;
        uint32_t n_embd, head_dim, n_head_kv, n_vocab, n_expert, n_expert_used;
        bool tied;
    };
    for (const Want& w : {Want{"qwen3-0.6b", 1024, 128, 8, 151936, 0, 0, true},
                          Want{"phi-3-mini", 3072, 96, 32, 32064, 0, 0, false},
                          Want{"olmoe-1b-7b", 2048, 128, 16, 50304, 64, 8, false}}) {
        TempDir dir;
        SyntheticOptions syn;
        syn.shape = w.shape;
        syn.layers = 1;
        ModelSource src = make_synthetic(syn);
        const ModelConfig& c = src.config;
        EXPECT_EQ(c.n_embd, w.n_embd) << w.shape;
        EXPECT_EQ(c.head_dim, w.head_dim) << w.shape;
        EXPECT_EQ(c.n_head_kv, w.n_head_kv) << w.shape;
        EXPECT_EQ(c.n_vocab, w.n_vocab) << w.shape;
        EXPECT_EQ(c.n_expert, w.n_expert) << w.shape;
        EXPECT_EQ(c.n_expert_used, w.n_expert_used) << w.shape;
        EXPECT_EQ(c.tied_output, w.tied) << w.shape;
        convert_model(src, dir.file("m.strata"), {DType::Q4_0, 0});
        auto m = Model::load(dir.file("m.strata"));
        SessionOptions o;
        o.n_ctx = 64;
        o.n_threads = 2;
        Session s(m, o);
        const std::vector<int32_t> prompt = {1, 300, 301, 302, 303};
        s.decode(prompt.data(), int(prompt.size()));
        for (int32_t t : {304, 305}) {
            const float* l = s.decode(&t, 1);
            for (uint32_t v = 0; v < c.n_vocab; v++) ASSERT_TRUE(std::isfinite(l[v])) << w.shape;
        }
    }
}

// Gemma 3n's ops one at a time on random rows of odd widths, against the formulas of graph.h
// computed here in double precision.
namespace {

struct OneOp {
    Graph g;
    std::vector<std::pair<int, std::vector<float>>> inputs;
    // An input tensor: a Scale by 1 touches it first, so the plan gives it memory that lives
    // until its last reader.
    int input(int rows, int cols, uint32_t seed) {
        const int t = g.tensor(rows, cols);
        Node n{Op::Scale, -1, t};
        n.f = 1.0f;
        g.add(n);
        inputs.push_back({t, random_floats(size_t(rows) * size_t(cols), seed)});
        return t;
    }
    const std::vector<float>& in(int i) const { return inputs[size_t(i)].second; }
    // Computes (2 threads) and returns the rows of `out`.
    std::vector<float> run(int out) {
        g.set_output(out);
        g.plan();
        std::vector<float> arena(g.arena_floats());
        for (const auto& [t, v] : inputs) {
            const TensorDesc& d = g.desc(t);
            for (int r = 0; r < d.rows; r++)
                std::copy(&v[size_t(r) * size_t(d.cols)], &v[size_t(r + 1) * size_t(d.cols)],
                          g.data(arena.data(), t) + size_t(r) * size_t(d.stride));
        }
        GraphContext c{};
        c.kernels = &kernels();
        c.n_threads = 2;
        c.norm_eps = 1e-6f;
        g.compute(c, arena.data(), nullptr, nullptr);
        const TensorDesc& d = g.desc(out);
        std::vector<float> y;
        for (int r = 0; r < d.rows; r++) {
            const float* row = g.data(arena.data(), out) + size_t(r) * size_t(d.stride);
            y.insert(y.end(), row, row + d.cols);
        }
        return y;
    }
};

void expect_near_all(const std::vector<float>& got, const std::vector<double>& want,
                     const char* what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < got.size(); i++)
        EXPECT_NEAR(got[i], want[i], 1e-5 * (1 + std::fabs(want[i]))) << what << " at " << i;
}

constexpr int kRows = 3, kD = 37, kS = 3;

} // namespace

TEST(GraphOps, StreamMixAddsEachStreamsMixOfAll) {
    OneOp o;
    const int x = o.input(kRows, kS * kD, 1), coef = o.input(kRows, kS * kS, 2);
    const int y = o.g.tensor(kRows, kS * kD);
    o.g.add({Op::StreamMix, y, x, coef, nullptr, nullptr, -1, kS});
    const std::vector<float> got = o.run(y);
    std::vector<double> want;
    for (int t = 0; t < kRows; t++)
        for (int s = 0; s < kS; s++)
            for (int c = 0; c < kD; c++) {
                double v = o.in(0)[size_t(t * kS * kD + s * kD + c)];
                for (int k = 0; k < kS; k++)
                    v += double(o.in(1)[size_t(t * kS * kS + s * kS + k)]) *
                         o.in(0)[size_t(t * kS * kD + k * kD + c)];
                want.push_back(v);
            }
    expect_near_all(got, want, "StreamMix");
}

TEST(GraphOps, StreamCorrectAddsTheInnovationScaledPerStream) {
    OneOp o;
    const int p = o.input(kRows, kS * kD, 3), actual = o.input(kRows, kD, 4);
    const int coef = o.input(kRows, kS, 5);
    Node n{Op::StreamCorrect, -1, p, actual, nullptr, nullptr, -1, kS};
    n.aux = coef;
    o.g.add(n);
    const std::vector<float> got = o.run(p);
    std::vector<double> want;
    for (int t = 0; t < kRows; t++)
        for (int s = 0; s < kS; s++)
            for (int c = 0; c < kD; c++) {
                const double innovation =
                    double(o.in(1)[size_t(t * kD + c)]) - o.in(0)[size_t(t * kS * kD + c)];
                want.push_back(o.in(0)[size_t(t * kS * kD + s * kD + c)] +
                               innovation * (1.0 + o.in(2)[size_t(t * kS + s)]));
            }
    expect_near_all(got, want, "StreamCorrect");
}

TEST(GraphOps, MatchNormGivesEachRowTheTargetsNorm) {
    OneOp o;
    const int x = o.input(kRows, kD, 6), target = o.input(kRows, kD + 4, 7);
    const int y = o.g.tensor(kRows, kD);
    Node n{Op::MatchNorm, y, x};
    n.aux = target;
    o.g.add(n);
    const std::vector<float> got = o.run(y);
    std::vector<double> want;
    for (int t = 0; t < kRows; t++) {
        double nx = 0, nt = 0;
        for (int c = 0; c < kD; c++) nx += std::pow(o.in(0)[size_t(t * kD + c)], 2);
        for (int c = 0; c < kD + 4; c++) nt += std::pow(o.in(1)[size_t(t * (kD + 4) + c)], 2);
        for (int c = 0; c < kD; c++)
            want.push_back(o.in(0)[size_t(t * kD + c)] * std::sqrt(nt / nx));
    }
    expect_near_all(got, want, "MatchNorm");
}

TEST(GraphOps, GaussianTopKKeepsWhatExceedsTheCutoff) {
    OneOp o;
    const int n = 101; // odd width; about 5% of a Gaussian row exceeds mean + 1.645 std
    const int x = o.input(kRows, n, 8);
    o.g.add({Op::GaussianTopK, -1, x, -1, nullptr, nullptr, -1, 0, nullptr, 1.6448533535f});
    const std::vector<float> got = o.run(x);
    std::vector<double> want;
    int kept = 0;
    for (int t = 0; t < kRows; t++) {
        const float* r = &o.in(0)[size_t(t * n)];
        double mean = 0, ss = 0;
        for (int c = 0; c < n; c++) mean += r[c] / double(n);
        for (int c = 0; c < n; c++) ss += (r[c] - mean) * (r[c] - mean);
        const double cutoff = mean + 1.6448533535 * std::sqrt(ss / (n - 1));
        for (int c = 0; c < n; c++) {
            want.push_back(std::max(0.0, r[c] - cutoff));
            kept += r[c] > cutoff;
        }
    }
    expect_near_all(got, want, "GaussianTopK");
    EXPECT_GT(kept, 0);
    EXPECT_LT(kept, kRows * n / 5);
}

TEST(GraphOps, HeadNormWithoutAWeightNormalizesEachHead) {
    OneOp o;
    const int heads = 4, hd = 9;
    const int x = o.input(kRows, heads * hd, 9);
    o.g.add({Op::HeadNorm, -1, x, -1, nullptr, nullptr, -1, heads});
    const std::vector<float> got = o.run(x);
    std::vector<double> want;
    for (int t = 0; t < kRows; t++)
        for (int h = 0; h < heads; h++) {
            const float* r = &o.in(0)[size_t(t * heads * hd + h * hd)];
            double ss = 0;
            for (int c = 0; c < hd; c++) ss += double(r[c]) * r[c];
            for (int c = 0; c < hd; c++) want.push_back(r[c] / std::sqrt(ss / hd + 1e-6));
        }
    expect_near_all(got, want, "HeadNorm without a weight");
}

TEST(GraphOps, TanhMulVecAndCopy) {
    OneOp o;
    const int x = o.input(kRows, kD, 10);
    const std::vector<float> v = random_floats(kD, 11);
    o.g.add({Op::Tanh, -1, x});
    const int y = o.g.tensor(kRows, kD);
    o.g.add({Op::MulVec, y, x, -1, nullptr, v.data()});
    const int z = o.g.tensor(kRows, 2 * kD);
    o.g.add({Op::Copy, o.g.view_cols(z, kD, kD), y}); // into the right half of z's rows
    o.g.add({Op::Copy, o.g.view_cols(z, 0, kD), x});
    const std::vector<float> got = o.run(z);
    std::vector<double> want;
    for (int t = 0; t < kRows; t++) {
        for (int c = 0; c < kD; c++) want.push_back(std::tanh(double(o.in(0)[size_t(t * kD + c)])));
        for (int c = 0; c < kD; c++)
            want.push_back(std::tanh(double(o.in(0)[size_t(t * kD + c)])) * v[size_t(c)]);
    }
    expect_near_all(got, want, "Tanh, MulVec, Copy");
}
