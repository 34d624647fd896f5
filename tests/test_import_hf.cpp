// Hugging Face directories: stories260K re-laid as a sharded safetensors checkpoint with a
// tokenizer.json must convert to the same tensors as the llama2.c original; the CLA sharing
// fields of Hunyuan, Hymba and Gemma 3n configs map to kv_source.
#include "formats/convert.h"
#include "core/error.h"
#include "core/half.h"
#include "formats/strata_reader.h"
#include "tests/fixtures.h"

#include <cstring>
#include <nlohmann/json.hpp>

using namespace strata;
using namespace strata::test;
using json = nlohmann::json;

namespace {

const std::map<std::string, std::string> kHfNames = {
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"output_norm.weight", "model.norm.weight"},
    {"attn_norm.weight", "input_layernorm.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"ffn_norm.weight", "post_attention_layernorm.weight"},
    {"ffn_gate.weight", "mlp.gate_proj.weight"},
    {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
};

std::string hf_name(const std::string& strata_name) {
    if (auto it = kHfNames.find(strata_name); it != kHfNames.end()) return it->second;
    const size_t dot = strata_name.find('.', 4);
    return "model.layers." + strata_name.substr(4, dot - 4) + "." +
           kHfNames.at(strata_name.substr(dot + 1));
}

struct Tensor {
    std::string name, dtype;
    std::vector<uint64_t> shape;
    std::vector<uint8_t> data;
};

void write_safetensors(const std::string& path, const std::vector<Tensor>& tensors) {
    json header = json::object();
    uint64_t off = 0;
    for (const auto& t : tensors) {
        header[t.name] = {
            {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {off, off + t.data.size()}}};
        off += t.data.size();
    }
    header["__metadata__"] = {{"format", "pt"}};
    std::string h = header.dump();
    std::vector<uint8_t> out(8);
    const uint64_t n = h.size();
    std::memcpy(out.data(), &n, 8);
    out.insert(out.end(), h.begin(), h.end());
    for (const auto& t : tensors) out.insert(out.end(), t.data.begin(), t.data.end());
    write_file(path, out.data(), out.size());
}

// Writes stories260K as an HF llama directory; layers in `drop_kv` get no k_proj/v_proj;
// `as_bf16` stores the matrices as BF16.
void write_hf_dir(const std::string& dir, const json& extra_config, const std::set<int>& drop_kv,
                  bool as_bf16) {
    ModelSource src =
        import_llama2c(fixture("stories260K/stories260K.bin"), fixture("stories260K/tok512.bin"));
    std::vector<Tensor> shard[2];
    json weight_map = json::object();
    int i = 0;
    for (const auto& t : src.tensors) {
        if (drop_kv.size() && t.name.rfind("blk.", 0) == 0) {
            const int layer = std::stoi(t.name.substr(4));
            if (drop_kv.count(layer) && (t.name.find("attn_k") != std::string::npos ||
                                         t.name.find("attn_v") != std::string::npos))
                continue;
        }
        Tensor x{hf_name(t.name), "F32", t.shape, std::vector<uint8_t>(t.data, t.data + t.bytes)};
        if (as_bf16 && t.shape.size() == 2) {
            x.dtype = "BF16";
            x.data.resize(t.bytes / 2);
            for (uint64_t k = 0; k < t.bytes / 4; k++) {
                float f;
                std::memcpy(&f, t.data + 4 * k, 4);
                const uint16_t h = f32_to_bf16(f);
                std::memcpy(&x.data[2 * k], &h, 2);
            }
        }
        const int s = i++ % 2;
        weight_map[x.name] = "model-0000" + std::to_string(s + 1) + "-of-00002.safetensors";
        shard[s].push_back(std::move(x));
    }
    write_safetensors(dir + "/model-00001-of-00002.safetensors", shard[0]);
    write_safetensors(dir + "/model-00002-of-00002.safetensors", shard[1]);
    write_file(dir + "/model.safetensors.index.json",
               json{{"metadata", json::object()}, {"weight_map", weight_map}}.dump());
    json config = {{"model_type", "llama"},
                   {"architectures", {"LlamaForCausalLM"}},
                   {"hidden_size", 64},
                   {"intermediate_size", 172},
                   {"num_hidden_layers", 5},
                   {"num_attention_heads", 8},
                   {"num_key_value_heads", 4},
                   {"vocab_size", 512},
                   {"max_position_embeddings", 512},
                   {"rms_norm_eps", 1e-5},
                   {"rope_theta", 10000.0},
                   {"tie_word_embeddings", true}};
    config.update(extra_config);
    write_file(dir + "/config.json", config.dump(2));
    // tokenizer.json in the Llama 2 style: BPE with byte fallback.
    json vocab = json::object();
    for (size_t k = 0; k < src.tokenizer.tokens.size(); k++) vocab[src.tokenizer.tokens[k]] = k;
    json tok = {{"version", "1.0"},
                {"added_tokens",
                 {{{"id", 0}, {"content", "<unk>"}, {"special", true}},
                  {{"id", 1}, {"content", "<s>"}, {"special", true}},
                  {{"id", 2}, {"content", "</s>"}, {"special", true}}}},
                {"model",
                 {{"type", "BPE"},
                  {"byte_fallback", true},
                  {"unk_token", "<unk>"},
                  {"vocab", vocab},
                  {"merges", {"\xE2\x96\x81 t", "h e"}}}}};
    write_file(dir + "/tokenizer.json", tok.dump());
    write_file(dir + "/tokenizer_config.json",
               json{{"bos_token", "<s>"},
                    {"eos_token", {{"content", "</s>"}}},
                    {"add_bos_token", true},
                    {"chat_template", "{% for m in messages %}{{ m['content'] }}{% endfor %}"}}
                   .dump());
}

} // namespace

TEST(ImportHf, ShardedSafetensorsGiveTheSameTensorsAsTheLlama2cCheckpoint) {
    REQUIRE_FIXTURES();
    TempDir dir;
    write_hf_dir(dir.path, json::object(), {}, false);
    ModelSource hf = import_hf(dir.path);
    convert_model(hf, dir.file("hf.strata"), {});
    ModelSource l2c =
        import_llama2c(fixture("stories260K/stories260K.bin"), fixture("stories260K/tok512.bin"));
    convert_model(l2c, dir.file("l2c.strata"), {});
    StrataFile a = StrataFile::open(dir.file("hf.strata")),
               b = StrataFile::open(dir.file("l2c.strata"));
    EXPECT_EQ(a.config().rope_style, RopeStyle::NeoX); // HF weights rotate halves
    EXPECT_TRUE(a.config().tied_output);
    ASSERT_EQ(a.tensors().size(), b.tensors().size());
    for (const auto& t : b.tensors()) {
        const TensorEntry* u = a.find(t.name);
        ASSERT_NE(u, nullptr) << t.name;
        ASSERT_EQ(u->bytes, t.bytes);
        EXPECT_EQ(std::memcmp(a.data(*u), b.data(t), t.bytes), 0) << t.name;
    }
    const TokenizerData& tok = a.tokenizer();
    EXPECT_EQ(tok.tokens, b.tokenizer().tokens);
    EXPECT_EQ(tok.model, "spm");
    EXPECT_EQ(tok.bos_id, 1);
    EXPECT_EQ(tok.eos_id, 2);
    EXPECT_EQ(tok.types[1], int32_t(TokenType::Control));
    EXPECT_EQ(tok.types[3], int32_t(TokenType::Byte));
    EXPECT_EQ(tok.merges.size(), 2u);
    EXPECT_NE(tok.chat_template.find("messages"), std::string::npos);
}

TEST(ImportHf, Bf16WeightsStayBf16UnlessATypeIsAsked) {
    REQUIRE_FIXTURES();
    TempDir dir;
    write_hf_dir(dir.path, json::object(), {}, true);
    ModelSource hf = import_hf(dir.path);
    convert_model(hf, dir.file("a.strata"), {});
    StrataFile a = StrataFile::open(dir.file("a.strata"));
    EXPECT_EQ(a.find("blk.0.attn_q.weight")->type, DType::BF16);
    EXPECT_EQ(a.find("blk.0.attn_norm.weight")->type, DType::F32);
    convert_model(hf, dir.file("b.strata"), {DType::F16, 0});
    EXPECT_EQ(StrataFile::open(dir.file("b.strata")).find("blk.0.attn_q.weight")->type, DType::F16);
}

struct ClaCase {
    const char* name;
    json config;
    std::set<int> consumers;
    std::vector<int32_t> kv_source;
};

class ImportHfCla : public ::testing::TestWithParam<ClaCase> {};

TEST_P(ImportHfCla, SharingFieldsMapToKvSource) {
    REQUIRE_FIXTURES();
    const ClaCase& c = GetParam();
    TempDir dir;
    write_hf_dir(dir.path, c.config, c.consumers, false);
    ModelSource hf = import_hf(dir.path);
    EXPECT_EQ(hf.config.kv_source, c.kv_source);
    convert_model(hf, dir.file("m.strata"), {});
    StrataFile f = StrataFile::open(dir.file("m.strata"));
    EXPECT_EQ(f.config().kv_source, c.kv_source);
    EXPECT_EQ(f.config().kv_bytes_per_token(2.0), (5 - c.consumers.size()) * 4 * 8 * 2 * 2);
}

INSTANTIATE_TEST_SUITE_P(
    Configs, ImportHfCla,
    ::testing::Values(
        ClaCase{"hunyuan", {{"use_cla", true}, {"cla_share_factor", 2}}, {1, 3}, {0, 0, 2, 2, 4}},
        ClaCase{"hymba", {{"kv_reuse_group", {{0, 1}, {2, 3, 4}}}}, {1, 3, 4}, {0, 0, 2, 2, 2}},
        ClaCase{"gemma3n", {{"num_kv_shared_layers", 2}}, {3, 4}, {0, 1, 2, 2, 2}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ImportHf, MissingPiecesAreNamed) {
    REQUIRE_FIXTURES();
    TempDir dir;
    EXPECT_THROW(import_hf(dir.path), Error); // no config.json
    write_hf_dir(dir.path, {{"model_type", "gpt_neox"}}, {}, false);
    try {
        import_hf(dir.path);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("gpt_neox"), std::string::npos);
    }
    write_hf_dir(dir.path, json::object(), {}, false);
    std::filesystem::remove(dir.file("tokenizer.json"));
    try {
        import_hf(dir.path);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("no tokenizer.json or tokenizer.model"),
                  std::string::npos);
    }
}

// Found by fuzz_tokenizer_files: a field of the wrong JSON type ("type": 5) escaped as
// nlohmann's exception instead of an Error naming the file (same for config.json); and a
// sparse id range made the importer allocate gigabytes.
TEST(ImportHf, MalformedTokenizerJsonFieldsAreErrorsNamingTheFile) {
    try {
        parse_hf_tokenizer_json(R"({"model": {"type": 5, "vocab": {}}})", "", "x/tokenizer.json");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("x/tokenizer.json: a field has the wrong JSON type"),
                  std::string::npos)
            << e.what();
    }
    // and ids far above the rest (a 2 GiB vocabulary for three tokens) are refused
    try {
        parse_hf_tokenizer_json(
            R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 8888887}}})", "",
            "y/tokenizer.json");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("not a dense id range"), std::string::npos)
            << e.what();
    }
    REQUIRE_FIXTURES();
    TempDir dir;
    write_hf_dir(dir.path, {{"model_type", 7}}, {}, false);
    try {
        import_hf(dir.path);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("wrong JSON type"), std::string::npos) << e.what();
    }
}

TEST(ImportHf, SentencePieceModelFileIsParsed) {
    REQUIRE_FIXTURES();
    TokenizerData t = read_sentencepiece_model(fixture("tokenizers/llama2-spm/tokenizer.model"));
    ASSERT_EQ(t.tokens.size(), 32000u);
    EXPECT_EQ(t.tokens[1], "<s>");
    EXPECT_EQ(t.types[0], int32_t(TokenType::Unknown));
    EXPECT_EQ(t.types[3], int32_t(TokenType::Byte));
    EXPECT_EQ(t.bos_id, 1);
    EXPECT_EQ(t.eos_id, 2);
    // The same pieces and scores as the llama-spm vocab GGUF (Llama 2's tokenizer).
    TokenizerData g = tokenizer_from_gguf(
        GgufFile::open(fixture("tokenizers/vectors/ggml-vocab-llama-spm.gguf")));
    EXPECT_EQ(t.tokens, g.tokens);
    EXPECT_EQ(t.scores, g.scores);
    EXPECT_EQ(t.types, g.types);
}

TEST(ImportHf, Llama3TokenizerJsonIsByteLevelBpe) {
    REQUIRE_FIXTURES();
    TokenizerData t = read_hf_tokenizer_json(fixture("tokenizers/llama3/tokenizer.json"),
                                             fixture("tokenizers/llama3/tokenizer_config.json"));
    EXPECT_EQ(t.model, "bpe");
    EXPECT_EQ(t.pre, "llama3");
    EXPECT_EQ(t.tokens.size(), 128256u);
    EXPECT_EQ(t.tokens[128000], "<|begin_of_text|>");
    EXPECT_EQ(t.types[128000], int32_t(TokenType::Control));
    EXPECT_EQ(t.bos_id, 128000);
    EXPECT_GT(t.merges.size(), 200000u);
    EXPECT_FALSE(t.chat_template.empty());
}
