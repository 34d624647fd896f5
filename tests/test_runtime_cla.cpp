// Cross-layer attention, GQA and MQA against an independent reference: a NumPy forward pass
// (tests/reference/llama_reference.py, float64) written from docs/format.md alone, on
// synthetic models. Also: KV bytes follow the source layers, and outputs do not depend on the
// thread count or the kernel row.
#include "formats/convert.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "tests/fixtures.h"

#include <cmath>
#include <cstring>

using namespace strata;
using namespace strata::test;

namespace {

const std::vector<int32_t> kTokens = {1, 17, 300, 5, 261, 99, 2, 42, 310};

std::string make_model(const TempDir& dir, const std::string& name, int layers, int kv_heads,
                       int cla, DType type) {
    SyntheticOptions syn;
    syn.shape = "test-tiny";
    syn.layers = layers;
    syn.kv_heads = kv_heads;
    syn.seed = 7;
    ModelSource src = make_synthetic(syn);
    const std::string path = dir.file(name + ".strata");
    convert_model(src, path, {type, uint32_t(cla)});
    return path;
}

std::vector<double> numpy_logits(const TempDir& dir, const std::string& model) {
    std::string cmd = "/usr/bin/python3 " STRATA_SOURCE_DIR "/tests/reference/llama_reference.py " +
                      model + " " + dir.file("ref.bin");
    for (int32_t t : kTokens) {
        cmd += ' ';
        cmd += std::to_string(t);
    }
    const CommandResult r = run_command(cmd);
    if (r.exit_code != 0)
        ADD_FAILURE() << "the NumPy reference failed (python3-numpy is installed by make deps):\n"
                      << r.output;
    const auto bytes = read_file(dir.file("ref.bin"));
    std::vector<double> out(bytes.size() / 8);
    if (!out.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
}

// The prompt as a batch of 4, then one token at a time; all logits.
std::vector<float> run(const std::string& model_path, DType kv_type, int threads,
                       const Kernels* k = nullptr) {
    auto model = Model::load(model_path);
    SessionOptions opt;
    opt.n_ctx = 64;
    opt.n_threads = threads;
    opt.kv_type = kv_type;
    opt.kernels = k;
    Session s(model, opt);
    const size_t V = model->config().n_vocab;
    std::vector<float> out;
    const float* all = s.decode(kTokens.data(), 4, true);
    out.insert(out.end(), all, all + 4 * V);
    for (size_t i = 4; i < kTokens.size(); i++) {
        const float* l = s.decode(&kTokens[i], 1);
        out.insert(out.end(), l, l + V);
    }
    return out;
}

struct ClaCase {
    const char* name;
    int layers, kv_heads, cla;
    std::vector<int32_t> kv_source;
};

} // namespace

class ClaReference : public ::testing::TestWithParam<ClaCase> {};

TEST_P(ClaReference, LogitsMatchTheIndependentNumpyForwardPass) {
    const ClaCase& c = GetParam();
    TempDir dir;
    const std::string model = make_model(dir, c.name, c.layers, c.kv_heads, c.cla, DType::F32);
    auto m = Model::load(model);
    ASSERT_EQ(m->config().kv_source, c.kv_source);
    const std::vector<double> ref = numpy_logits(dir, model);
    const std::vector<float> got = run(model, DType::F32, 1);
    ASSERT_EQ(ref.size(), got.size());
    double max_err = 0, sum = 0, sum2 = 0;
    for (size_t i = 0; i < got.size(); i++) {
        max_err = std::max(max_err, std::fabs(got[i] - ref[i]));
        sum += ref[i], sum2 += ref[i] * ref[i];
    }
    const double mean = sum / double(ref.size()),
                 sd = std::sqrt(sum2 / double(ref.size()) - mean * mean);
    std::printf("%s: max |dlogit| vs NumPy float64: %.2e (logit std %.3f)\n", c.name, max_err, sd);
    EXPECT_GT(sd, 0.05); // the logits carry signal
    EXPECT_LT(max_err, 1e-5 * std::max(1.0, 10 * sd));

    // The cache holds source layers only: n_ctx x source layers x KV heads x head_dim x 2 x 2
    // bytes.
    SessionOptions opt;
    opt.n_ctx = 64;
    Session s(m, opt);
    size_t sources = 0;
    for (size_t l = 0; l < c.kv_source.size(); l++) sources += c.kv_source[l] == int32_t(l);
    EXPECT_EQ(s.cache().bytes(), 64u * sources * size_t(c.kv_heads) * 16 * 2 * 2);
    EXPECT_EQ(s.cache().bytes_per_token(), m->config().kv_bytes_per_token(2.0));
}

INSTANTIATE_TEST_SUITE_P(Patterns, ClaReference,
                         ::testing::Values(ClaCase{"gqa", 4, 2, 0, {0, 1, 2, 3}},
                                           ClaCase{"cla2", 4, 2, 2, {0, 0, 2, 2}},
                                           ClaCase{"cla3", 6, 2, 3, {0, 0, 0, 3, 3, 3}},
                                           ClaCase{"mqa_cla2", 4, 1, 2, {0, 0, 2, 2}},
                                           ClaCase{"mha", 3, 4, 0, {0, 1, 2}}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(RuntimeDeterminism, SameLogitsForOneAndTwoThreads) {
    TempDir dir;
    for (DType t : {DType::Q4_0, DType::Q8_0, DType::F16}) {
        const std::string model = make_model(dir, "m", 4, 2, 0, t);
        const auto one = run(model, DType::F16, 1), two = run(model, DType::F16, 2),
                   three = run(model, DType::F16, 3);
        EXPECT_EQ(0, std::memcmp(one.data(), two.data(), one.size() * 4)) << dtype_name(t);
        EXPECT_EQ(0, std::memcmp(one.data(), three.data(), one.size() * 4)) << dtype_name(t);
    }
}

TEST(RuntimeDeterminism, EveryKernelRowGivesTheSameTokensAndCloseLogits) {
    TempDir dir;
    for (DType t : {DType::Q4_0, DType::Q8_0, DType::F16, DType::BF16, DType::F32}) {
        const std::string model = make_model(dir, "m", 4, 2, 0, t);
        const auto ref = run(model, DType::F16, 1, &kKernelsRef);
        const size_t V = 320;
        for (const Kernels* k : available_kernels()) {
            const auto got = run(model, DType::F16, 2, k);
            double max_err = 0;
            for (size_t i = 0; i < got.size(); i++)
                max_err = std::max(max_err, double(std::fabs(got[i] - ref[i])));
            EXPECT_LT(max_err, 1e-3) << k->name << " " << dtype_name(t);
            for (size_t p = 0; p < kTokens.size(); p++)
                EXPECT_EQ(argmax(got.data() + p * V, int(V)), argmax(ref.data() + p * V, int(V)))
                    << k->name << " pos " << p;
        }
    }
}
