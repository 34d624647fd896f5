// stories260K from llama2.c's checkpoint and from its GGUF: the same model, two importers.
#include "formats/convert.h"
#include "core/error.h"
#include "formats/strata_reader.h"
#include "tests/fixtures.h"

#include <cstring>

using namespace strata;
using namespace strata::test;

namespace {

struct Converted {
    TempDir dir;
    StrataFile bin, gguf;
};

Converted convert_both() {
    Converted c{{}, {}, {}};
    ModelSource a =
        import_llama2c(fixture("stories260K/stories260K.bin"), fixture("stories260K/tok512.bin"));
    convert_model(a, c.dir.file("bin.strata"), {});
    ModelSource b = import_gguf(fixture("stories260K/stories260K.gguf"));
    convert_model(b, c.dir.file("gguf.strata"), {});
    c.bin = StrataFile::open(c.dir.file("bin.strata"));
    c.gguf = StrataFile::open(c.dir.file("gguf.strata"));
    return c;
}

} // namespace

TEST(ImportStories260K, BothSourcesGiveTheSameHyperparameters) {
    REQUIRE_FIXTURES();
    auto c = convert_both();
    const ModelConfig &x = c.bin.config(), &y = c.gguf.config();
    EXPECT_EQ(x.arch, "llama");
    EXPECT_EQ(x.n_vocab, 512u);
    EXPECT_EQ(x.n_embd, 64u);
    EXPECT_EQ(x.n_layer, 5u);
    EXPECT_EQ(x.n_head, 8u);
    EXPECT_EQ(x.n_head_kv, 4u);
    EXPECT_EQ(x.head_dim, 8u);
    EXPECT_EQ(x.n_ff, 172u);
    EXPECT_EQ(x.arch, y.arch);
    EXPECT_EQ(x.n_vocab, y.n_vocab);
    EXPECT_EQ(x.n_embd, y.n_embd);
    EXPECT_EQ(x.n_layer, y.n_layer);
    EXPECT_EQ(x.n_head, y.n_head);
    EXPECT_EQ(x.n_head_kv, y.n_head_kv);
    EXPECT_EQ(x.head_dim, y.head_dim);
    EXPECT_EQ(x.n_ff, y.n_ff);
    EXPECT_EQ(x.rope_dim, y.rope_dim);
    EXPECT_EQ(x.rope_style, y.rope_style);
    EXPECT_FLOAT_EQ(x.rope_theta, y.rope_theta);
    EXPECT_FLOAT_EQ(x.norm_eps, y.norm_eps);
    EXPECT_EQ(x.kv_source, y.kv_source);
    // The one difference is in the sources themselves: the .bin header says seq_len 512, the
    // GGUF (made by llama.cpp's llama2.c converter) declares context_length 2048.
    EXPECT_EQ(x.n_ctx_train, 512u);
    EXPECT_EQ(y.n_ctx_train, 2048u);
    // llama2.c ties the classifier; the GGUF stores it as output.weight (same values, below).
    EXPECT_TRUE(x.tied_output);
    EXPECT_FALSE(y.tied_output);
}

TEST(ImportStories260K, BothSourcesGiveTheSameVocabulary) {
    REQUIRE_FIXTURES();
    auto c = convert_both();
    const TokenizerData &x = c.bin.tokenizer(), &y = c.gguf.tokenizer();
    ASSERT_EQ(x.tokens.size(), 512u);
    EXPECT_EQ(x.tokens, y.tokens);
    EXPECT_EQ(x.scores, y.scores);
    EXPECT_EQ(x.types, y.types);
    EXPECT_EQ(x.bos_id, y.bos_id);
    EXPECT_EQ(x.eos_id, y.eos_id);
    EXPECT_EQ(x.unk_id, y.unk_id);
    EXPECT_EQ(x.tokens[1], "<s>");
    EXPECT_EQ(x.tokens[259], "\xE2\x96\x81t"); // "▁t": llama2.c's space spelled as SentencePiece's
}

TEST(ImportStories260K, BothSourcesGiveBitIdenticalF32Tensors) {
    REQUIRE_FIXTURES();
    auto c = convert_both();
    size_t compared = 0;
    for (const auto& t : c.bin.tensors()) {
        const TensorEntry* u = c.gguf.find(t.name);
        ASSERT_NE(u, nullptr) << t.name;
        ASSERT_EQ(t.type, DType::F32);
        ASSERT_EQ(u->type, DType::F32);
        ASSERT_EQ(t.shape, u->shape) << t.name;
        EXPECT_EQ(std::memcmp(c.bin.data(t), c.gguf.data(*u), t.bytes), 0) << t.name << " differs";
        compared++;
    }
    EXPECT_EQ(compared, 47u);
    // The GGUF's separate output.weight equals the tied embedding of the checkpoint.
    const TensorEntry* out = c.gguf.find("output.weight");
    const TensorEntry* emb = c.bin.find("token_embd.weight");
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(std::memcmp(c.gguf.data(*out), c.bin.data(*emb), emb->bytes), 0);
}

TEST(ImportStories260K, QuantizedConversionsKeepShapesAndFallBackWhereBlocksDontFit) {
    REQUIRE_FIXTURES();
    TempDir dir;
    ModelSource a =
        import_llama2c(fixture("stories260K/stories260K.bin"), fixture("stories260K/tok512.bin"));
    auto report = convert_model(a, dir.file("q8.strata"), {DType::Q8_0, 0});
    StrataFile f = StrataFile::open(dir.file("q8.strata"));
    // dim 64 and hidden 172: rows of 64 fill Q8_0 blocks; ffn_down's rows of 172 don't.
    EXPECT_EQ(f.find("blk.0.attn_q.weight")->type, DType::Q8_0);
    EXPECT_EQ(f.find("blk.0.ffn_down.weight")->type, DType::F32);
    EXPECT_EQ(f.find("blk.0.attn_norm.weight")->type, DType::F32);
    size_t fallbacks = 0;
    for (const auto& t : report.tensors) fallbacks += t.fallback;
    EXPECT_EQ(fallbacks, 5u); // one ffn_down per layer
}

TEST(ImportLlama2c, MissingTokenizerAndWrongSizeAreClearErrors) {
    REQUIRE_FIXTURES();
    try {
        import_llama2c(fixture("stories260K/stories260K.bin"), "");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("--tokenizer"), std::string::npos) << e.what();
    }
    TempDir dir;
    auto bytes = read_file(fixture("stories260K/stories260K.bin"));
    write_file(dir.file("cut.bin"), bytes.data(), bytes.size() - 4);
    try {
        import_llama2c(dir.file("cut.bin"), fixture("stories260K/tok512.bin"));
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
    }
}
