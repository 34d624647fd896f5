// Hugging Face import of the zoo's architecture families, proven by round trip: each zoo GGUF is
// written back out as an HF directory (tests/hf_writer: HF names, layouts and config fields),
// imported with import_hf, and must give llama.cpp's logits (the criterion) and the same
// logits as importing the GGUF itself (tight: both see the same dequantized weights).
#include "core/error.h"
#include "core/quantize_ref.h"
#include "formats/convert.h"
#include "formats/gguf_reader.h"
#include "formats/import_hf_names.h"
#include "formats/safetensors.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "tests/fixtures.h"
#include "tests/golden.h"
#include "tests/hf_writer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

using namespace strata;
using namespace strata::test;

namespace {

constexpr int kPromptTokens = 34; // BOS + the prompt's 33 tokens, fed as one batch

// Logits after every position: the prompt as one batch, then one token at a time.
std::vector<std::vector<float>> teacher_force(const std::string& model_path,
                                              const std::vector<int32_t>& positions) {
    auto model = Model::load(model_path);
    SessionOptions opt;
    opt.n_ctx = 512;
    opt.n_threads = 1;
    opt.kv_type = DType::F32;
    Session s(model, opt);
    const size_t V = model->config().n_vocab;
    std::vector<std::vector<float>> out;
    const float* all = s.decode(positions.data(), kPromptTokens, true);
    for (int p = 0; p < kPromptTokens; p++) out.emplace_back(all + p * V, all + (p + 1) * V);
    for (size_t p = kPromptTokens; p < positions.size(); p++) {
        const float* l = s.decode(&positions[p], 1);
        out.emplace_back(l, l + V);
    }
    return out;
}

double golden_std(const std::vector<GoldenRecord>& golden) {
    double sum = 0, sum2 = 0, n = 0;
    for (const auto& r : golden)
        for (float x : r.logits) sum += x, sum2 += double(x) * x, n++;
    const double mean = sum / n;
    return std::sqrt(sum2 / n - mean * mean);
}

// Pearson correlation of two logit rows.
double correlation(const std::vector<float>& a, const std::vector<float>& b) {
    double ma = 0, mb = 0;
    for (size_t i = 0; i < a.size(); i++) ma += a[i], mb += b[i];
    ma /= double(a.size()), mb /= double(b.size());
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size(); i++) {
        ab += (a[i] - ma) * (b[i] - mb);
        aa += (a[i] - ma) * (a[i] - ma);
        bb += (b[i] - mb) * (b[i] - mb);
    }
    return ab / std::sqrt(aa * bb);
}

// The criterion: every logit within 10% of the golden std of llama.cpp's, the same
// top token wherever llama.cpp's margin exceeds a tenth of the std.
void expect_within_llamacpp_criterion(const std::vector<std::vector<float>>& logits,
                                      const std::vector<GoldenRecord>& golden, double sd,
                                      const std::string& name) {
    double max_golden = 0;
    int top1_checked = 0, top1_agree = 0;
    for (size_t p = 0; p < golden.size(); p++) {
        const auto& g = golden[p].logits;
        ASSERT_EQ(g.size(), logits[p].size());
        for (size_t i = 0; i < g.size(); i++)
            max_golden = std::max(max_golden, double(std::fabs(logits[p][i] - g[i])));
        std::vector<float> sorted = g;
        std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
        if (sorted[0] - sorted[1] > 0.1 * sd) {
            top1_checked++;
            top1_agree +=
                argmax(logits[p].data(), int(g.size())) == argmax(g.data(), int(g.size()));
        }
    }
    ::testing::Test::RecordProperty("hf_vs_llamacpp_max_abs_over_std",
                                    std::to_string(max_golden / sd));
    EXPECT_LE(max_golden, 0.10 * sd) << name << ": HF import vs llama.cpp, golden std " << sd;
    EXPECT_EQ(top1_agree, top1_checked) << name;
    EXPECT_GT(top1_checked, 0);
}

// Gemma 3n's fixture turns any rounding difference into logit changes beyond the std
// (tests/test_zoo.cpp, ZooGemma3n, has the numbers): its checks are BOS within 20% of the std
// and every position's logits correlated with llama.cpp's.
void expect_gemma3n_follows_llamacpp(const std::vector<std::vector<float>>& logits,
                                     const std::vector<GoldenRecord>& golden, double sd,
                                     const std::string& name) {
    double bos = 0, min_corr = 1, mean_corr = 0;
    ASSERT_EQ(golden[0].logits.size(), logits[0].size());
    for (size_t i = 0; i < golden[0].logits.size(); i++)
        bos = std::max(bos, double(std::fabs(logits[0][i] - golden[0].logits[i])));
    for (size_t p = 0; p < golden.size(); p++) {
        const double r = correlation(logits[p], golden[p].logits);
        min_corr = std::min(min_corr, r);
        mean_corr += r / double(golden.size());
    }
    ::testing::Test::RecordProperty("hf_vs_llamacpp_bos_over_std", std::to_string(bos / sd));
    ::testing::Test::RecordProperty("hf_vs_llamacpp_correlation_min", std::to_string(min_corr));
    EXPECT_LE(bos, 0.20 * sd) << name;
    EXPECT_GE(min_corr, 0.85) << name;
    EXPECT_GE(mean_corr, 0.92) << name;
}

// An importer's refusal of an architecture or feature it does not have yet (the test then
// fails or skips, naming it); any other error is thrown.
bool is_not_yet_supported(const std::string& what) {
    return what.find("not supported") != std::string::npos ||
           what.find("strata understands") != std::string::npos;
}

struct Imported {
    std::string path;  // the .strata file, empty when refused
    std::string error; // the refusal
    TokenizerData tokenizer;
};

template <typename F> Imported import_and_convert(F&& import, const std::string& out) {
    Imported r;
    try {
        ModelSource src = import();
        r.tokenizer = src.tokenizer;
        convert_model(src, out, {DType::F32, 0});
        r.path = out;
    } catch (const Error& e) {
        if (!is_not_yet_supported(e.what())) throw;
        r.error = e.what();
    }
    return r;
}

class HfZoo : public ::testing::TestWithParam<std::string> {};

TEST_P(HfZoo, RoundTripGivesTheGgufLogits) {
    REQUIRE_FIXTURES();
    const std::string name = GetParam();
    const std::string gguf = fixture("zoo/" + name + ".gguf");
    if (!std::ifstream(gguf)) GTEST_SKIP() << gguf << " not found";
    TempDir dir;
    const std::string hf_dir = dir.file("hf");
    std::filesystem::create_directory(hf_dir);
    HfWriteResult written;
    try {
        written = write_hf_from_gguf(gguf, hf_dir);
    } catch (const Error& e) { // every family listed is written and imported: no skipping
        FAIL() << "the HF writer cannot write " << name << ": " << e.what();
    }
    const auto positions = read_positions(fixture("zoo/" + name + ".prompt1.positions"));
    const auto golden = read_golden_logits(fixture("zoo/" + name + ".prompt1.logits.bin"));
    ASSERT_EQ(positions.size(), golden.size());
    const double sd = golden_std(golden);

    Imported hf = import_and_convert([&] { return import_hf(hf_dir); }, dir.file("hf.strata"));
    if (hf.path.empty()) // (a tensor name the family's mapping lacks is such a refusal)
        FAIL() << "HF import of " << written.model_type << " (" << name
               << ") refused: " << hf.error;
    Imported gg = import_and_convert([&] { return import_gguf(gguf); }, dir.file("gguf.strata"));

    // The criterion against llama.cpp, for the HF import on its own (gemma3n's fixture
    // amplifies any rounding difference beyond it: ZooGemma3n's checks instead).
    const auto hf_logits = teacher_force(hf.path, positions);
    if (name.rfind("gemma3n", 0) == 0)
        expect_gemma3n_follows_llamacpp(hf_logits, golden, sd, name);
    else
        expect_within_llamacpp_criterion(hf_logits, golden, sd, name);

    if (gg.path.empty())
        GTEST_SKIP() << "HF import matches llama.cpp, but GGUF import of " << name
                     << " is not supported yet, so the two imports were not compared: " << gg.error;
    // Both imports carry the same vocabulary.
    EXPECT_EQ(hf.tokenizer.tokens, gg.tokenizer.tokens);
    EXPECT_EQ(hf.tokenizer.scores, gg.tokenizer.scores);
    EXPECT_EQ(hf.tokenizer.types, gg.tokenizer.types);
    EXPECT_EQ(hf.tokenizer.bos_id, gg.tokenizer.bos_id);
    EXPECT_EQ(hf.tokenizer.eos_id, gg.tokenizer.eos_id);
    EXPECT_EQ(hf.tokenizer.add_bos, gg.tokenizer.add_bos);

    const auto gg_logits = teacher_force(gg.path, positions);
    double max_pair = 0;
    for (size_t p = 0; p < golden.size(); p++)
        for (size_t i = 0; i < gg_logits[p].size(); i++)
            max_pair = std::max(max_pair, double(std::fabs(hf_logits[p][i] - gg_logits[p][i])));
    RecordProperty("hf_vs_gguf_max_abs_over_std", std::to_string(max_pair / sd));
    // Same weights up to the order of float operations (RoPE pairing differs for normal-RoPE
    // families): a thousandth of the logits' spread.
    EXPECT_LE(max_pair, 1e-3 * sd) << name << ": HF import vs GGUF import, golden std " << sd;
}

INSTANTIATE_TEST_SUITE_P(Zoo, HfZoo,
                         ::testing::Values("llama-q8_0", "qwen2-q8_0", "qwen3-q8_0", "gemma2-q8_0",
                                           "gemma3-q8_0", "gemma3n-q8_0", "phi3-q8_0",
                                           "granite-q8_0", "smollm3-q8_0", "hunyuan-dense-q8_0",
                                           "qwen3moe-q8_0", "olmoe-q8_0", "llama-moe-q8_0"),
                         [](const auto& info) { return test_name(info.param); });

// Every family, whether or not strata runs it yet: the HF importer's tensors (names, shapes,
// stacked experts, Gemma's norms back to weight + 1) hold the GGUF's values; Q/K of the families
// llama.cpp runs with normal RoPE stay in HF's rotate-half row order (strata runs them NeoX).
class HfZooTensors : public ::testing::TestWithParam<std::string> {};

TEST_P(HfZooTensors, ImportedTensorsHoldTheGgufValues) {
    REQUIRE_FIXTURES();
    const std::string gguf = fixture("zoo/" + GetParam() + ".gguf");
    if (!std::ifstream(gguf)) GTEST_SKIP() << gguf << " not found";
    TempDir dir;
    const HfWriteResult w = write_hf_from_gguf(gguf, dir.path);
    std::vector<std::string> missing;
    ModelSource src = import_hf_source(dir.path, &missing);
    GgufFile g = GgufFile::open(gguf);
    const std::string arch = *g.get_string("general.architecture");
    EXPECT_EQ(src.config.arch, arch);
    const bool normal_rope = arch == "llama" || arch == "granite" || arch == "smollm3";
    const uint64_t d = src.config.head_dim;
    size_t compared = 0;
    for (const GgufTensor& t : g.tensors()) {
        if (t.name == "rope_freqs.weight") continue;
        const SourceTensor* s = src.find(t.name);
        ASSERT_TRUE(s) << w.model_type << ": no " << t.name;
        ASSERT_EQ(s->shape, t.shape) << t.name;
        const uint64_t cols = t.shape.back(), n = t.bytes / row_bytes(t.type, cols) * cols;
        std::vector<float> want(n), have(n);
        for (uint64_t r = 0; r < n / cols; r++)
            dequantize_row_ref(t.type, g.data(t) + r * row_bytes(t.type, cols), &want[r * cols],
                               int64_t(cols));
        std::vector<uint8_t> bytes(n * 4);
        if (s->generate)
            s->generate(DType::F32, bytes.data(), bytes.size());
        else
            for (uint64_t r = 0; r < n / cols; r++)
                dequantize_row_ref(s->type, s->data + r * row_bytes(s->type, cols),
                                   reinterpret_cast<float*>(bytes.data()) + r * cols,
                                   int64_t(cols));
        std::memcpy(have.data(), bytes.data(), bytes.size());
        const bool qk = t.name.find(".attn_q.") != std::string::npos ||
                        t.name.find(".attn_k.") != std::string::npos;
        for (uint64_t r = 0; r < n / cols; r++) {
            uint64_t from = r;
            if (normal_rope && qk) { // HF row j*d/2 + i of a head is GGUF row 2i + j
                const uint64_t head = r / d, j = (r % d) / (d / 2), i = (r % d) % (d / 2);
                from = head * d + 2 * i + j;
            }
            ASSERT_EQ(0, std::memcmp(&have[r * cols], &want[from * cols], cols * 4))
                << t.name << " row " << r;
        }
        compared++;
    }
    EXPECT_EQ(compared + (g.find("rope_freqs.weight") ? 1 : 0), g.tensors().size());
    EXPECT_EQ(src.tensors.size() - (src.config.tied_output && src.find("output.weight") ? 1 : 0),
              compared);
    // The families' features strata cannot run yet are named (they become the refusal).
    if (!missing.empty()) {
        std::string list;
        for (const auto& m : missing) list += m + "; ";
        RecordProperty("missing", list);
        EXPECT_THROW(import_hf(dir.path), Error);
    }
}

INSTANTIATE_TEST_SUITE_P(Zoo, HfZooTensors,
                         ::testing::Values("llama-q8_0", "qwen2-q8_0", "qwen3-q8_0", "gemma2-q8_0",
                                           "gemma3-q8_0", "gemma3n-q8_0", "phi3-q8_0",
                                           "granite-q8_0", "smollm3-q8_0", "hunyuan-dense-q8_0",
                                           "qwen3moe-q8_0", "olmoe-q8_0", "llama-moe-q8_0"),
                         [](const auto& info) { return test_name(info.param); });

// The writer itself: HF names and layouts a reader of HF checkpoints relies on.
TEST(HfWriter, LlamaQkRowsAreInRotateHalfOrderAndRopeScalingIsLlama3) {
    REQUIRE_FIXTURES();
    TempDir dir;
    write_hf_from_gguf(fixture("zoo/llama-q8_0.gguf"), dir.path);
    SafetensorsFile st = SafetensorsFile::open(dir.file("model.safetensors"));
    GgufFile g = GgufFile::open(fixture("zoo/llama-q8_0.gguf"));
    const auto& q = st.tensors().at("model.layers.1.self_attn.q_proj.weight");
    ASSERT_EQ(q.dtype, "F32");
    ASSERT_EQ(q.shape, (std::vector<uint64_t>{256, 256}));
    const GgufTensor* gq = g.find("blk.1.attn_q.weight");
    ASSERT_TRUE(gq);
    std::vector<float> row(256);
    // HF row 32 of head 1 (= second half, i = 0) is GGUF row 1 of that head (pair 0, j = 1).
    dequantize_row_ref(gq->type, g.data(*gq) + (64 + 1) * row_bytes(gq->type, 256), row.data(),
                       256);
    EXPECT_EQ(0, std::memcmp(row.data(), q.data + (64 + 32) * 256 * 4, 256 * 4));
    dequantize_row_ref(gq->type, g.data(*gq) + (64 + 6) * row_bytes(gq->type, 256), row.data(),
                       256);
    EXPECT_EQ(0, std::memcmp(row.data(), q.data + (64 + 3) * 256 * 4, 256 * 4)); // i = 3, j = 0
    EXPECT_FALSE(st.tensors().count("rope_freqs.weight"));
    auto cfg = nlohmann::json::parse(std::ifstream(dir.file("config.json")));
    EXPECT_EQ(cfg["rope_scaling"]["rope_type"], "llama3");
    EXPECT_EQ(cfg["rope_scaling"]["original_max_position_embeddings"], 8192);
}

// Max |Δlogit| / the golden logits' std between the HF round trip of zoo file `name` written
// right and written with one of HfWriteOptions' planted mistakes (`plant` sets it).
template <typename Plant> double planted_mistake_shift(const std::string& name, Plant plant) {
    const auto positions = read_positions(fixture("zoo/" + name + ".prompt1.positions"));
    const auto golden = read_golden_logits(fixture("zoo/" + name + ".prompt1.logits.bin"));
    auto logits = [&](bool wrong) {
        TempDir dir;
        HfWriteOptions o;
        if (wrong) plant(o);
        write_hf_from_gguf(fixture("zoo/" + name + ".gguf"), dir.path, o);
        ModelSource src = import_hf(dir.path);
        convert_model(src, dir.file("m.strata"), {DType::F32, 0});
        return teacher_force(dir.file("m.strata"), positions);
    };
    const auto right = logits(false), wrong = logits(true);
    double max_abs = 0;
    for (size_t p = 0; p < golden.size(); p++)
        for (size_t i = 0; i < golden[p].logits.size(); i++)
            max_abs = std::max(max_abs, double(std::fabs(right[p][i] - wrong[p][i])));
    return max_abs / golden_std(golden);
}

// The round trip has teeth where llama.cpp's criterion has none: with Llama's Q/K rows left in
// GGUF's order the HF import stays within 10% of a standard deviation of llama.cpp's logits
// (random weights make attention nearly position-blind), but moves far beyond the round trip's
// tolerance from the correctly laid-out import.
TEST(HfWriter, LlamaQkRowsInGgufOrderAreCaughtByTheRoundTripTolerance) {
    REQUIRE_FIXTURES();
    const double shift =
        planted_mistake_shift("llama-q8_0", [](HfWriteOptions& o) { o.keep_gguf_qk_order = true; });
    RecordProperty("wrong_qk_order_max_abs_over_std", std::to_string(shift));
    EXPECT_GT(shift, 10 * 1e-3);
}

// Phi-3's fused matrices and the MoE families' per-expert tensors and router under their HF
// names and shapes, with the config fields the importer reads.
TEST(HfWriter, Phi3FusedMatricesAndMoeExpertsHaveTheirHfNamesAndShapes) {
    REQUIRE_FIXTURES();
    auto written = [](const std::string& name, TempDir& dir) {
        write_hf_from_gguf(fixture("zoo/" + name + ".gguf"), dir.path);
        return std::make_pair(SafetensorsFile::open(dir.file("model.safetensors")),
                              nlohmann::json::parse(std::ifstream(dir.file("config.json"))));
    };
    using Shape = std::vector<uint64_t>;
    TempDir a, b, c;
    const auto [phi3, phi3_cfg] = written("phi3-q8_0", a);
    EXPECT_EQ(phi3_cfg["model_type"], "phi3");
    EXPECT_EQ(phi3.tensors().at("model.layers.0.self_attn.qkv_proj.weight").shape,
              (Shape{256 + 128 + 128, 256})); // Q, K, V rows
    EXPECT_EQ(phi3.tensors().at("model.layers.0.mlp.gate_up_proj.weight").shape,
              (Shape{2 * 768, 256})); // gate rows, then up
    EXPECT_FALSE(phi3.tensors().count("model.layers.0.mlp.up_proj.weight"));

    const auto [qwen, qwen_cfg] = written("qwen3moe-q8_0", b);
    EXPECT_EQ(qwen_cfg["model_type"], "qwen3_moe");
    EXPECT_EQ(qwen_cfg["num_experts"], 8);
    EXPECT_EQ(qwen_cfg["num_experts_per_tok"], 2);
    EXPECT_EQ(qwen_cfg["moe_intermediate_size"], 256);
    EXPECT_EQ(qwen_cfg["norm_topk_prob"], true);
    EXPECT_EQ(qwen.tensors().at("model.layers.1.mlp.gate.weight").shape, (Shape{8, 256}));
    EXPECT_EQ(qwen.tensors().at("model.layers.1.mlp.experts.7.gate_proj.weight").shape,
              (Shape{256, 256}));
    EXPECT_TRUE(qwen.tensors().count("model.layers.2.mlp.experts.0.down_proj.weight"));

    const auto [olmoe, olmoe_cfg] = written("olmoe-q8_0", c);
    EXPECT_EQ(olmoe_cfg["model_type"], "olmoe");
    EXPECT_EQ(olmoe_cfg["num_experts"], 8);
    EXPECT_EQ(olmoe_cfg["norm_topk_prob"], false);
    EXPECT_EQ(olmoe.tensors().at("model.layers.0.mlp.experts.3.up_proj.weight").shape,
              (Shape{256, 256})); // experts intermediate_size (256 here) wide
    EXPECT_EQ(olmoe.tensors().at("model.layers.0.self_attn.q_norm.weight").shape,
              (Shape{256})); // over the whole Q row
}

// The round trip catches phi3's fused gate_up_proj halves in the wrong order.
TEST(HfWriter, Phi3GateUpHalvesSwappedAreCaughtByTheRoundTripTolerance) {
    REQUIRE_FIXTURES();
    const double shift =
        planted_mistake_shift("phi3-q8_0", [](HfWriteOptions& o) { o.swap_phi3_gate_up = true; });
    RecordProperty("swapped_gate_up_max_abs_over_std", std::to_string(shift));
    EXPECT_GT(shift, 10 * 1e-3);
}

TEST(HfWriter, GemmaNormsAreStoredMinusOneAndMoeExpertsSplit) {
    REQUIRE_FIXTURES();
    TempDir a, b;
    write_hf_from_gguf(fixture("zoo/gemma2-q8_0.gguf"), a.path);
    SafetensorsFile st = SafetensorsFile::open(a.file("model.safetensors"));
    const auto& n = st.tensors().at("model.layers.0.pre_feedforward_layernorm.weight");
    ASSERT_EQ(n.dtype, "F32");
    const float* v = reinterpret_cast<const float*>(n.data);
    EXPECT_EQ(v[0], 0.0f); // GGUF stores 1.0 (= HF weight + 1)
    EXPECT_TRUE(st.tensors().count("model.layers.2.post_feedforward_layernorm.weight"));
    EXPECT_FALSE(st.tensors().count("lm_head.weight")); // tied
    auto cfg = nlohmann::json::parse(std::ifstream(a.file("config.json")));
    EXPECT_EQ(cfg["layer_types"][0], "sliding_attention");
    EXPECT_EQ(cfg["layer_types"][1], "full_attention");
    EXPECT_EQ(cfg["attn_logit_softcapping"], 50.0);

    write_hf_from_gguf(fixture("zoo/llama-moe-q8_0.gguf"), b.path);
    SafetensorsFile moe = SafetensorsFile::open(b.file("model.safetensors"));
    for (int e = 0; e < 8; e++)
        EXPECT_EQ(
            moe.tensors()
                .at("model.layers.2.block_sparse_moe.experts." + std::to_string(e) + ".w2.weight")
                .shape,
            (std::vector<uint64_t>{256, 256}));
    EXPECT_TRUE(moe.tensors().count("model.layers.0.block_sparse_moe.gate.weight"));
    cfg = nlohmann::json::parse(std::ifstream(b.file("config.json")));
    EXPECT_EQ(cfg["model_type"], "mixtral");
    EXPECT_EQ(cfg["num_local_experts"], 8);
}

} // namespace

// Gemma's layer_types names each layer's attention: a name strata does not run, or a list of
// the wrong length, is refused naming the field.
TEST(HfGemma, LayerTypesItCannotRunAreRefusedByName) {
    REQUIRE_FIXTURES();
    for (const auto& [edit, expect] :
         {std::pair<nlohmann::json, std::string>{"chunked_attention", "'chunked_attention'"},
          std::pair<nlohmann::json, std::string>{nullptr, "layer_types has 2 entries"}}) {
        TempDir d;
        write_hf_from_gguf(fixture("zoo/gemma2-q8_0.gguf"), d.path);
        auto cfg = nlohmann::json::parse(std::ifstream(d.file("config.json")));
        if (edit.is_null())
            cfg["layer_types"].erase(cfg["layer_types"].size() - 1);
        else
            cfg["layer_types"][0] = edit;
        std::ofstream(d.file("config.json")) << cfg.dump();
        try {
            import_hf(d.path);
            ADD_FAILURE() << "accepted layer_types " << cfg["layer_types"].dump();
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << e.what();
        }
    }
}

// The config.json features the architectures' read_hf refuse (moved there from the importer's
// per-family switch, issue #19): each is an error naming the field.
TEST(HfRegistry, UnsupportedConfigFieldsAreRefusedByTheirArchitecture) {
    REQUIRE_FIXTURES();
    struct Case {
        const char* zoo;
        const char* key;
        nlohmann::json value;
        const char* expect;
    };
    for (const Case& k : {Case{"gemma2-q8_0", "hidden_activation", "relu", "'relu'"},
                          Case{"gemma3-q8_0", "hidden_activation", "silu", "'silu'"},
                          Case{"olmoe-q8_0", "clip_qkv", 8.0, "clip_qkv"},
                          Case{"qwen3moe-q8_0", "decoder_sparse_step", 2, "decoder_sparse_step"},
                          Case{"qwen3moe-q8_0", "mlp_only_layers", {0}, "mlp_only_layers"},
                          Case{"hunyuan-dense-q8_0", "use_qk_norm", false, "use_qk_norm"}}) {
        TempDir d;
        write_hf_from_gguf(fixture(std::string("zoo/") + k.zoo + ".gguf"), d.path);
        auto cfg = nlohmann::json::parse(std::ifstream(d.file("config.json")));
        EXPECT_NO_THROW(import_hf(d.path)) << k.zoo; // as written, it imports
        cfg[k.key] = k.value;
        std::ofstream(d.file("config.json")) << cfg.dump();
        try {
            import_hf(d.path);
            ADD_FAILURE() << k.zoo << ": accepted " << k.key << " = " << k.value.dump();
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(k.expect), std::string::npos) << e.what();
        }
    }
}

// A family's tensor names come from its architecture: another family's spelling of a tensor
// (Mixtral's expert names in a Qwen3-MoE directory, HF llama's q_norm in Hunyuan's) is refused
// naming the tensor; an unknown model_type lists the model_types the registry imports.
TEST(HfRegistry, TensorNamesOfAnotherFamilyAreRefusedByName) {
    REQUIRE_FIXTURES();
    {
        TempDir d;
        write_hf_from_gguf(fixture("zoo/llama-q8_0.gguf"), d.path);
        auto cfg = nlohmann::json::parse(std::ifstream(d.file("config.json")));
        cfg["model_type"] = "gpt_neox";
        std::ofstream(d.file("config.json")) << cfg.dump();
        try {
            import_hf(d.path);
            ADD_FAILURE() << "accepted gpt_neox";
        } catch (const Error& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find("'gpt_neox'"), std::string::npos) << what;
            for (const char* t : {"mixtral", "qwen3_moe", "gemma3_text", "hunyuan_v1_dense"})
                EXPECT_NE(what.find(t), std::string::npos) << what;
        }
    }
    // A Qwen3-MoE directory read as Mixtral, and a Mixtral one read as Qwen3-MoE: the experts'
    // names (mlp.experts.{e}.gate_proj / block_sparse_moe.experts.{e}.w1) no longer match.
    for (const bool mixtral : {false, true}) {
        TempDir d;
        write_hf_from_gguf(fixture(mixtral ? "zoo/llama-moe-q8_0.gguf" : "zoo/qwen3moe-q8_0.gguf"),
                           d.path);
        auto cfg = nlohmann::json::parse(std::ifstream(d.file("config.json")));
        cfg["model_type"] = mixtral ? "qwen3_moe" : "mixtral";
        if (mixtral) {
            cfg["num_experts"] = cfg["num_local_experts"];
            cfg["moe_intermediate_size"] = cfg["intermediate_size"];
        } else {
            cfg["num_local_experts"] = cfg["num_experts"];
        }
        std::ofstream(d.file("config.json")) << cfg.dump();
        try {
            import_hf(d.path);
            ADD_FAILURE() << (mixtral ? "mixtral" : "qwen3_moe") << " read as "
                          << cfg["model_type"];
        } catch (const Error& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find(mixtral ? "block_sparse_moe" : "mlp."), std::string::npos) << what;
            EXPECT_NE(what.find("is not part of a"), std::string::npos) << what;
        }
    }
}

namespace {

// Drops tensor `name` from a safetensors file's header in place: the shorter header is padded
// with spaces to its old length and the data stay (a hole, which the format allows), so a test
// can hide a tensor without copying the weights.
void erase_safetensors_tensor(const std::string& path, const std::string& name) {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    uint64_t n = 0;
    f.read(reinterpret_cast<char*>(&n), 8);
    std::string header(n, '\0');
    f.read(header.data(), std::streamsize(n));
    auto json = nlohmann::json::parse(header);
    ASSERT_EQ(json.erase(name), 1u) << name;
    std::string edited = json.dump();
    ASSERT_LE(edited.size(), n);
    edited.resize(n, ' ');
    f.seekp(8);
    f.write(edited.data(), std::streamsize(n));
    ASSERT_TRUE(f.good());
}

std::vector<float> gguf_rows(const GgufFile& g, const GgufTensor& t) {
    const uint64_t cols = t.shape.back(), rows = t.bytes / row_bytes(t.type, cols);
    std::vector<float> out(rows * cols);
    for (uint64_t r = 0; r < rows; r++)
        dequantize_row_ref(t.type, g.data(t) + r * row_bytes(t.type, cols), &out[r * cols],
                           int64_t(cols));
    return out;
}

bool has_note(const ModelSource& src, const std::string& part) {
    for (const auto& n : src.notes)
        if (n.find(part) != std::string::npos) return true;
    return false;
}

} // namespace

// Gemma 3n is written as Gemma3nForConditionalGeneration stores it: the text model's fields in
// text_config, its tensors under model.language_model. (norms unshifted, AltUp projections as
// lists), tower tensors beside; the import reads text_config, skips the towers saying so, and
// takes the layer types, sparsity, K/V sharing and RoPE bases from the config.
TEST(HfGemma3n, WrittenAsAConditionalGenerationCheckpointAndReadBack) {
    REQUIRE_FIXTURES();
    TempDir d;
    const std::string gguf = fixture("zoo/gemma3n-q8_0.gguf");
    write_hf_from_gguf(gguf, d.path);
    GgufFile g = GgufFile::open(gguf);
    auto cfg = nlohmann::json::parse(std::ifstream(d.file("config.json")));
    EXPECT_EQ(cfg["model_type"], "gemma3n");
    EXPECT_EQ(cfg["architectures"][0], "Gemma3nForConditionalGeneration");
    ASSERT_TRUE(cfg["text_config"].is_object());
    EXPECT_FALSE(cfg.contains("hidden_size")); // only in text_config
    const auto& tc = cfg["text_config"];
    EXPECT_EQ(tc["model_type"], "gemma3n_text");
    EXPECT_EQ(tc["num_kv_shared_layers"], 5);
    EXPECT_EQ(tc["laurel_rank"], 64);
    EXPECT_EQ(tc["intermediate_size"].size(), 25u);
    EXPECT_EQ(tc["activation_sparsity_pattern"][0], 0.95);
    EXPECT_EQ(tc["activation_sparsity_pattern"][10], 0.0);
    EXPECT_EQ(tc["layer_types"][3], "sliding_attention");
    EXPECT_EQ(tc["layer_types"][4], "full_attention");

    SafetensorsFile st = SafetensorsFile::open(d.file("model.safetensors"));
    const std::string m = "model.language_model.";
    for (const char* name :
         {"embed_tokens.weight", "embed_tokens_per_layer.weight",
          "per_layer_model_projection.weight", "per_layer_projection_norm.weight",
          "altup_projections.2.weight", "altup_unembed_projections.0.weight", "norm.weight",
          "layers.24.altup.correct_output_scale", "layers.0.laurel.linear_left.weight",
          "layers.7.post_per_layer_input_norm.weight"})
        EXPECT_TRUE(st.tensors().count(m + name)) << name;
    EXPECT_FALSE(st.tensors().count(m + "altup_projections.3.weight"));
    EXPECT_TRUE(st.tensors().count("model.vision_tower.timm_model.conv_stem.conv.weight"));
    // A norm is stored as it multiplies (GGUF's values, no shift).
    const auto& norm = st.tensors().at(m + "layers.2.pre_feedforward_layernorm.weight");
    const auto want_norm = gguf_rows(g, *g.find("blk.2.ffn_norm.weight"));
    ASSERT_EQ(norm.dtype, "F32");
    EXPECT_EQ(0, std::memcmp(norm.data, want_norm.data(), want_norm.size() * 4));
    // altup_projections.{i} is slice i of GGUF's 3-D altup_proj (F16 in this file, kept F16).
    const auto proj = gguf_rows(g, *g.find("altup_proj.weight"));
    const auto& slice = st.tensors().at(m + "altup_projections.2.weight");
    ASSERT_EQ(slice.dtype, "F16");
    ASSERT_EQ(slice.shape, (std::vector<uint64_t>{256, 256}));
    std::vector<float> have(256 * 256);
    dequantize_row_ref(DType::F16, slice.data, have.data(), int64_t(have.size()));
    EXPECT_EQ(0, std::memcmp(have.data(), proj.data() + 2 * 256 * 256, have.size() * 4));

    ModelSource src = import_hf(d.path);
    const ModelConfig& c = src.config;
    EXPECT_EQ(c.arch, "gemma3n");
    EXPECT_EQ(c.n_ff, 768u);
    EXPECT_EQ(c.altup_streams, 4u);
    EXPECT_EQ(c.per_layer_width, 256u);
    EXPECT_EQ(c.laurel_rank, 64u);
    EXPECT_FLOAT_EQ(c.rope_theta, 1e6f);
    EXPECT_FLOAT_EQ(c.rope_theta_swa, 1e4f);
    EXPECT_FLOAT_EQ(c.final_softcap, 30.0f);
    EXPECT_FLOAT_EQ(c.attn_scale, 1.0f); // whatever query_pre_attn_scalar says
    ASSERT_EQ(c.ffn_sparsity.size(), 25u);
    // The 0.95 quantile of N(0, 1): 1.6448536 (llama.cpp's constant, torch's icdf).
    EXPECT_NEAR(c.ffn_sparsity[9], 1.6448533535f, 2e-6f);
    EXPECT_EQ(c.ffn_sparsity[10], 0.0f);
    const GgufValue* pattern = g.get("gemma3n.attention.sliding_window_pattern");
    ASSERT_TRUE(pattern);
    for (uint32_t l = 0; l < 25; l++) EXPECT_EQ(c.sliding(l), pattern->nums[l] != 0) << l;
    for (uint32_t l = 0; l < 20; l++) EXPECT_EQ(c.kv_source[l], int32_t(l));
    for (uint32_t l = 20; l < 24; l++) EXPECT_EQ(c.kv_source[l], 18) << l;
    EXPECT_EQ(c.kv_source[24], 19);
    EXPECT_TRUE(has_note(src, "text_config")) << "no note on text_config";
    EXPECT_TRUE(has_note(src, "4 tensors of the towers")) << "no note on the skipped towers";
    EXPECT_FALSE(src.find("model.vision_tower.timm_model.conv_stem.conv.weight"));
}

// The round trip catches the AltUp projections stacked in the wrong order.
TEST(HfGemma3n, AltupProjectionsOutOfOrderAreCaughtByTheRoundTripTolerance) {
    REQUIRE_FIXTURES();
    const double shift = planted_mistake_shift(
        "gemma3n-q8_0", [](HfWriteOptions& o) { o.swap_gemma3n_altup_proj = true; });
    RecordProperty("swapped_altup_proj_max_abs_over_std", std::to_string(shift));
    EXPECT_GT(shift, 10 * 1e-3);
}

// The released checkpoints' per-layer embedding covers vocab_size_per_layer_input (262144) of
// the 262400 tokens: the tokens beyond read row 0 (transformers maps them to token 0).
TEST(HfGemma3n, PerLayerEmbeddingOfFewerTokensRepeatsRowZero) {
    REQUIRE_FIXTURES();
    TempDir d;
    const std::string gguf = fixture("zoo/gemma3n-q8_0.gguf");
    HfWriteOptions o;
    o.gemma3n_per_layer_vocab = 301;
    write_hf_from_gguf(gguf, d.path, o);
    ModelSource src = import_hf(d.path);
    GgufFile g = GgufFile::open(gguf);
    const GgufTensor& t = *g.find("per_layer_token_embd.weight");
    const auto want = gguf_rows(g, t);
    const SourceTensor* s = src.find("per_layer_token_embd.weight");
    ASSERT_TRUE(s);
    ASSERT_EQ(s->shape, t.shape);
    const uint64_t cols = t.shape[1], rows = t.shape[0];
    ASSERT_TRUE(s->generate);
    std::vector<float> have(rows * cols);
    s->generate(DType::F32, reinterpret_cast<uint8_t*>(have.data()), have.size() * 4);
    for (uint64_t r = 0; r < rows; r++)
        ASSERT_EQ(0, std::memcmp(&have[r * cols], &want[(r < 301 ? r : 0) * cols], cols * 4))
            << "row " << r;
    EXPECT_TRUE(has_note(src, "read row 0"));
    // More per-layer tokens than the vocabulary is refused naming the field.
    auto cfg = nlohmann::json::parse(std::ifstream(d.file("config.json")));
    cfg["text_config"]["vocab_size_per_layer_input"] = 513;
    std::ofstream(d.file("config.json")) << cfg.dump();
    try {
        import_hf(d.path);
        ADD_FAILURE() << "accepted vocab_size_per_layer_input 513";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("vocab_size_per_layer_input"), std::string::npos)
            << e.what();
    }
}

// What strata cannot run, or a config.json that contradicts itself, is refused naming the field.
TEST(HfGemma3n, ConfigFieldsItCannotRunAreRefusedByName) {
    REQUIRE_FIXTURES();
    using Json = nlohmann::json;
    struct Case {
        std::function<void(Json&)> edit;
        const char* expect;
    };
    const std::vector<Case> cases = {
        {[](Json& t) { t["activation_sparsity_pattern"][2] = 0.3; },
         "activation_sparsity_pattern[2]"},
        {[](Json& t) { t["activation_sparsity_pattern"].erase(0); },
         "activation_sparsity_pattern has 24 entries"},
        {[](Json& t) { t["altup_active_idx"] = 1; }, "altup_active_idx"},
        {[](Json& t) { t["altup_correct_scale"] = false; }, "altup_correct_scale"},
        {[](Json& t) { t["altup_num_inputs"] = 1; }, "altup_num_inputs"},
        {[](Json& t) { t["intermediate_size"][3] = 512; }, "intermediate_size"},
        {[](Json& t) { t["num_kv_shared_layers"] = 25; }, "num_kv_shared_layers"},
        {[](Json& t) { t["hidden_activation"] = "silu"; }, "'silu'"},
        {[](Json& t) { t["layer_types"][1] = "chunked_attention"; }, "'chunked_attention'"},
        {[](Json& t) { t["attn_logit_softcapping"] = 50.0; }, "attn_logit_softcapping"},
        {[](Json& t) { t.erase("hidden_size"); }, "hidden_size is missing"},
        {[](Json& t) {
             t["rope_parameters"] = {{"full_attention", {{"rope_type", "yarn"}}}};
         },
         "rope_type 'yarn'"},
    };
    TempDir d;
    write_hf_from_gguf(fixture("zoo/gemma3n-q8_0.gguf"), d.path);
    const auto original = nlohmann::json::parse(std::ifstream(d.file("config.json")));
    EXPECT_NO_THROW(import_hf(d.path)); // as written, it imports
    for (const Case& k : cases) {
        auto cfg = original;
        k.edit(cfg["text_config"]);
        std::ofstream(d.file("config.json")) << cfg.dump();
        try {
            import_hf(d.path);
            ADD_FAILURE() << "accepted " << cfg["text_config"].dump();
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(k.expect), std::string::npos) << e.what();
        }
    }
    // rope_parameters (newer transformers) give the two RoPE bases.
    auto cfg = original;
    cfg["text_config"].erase("rope_theta");
    cfg["text_config"].erase("rope_local_base_freq");
    cfg["text_config"]["rope_parameters"] = {
        {"full_attention", {{"rope_type", "default"}, {"rope_theta", 500000.0}}},
        {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 20000.0}}}};
    std::ofstream(d.file("config.json")) << cfg.dump();
    const ModelSource src = import_hf(d.path);
    EXPECT_FLOAT_EQ(src.config.rope_theta, 500000.0f);
    EXPECT_FLOAT_EQ(src.config.rope_theta_swa, 20000.0f);
}

// A tensor the model needs that the checkpoint lacks is named as HF names it.
TEST(HfGemma3n, MissingTensorsAreNamedByTheirHfName) {
    REQUIRE_FIXTURES();
    for (const std::string name : {"model.language_model.layers.3.altup.correct_output_scale",
                                   "model.language_model.altup_unembed_projections.1.weight",
                                   "model.language_model.embed_tokens_per_layer.weight",
                                   "model.language_model.layers.22.laurel.linear_right.weight"}) {
        TempDir d;
        write_hf_from_gguf(fixture("zoo/gemma3n-q8_0.gguf"), d.path);
        erase_safetensors_tensor(d.file("model.safetensors"), name);
        try {
            import_hf(d.path);
            ADD_FAILURE() << "imported without " << name;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
        }
    }
}

// An untied checkpoint without lm_head.weight still imports: the embedding serves as the output
// (a note says so); the missing-tensor check leaves lm_head to that rule.
TEST(HfImportZoo, NoLmHeadFallsBackToTheTiedEmbedding) {
    REQUIRE_FIXTURES();
    TempDir d;
    write_hf_from_gguf(fixture("zoo/gemma3-q8_0.gguf"), d.path); // untied
    auto cfg = nlohmann::json::parse(std::ifstream(d.file("config.json")));
    ASSERT_EQ(cfg["tie_word_embeddings"], false);
    erase_safetensors_tensor(d.file("model.safetensors"), "lm_head.weight");
    const ModelSource src = import_hf(d.path);
    EXPECT_TRUE(src.config.tied_output);
    EXPECT_TRUE(has_note(src, "no lm_head.weight"));
}
