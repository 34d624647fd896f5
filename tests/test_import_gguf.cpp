// Quantized GGUFs import with every block copied bit for bit.
#include "formats/convert.h"
#include "formats/gguf_reader.h"
#include "core/interleave.h"
#include "formats/strata_reader.h"
#include "tests/fixtures.h"

#include <cstring>
#include <map>

using namespace strata;
using namespace strata::test;

class ImportQuantGguf : public ::testing::TestWithParam<std::string> {};

TEST_P(ImportQuantGguf, EveryBlockIsBitIdenticalToTheSource) {
    REQUIRE_FIXTURES();
    const std::string path = fixture("gguf-quant/" + GetParam() + ".gguf");
    TempDir dir;
    ModelSource src = import_gguf(path);
    convert_model(src, dir.file("m.strata"), {});
    StrataFile f = StrataFile::open(dir.file("m.strata"));
    GgufFile g = GgufFile::open(path);
    ASSERT_EQ(f.tensors().size(), g.tensors().size());
    std::map<DType, int> types;
    int interleaved = 0;
    for (const auto& gt : g.tensors()) {
        const TensorEntry* t = f.find(gt.name);
        ASSERT_NE(t, nullptr) << gt.name;
        EXPECT_EQ(t->type, gt.type) << gt.name;
        EXPECT_EQ(t->shape, gt.shape) << gt.name;
        ASSERT_EQ(t->bytes, gt.bytes) << gt.name;
        // Q4_0 matrices are stored interleave8 (8 rows' blocks together): the same blocks
        const uint8_t* blocks = f.data(*t);
        std::vector<uint8_t> rows;
        if (t->layout == TensorLayout::Interleave8) {
            rows.resize(t->bytes);
            deinterleave8(t->type, f.data(*t), rows.data(), t->rows(), t->cols());
            blocks = rows.data();
            interleaved++;
        }
        EXPECT_EQ(std::memcmp(blocks, g.data(gt), gt.bytes), 0) << gt.name << " blocks differ";
        types[t->type]++;
    }
    EXPECT_EQ(f.find("token_embd.weight")->layout, TensorLayout::RowMajor);
    // every matrix but the embedding (looked up row by row) is interleaved: tiny-gqa-q4_0: 14
    // q4_0 + the q6_k output; q4_k_m: 12 + 3 q6_k; tiny-mqa-q8_0: 14 q8_0 + the q8_0 output
    EXPECT_EQ(interleaved, 15);
    EXPECT_TRUE(f.verify_checksums().empty());
    const ModelConfig& c = f.config();
    EXPECT_EQ(c.n_embd, 256u);
    EXPECT_EQ(c.n_layer, 2u);
    EXPECT_EQ(c.n_head, 8u);
    EXPECT_EQ(c.n_head_kv, GetParam().find("mqa") != std::string::npos ? 1u : 2u);
    EXPECT_EQ(c.n_vocab, 32000u);
    EXPECT_FALSE(c.tied_output);
    EXPECT_EQ(f.tokenizer().tokens.size(), 32000u);
    EXPECT_TRUE(f.tokenizer().add_bos);
    if (GetParam() == "tiny-gqa-q4_k_m") {
        EXPECT_EQ(types[DType::Q4_K], 13);
        EXPECT_EQ(types[DType::Q6_K], 3);
    } else if (GetParam() == "tiny-gqa-q4_0") {
        EXPECT_EQ(types[DType::Q4_0], 15);
        EXPECT_EQ(types[DType::Q6_K], 1);
    } else {
        EXPECT_EQ(types[DType::Q8_0], 16);
    }
    EXPECT_EQ(types[DType::F32], 5);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ImportQuantGguf, ::testing::Values(STRATA_QUANT_GGUF_NAMES),
                         [](const auto& info) { return test_name(info.param); });

TEST(ImportGguf, VocabOnlyFileGivesItsTokenizer) {
    REQUIRE_FIXTURES();
    GgufFile g = GgufFile::open(fixture("tokenizers/vectors/ggml-vocab-gpt-2.gguf"));
    TokenizerData t = tokenizer_from_gguf(g);
    EXPECT_EQ(t.model, "bpe");
    EXPECT_GT(t.tokens.size(), 50000u);
    EXPECT_GT(t.merges.size(), 40000u);
    GgufFile s = GgufFile::open(fixture("tokenizers/vectors/ggml-vocab-llama-spm.gguf"));
    EXPECT_EQ(tokenizer_from_gguf(s).model, "spm");
}

TEST(ImportGguf, RequantizesToAnotherType) {
    REQUIRE_FIXTURES();
    TempDir dir;
    ModelSource src = import_gguf(fixture("gguf-quant/tiny-gqa-q4_0.gguf"));
    convert_model(src, dir.file("q8.strata"), {DType::Q8_0, 0});
    StrataFile f = StrataFile::open(dir.file("q8.strata"));
    for (const auto& t : f.tensors())
        EXPECT_EQ(t.type, t.shape.size() == 2 ? DType::Q8_0 : DType::F32) << t.name;
}
