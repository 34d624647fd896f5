// Tokenizer options real vocabularies carry, on small vocabularies built here (expected ids
// worked out by hand from the algorithm), and the pre-tokenizer table: every entry compiles,
// splits as its regexes say, is named the same from GGUF and from tokenizer.json, and an unknown
// name is refused.
#include "core/error.h"
#include "formats/convert.h"
#include "formats/gguf_reader.h"
#include "formats/model_source.h"
#include "formats/pre_tokenizer_table.h"
#include "formats/strata_describe.h"
#include "runtime/pre_tokenizer.h"
#include "runtime/tokenizer.h"
#include "tests/fixtures.h"
#include "tests/gguf_builder.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

using namespace strata;
using namespace strata::test;

namespace {

const std::string S = "\xE2\x96\x81"; // U+2581

constexpr int32_t kNormal = 1, kUnknown = 2, kControl = 3, kUser = 4, kByte = 6;

// A SentencePiece-style vocabulary:
//   0 <unk>  1 <s>  2 </s>  3 <start_of_turn>  4 <end_of_turn>  5 <0x0A>  6 <0x21>
//   7 ▁  8 h  9 i  10 hi (score -1)  11 ▁hi (score -0.5)
// "hi" merges first (the only pair that is a piece), then "▁"+"hi" -> "▁hi"; "\n" and "!"
// are not pieces, so they fall back to their byte tokens.
struct SpmVocab {
    std::string name = "test";
    int32_t turn_type = kUser; // Gemma's <start_of_turn>/<end_of_turn>
    std::optional<bool> add_space_prefix, remove_extra_whitespaces;
    std::vector<std::string> extra_tokens; // appended, type control
};

TokenizerData spm_gguf(const std::function<void(SpmVocab&)>& edit = {}) {
    SpmVocab v;
    if (edit) edit(v);
    std::vector<std::string> tokens = {
        "<unk>", "<s>", "</s>", "<start_of_turn>", "<end_of_turn>", "<0x0A>", "<0x21>", S,
        "h",     "i",   "hi",   S + "hi"};
    std::vector<float> scores = {0, 0, 0, 0, 0, 0, 0, -2, -3, -4, -1, -0.5f};
    std::vector<int32_t> types = {kUnknown, kControl, kControl, v.turn_type, v.turn_type, kByte,
                                  kByte,    kNormal,  kNormal,  kNormal,     kNormal,     kNormal};
    for (const auto& t : v.extra_tokens)
        tokens.push_back(t), scores.push_back(0), types.push_back(kControl);
    GgufBuilder b;
    b.kv_str("general.architecture", "llama");
    b.kv_str("general.name", v.name);
    b.kv_str("tokenizer.ggml.model", "llama");
    b.kv_strs("tokenizer.ggml.tokens", tokens);
    b.kv_f32s("tokenizer.ggml.scores", scores);
    b.kv_i32s("tokenizer.ggml.token_type", types);
    b.kv_u32("tokenizer.ggml.bos_token_id", 1);
    b.kv_u32("tokenizer.ggml.eos_token_id", 2);
    b.kv_u32("tokenizer.ggml.unknown_token_id", 0);
    if (v.add_space_prefix) b.kv_bool("tokenizer.ggml.add_space_prefix", *v.add_space_prefix);
    if (v.remove_extra_whitespaces)
        b.kv_bool("tokenizer.ggml.remove_extra_whitespaces", *v.remove_extra_whitespaces);
    const auto bytes = b.build();
    return tokenizer_from_gguf(GgufFile::from_memory(bytes.data(), bytes.size(), "test.gguf"));
}

using Ids = std::vector<int32_t>;

} // namespace

TEST(TokenizerSpm, SpacePrefixIsAddedUnlessTheVocabSaysNo) {
    const TokenizerData with = spm_gguf();
    EXPECT_TRUE(with.add_space_prefix);
    EXPECT_EQ(Tokenizer(with).encode("hi hi", false), (Ids{11, 11})); // ▁hi ▁hi
    const TokenizerData without = spm_gguf([&](SpmVocab& v) { v.add_space_prefix = false; });
    EXPECT_FALSE(without.add_space_prefix);
    Tokenizer tok(without);
    EXPECT_EQ(tok.encode("hi hi", false), (Ids{10, 11})); // hi ▁hi
    EXPECT_EQ(tok.encode("hi hi", true), (Ids{1, 10, 11}));
    EXPECT_EQ(tok.decode({1, 10, 11}), "hi hi");
    // Without a dummy prefix a leading space is the text's own, and decoding keeps it.
    EXPECT_EQ(tok.encode(" hi", true), (Ids{1, 11}));
    EXPECT_EQ(tok.decode({1, 11}), " hi");
    EXPECT_EQ(Tokenizer(with).decode({1, 11}), "hi");
}

TEST(TokenizerSpm, RemoveExtraWhitespacesStripsAndCollapsesSpaces) {
    const std::string text = "  hi   hi  ";
    // Kept: ▁▁▁hi▁▁▁hi▁▁ -> ▁ ▁ ▁hi ▁ ▁ ▁hi ▁ ▁ ("▁▁" is no piece).
    EXPECT_EQ(Tokenizer(spm_gguf()).encode(text, false), (Ids{7, 7, 11, 7, 7, 11, 7, 7}));
    const TokenizerData d = spm_gguf([&](SpmVocab& v) { v.remove_extra_whitespaces = true; });
    EXPECT_TRUE(d.remove_extra_whitespaces);
    Tokenizer tok(d);
    EXPECT_EQ(tok.encode(text, false), (Ids{11, 11})); // "hi hi"
    EXPECT_EQ(tok.encode("   ", true), (Ids{1}));      // only spaces: nothing but BOS
}

// Gemma: no space prefix, byte tokens for what no piece spells, <start_of_turn>-style tokens
// (user-defined in its vocabulary) matched in the text whether or not special parsing is on.
TEST(TokenizerSpm, GemmaStyleTurnTokensAndByteFallback) {
    const std::string text = "<start_of_turn>hi\n!<end_of_turn>";
    const Ids expected = {3, 10, 5, 6, 4}; // turn, hi, <0x0A>, <0x21>, end
    const TokenizerData user = spm_gguf([&](SpmVocab& v) { v.add_space_prefix = false; });
    Tokenizer tok(user);
    EXPECT_EQ(tok.encode(text, false), expected);
    EXPECT_EQ(tok.encode(text, false, /*parse_special=*/false), expected);
    EXPECT_EQ(tok.decode(expected), text); // user-defined tokens decode to their text

    // Control-typed turn tokens: matched only with special parsing; otherwise their characters
    // are no pieces and have no byte tokens here, so they become <unk>.
    const TokenizerData control = spm_gguf([&](SpmVocab& v) {
        v.turn_type = kControl;
        v.add_space_prefix = false;
    });
    Tokenizer ctok(control);
    EXPECT_EQ(ctok.encode(text, false), expected);
    const Ids plain = ctok.encode(text, false, /*parse_special=*/false);
    EXPECT_EQ(std::count(plain.begin(), plain.end(), 3), 0);
    EXPECT_EQ(std::count(plain.begin(), plain.end(), 0), 28); // 15 + 13 characters as <unk>
}

// Phi-3: llama.cpp gives its special tokens rstrip (by model name), so the newline after
// <|user|> and <|end|> is swallowed; <|endoftext|> keeps what follows.
TEST(TokenizerSpm, Phi3SpecialTokensSwallowTheWhitespaceAfterThem) {
    const std::vector<std::string> extra = {"<|user|>", "<|end|>", "<|endoftext|>"};
    const int32_t user = 12, end = 13, eot = 14;
    const std::string text = "<|user|>\nhi<|end|>\n<|endoftext|>\nhi";
    const TokenizerData phi = spm_gguf([&](SpmVocab& v) {
        v.name = "Phi-3-mini-4k-instruct";
        v.extra_tokens = extra;
    });
    EXPECT_EQ(Tokenizer(phi).encode(text, false), (Ids{user, 11, end, eot, 7, 5, 10}));
    // </s> rstrips too; <s> and <unk> do not.
    EXPECT_NE(std::find(phi.rstrip_ids.begin(), phi.rstrip_ids.end(), 2), phi.rstrip_ids.end());
    EXPECT_EQ(std::find(phi.rstrip_ids.begin(), phi.rstrip_ids.end(), 1), phi.rstrip_ids.end());
    EXPECT_EQ(std::find(phi.rstrip_ids.begin(), phi.rstrip_ids.end(), 0), phi.rstrip_ids.end());
    // Another model's vocabulary with the same tokens keeps the newlines (▁ + <0x0A>).
    const TokenizerData other = spm_gguf([&](SpmVocab& v) {
        v.name = "Other";
        v.extra_tokens = extra;
    });
    EXPECT_TRUE(other.rstrip_ids.empty());
    EXPECT_EQ(Tokenizer(other).encode(text, false),
              (Ids{user, 7, 5, 10, end, 7, 5, eot, 7, 5, 10}));
}

TEST(TokenizerSpm, OptionsSurviveTheStrataMetadata) {
    TokenizerData d = spm_gguf([&](SpmVocab& v) {
        v.name = "phi3";
        v.add_space_prefix = false;
        v.remove_extra_whitespaces = true;
        v.extra_tokens = {"<|end|>"};
    });
    d.lstrip_ids = {4};
    ModelConfig c;
    Metadata m;
    write_metadata(m, c, d, {});
    const TokenizerData back = tokenizer_from_metadata(m);
    EXPECT_FALSE(back.add_space_prefix);
    EXPECT_TRUE(back.remove_extra_whitespaces);
    EXPECT_EQ(back.rstrip_ids, d.rstrip_ids);
    EXPECT_EQ(back.lstrip_ids, d.lstrip_ids);
}

// ---- the pre-tokenizer table --------------------------------------------------------------

namespace {
std::vector<std::string> split(const std::string& pre, const std::string& text) {
    TokenizerData d;
    d.model = "bpe";
    d.pre = pre;
    PreTokenizer p(pre_tokenizer_regexes(d));
    std::vector<std::string> out;
    for (auto piece : p.split(text)) out.emplace_back(piece);
    return out;
}
using Pieces = std::vector<std::string>;
} // namespace

TEST(PreTokenizerTable, EveryEntryCompilesAndNamesAreUnique) {
    std::set<std::string_view> seen;
    for (const PreTokenizerSpec& s : pre_tokenizer_table()) {
        ASSERT_FALSE(s.names.empty());
        for (std::string_view n : s.names) EXPECT_TRUE(seen.insert(n).second) << n;
        std::vector<std::string> rx(s.regexes.begin(), s.regexes.end());
        EXPECT_NO_THROW(PreTokenizer{rx}) << s.names.front();
        // Splitting never loses or reorders bytes.
        PreTokenizer p(rx);
        const std::string text = "Hello, World's 12345 tests!\n\n  日本語\tx  ";
        std::string joined;
        for (auto piece : p.split(text)) joined += piece;
        EXPECT_EQ(joined, text) << s.names.front();
    }
    for (const char* n : {"llama-bpe", "qwen2", "smollm", "olmo", "refact", "falcon", "starcoder",
                          "mpt", "deepseek-llm", "deepseek-v3", "deepseek-coder", "command-r",
                          "gpt-4o", "tekken", "stablelm2", "phi-2", "default", "gpt-2"})
        EXPECT_NE(find_pre_tokenizer(n), nullptr) << n;
}

TEST(PreTokenizerTable, SplitsAsEachFamilysRegexesSay) {
    // GPT-2: a space stays with the word or number after it.
    EXPECT_EQ(split("gpt-2", "abc 123"), (Pieces{"abc", " 123"}));
    // StarCoder: digits one by one first, so the space is left alone.
    EXPECT_EQ(split("starcoder", "abc 123"), (Pieces{"abc", " ", "1", "2", "3"}));
    // Falcon: punctuation runs, GPT-2's split, then groups of 3 digits.
    EXPECT_EQ(split("falcon", "x 1234567..."), (Pieces{"x", " ", "123", "456", "7", "..."}));
    // Llama 3: numbers in groups of at most 3; Qwen2: one digit at a time.
    EXPECT_EQ(split("llama-bpe", "a 12345"), (Pieces{"a", " ", "123", "45"}));
    EXPECT_EQ(split("qwen2", "a 123"), (Pieces{"a", " ", "1", "2", "3"}));
    // GPT-4o: case-aware words keep their contraction; tekken splits it off.
    EXPECT_EQ(split("gpt-4o", "HelloWorld's test"), (Pieces{"Hello", "World's", " test"}));
    EXPECT_EQ(split("tekken", "HelloWorld's test"), (Pieces{"Hello", "World", "'s", " test"}));
    // Tiny Aya: digit groups of 3 counted from the right.
    EXPECT_EQ(split("tiny_aya", "n 1234567"), (Pieces{"n", " ", "1", "234", "567"}));
    // DeepSeek V3: numbers of up to 3 digits first, CJK runs on their own.
    EXPECT_EQ(split("deepseek-v3", "ab1234日本"), (Pieces{"ab", "123", "4", "日本"}));
}

TEST(PreTokenizerTable, AnUnknownGgufPreTokenizerIsRefusedByName) {
    GgufBuilder b;
    b.kv_str("tokenizer.ggml.model", "gpt2");
    b.kv_str("tokenizer.ggml.pre", "no-such-pre");
    b.kv_strs("tokenizer.ggml.tokens", {"a", "b"});
    b.kv_strs("tokenizer.ggml.merges", {});
    const auto bytes = b.build();
    try {
        tokenizer_from_gguf(GgufFile::from_memory(bytes.data(), bytes.size(), "x.gguf"));
        FAIL() << "an unknown pre-tokenizer was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("'no-such-pre'"), std::string::npos) << e.what();
    }
}

// A tokenizer.json's pre_tokenizer section becomes the table's regexes (and its name), or,
// when the table has no such entry, its own regexes.
TEST(PreTokenizerTable, TokenizerJsonSectionsAreNamedFromTheTable) {
    auto parse = [](const nlohmann::json& pre) {
        nlohmann::json j = {{"model",
                             {{"type", "BPE"},
                              {"vocab", {{"a", 0}, {"b", 1}}},
                              {"merges", nlohmann::json::array()}}},
                            {"pre_tokenizer", pre}};
        return parse_hf_tokenizer_json(j.dump(), "", "t/tokenizer.json");
    };
    const nlohmann::json byte_level = {
        {"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
    EXPECT_EQ(parse(byte_level).pre, "gpt-2");
    const nlohmann::json starcoder = {
        {"type", "Sequence"},
        {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}, byte_level}}};
    EXPECT_EQ(parse(starcoder).pre, "starcoder");
    const nlohmann::json custom = {{"type", "Sequence"},
                                   {"pretokenizers",
                                    {{{"type", "Split"},
                                      {"pattern", {{"Regex", "\\p{L}+"}}},
                                      {"behavior", "Isolated"},
                                      {"invert", false}},
                                     {{"type", "ByteLevel"}, {"use_regex", false}}}}};
    const TokenizerData c = parse(custom);
    EXPECT_EQ(c.pre, "custom");
    EXPECT_EQ(c.pre_regexes, (std::vector<std::string>{"\\p{L}+"}));
    // DeepSeek V3's sections as its tokenizer.json writes them (characters, not \x{} escapes).
    auto split_step = [](const std::string& rx) {
        return nlohmann::json{{"type", "Split"},
                              {"pattern", {{"Regex", rx}}},
                              {"behavior", "Isolated"},
                              {"invert", false}};
    };
    const nlohmann::json v3 = {
        {"type", "Sequence"},
        {"pretokenizers",
         {split_step("\\p{N}{1,3}"),
          split_step("[一-龥぀-ゟ゠-ヿ]+"),
          split_step(
              "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}"
              "\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"),
          {{"type", "ByteLevel"}, {"use_regex", false}}}}};
    EXPECT_EQ(parse(v3).pre, "deepseek-v3");
    EXPECT_THROW(parse({{"type", "Metaspace"}}), Error);
    EXPECT_THROW(parse(nullptr), Error); // not byte-level
}

// The same vocabulary from a GGUF and from a tokenizer.json written from it (with StarCoder's
// pre_tokenizer section) tokenizes the reference texts identically.
TEST(PreTokenizerTable, GgufAndTokenizerJsonOfOneVocabTokenizeAlike) {
    REQUIRE_FIXTURES();
    const TokenizerData g = tokenizer_from_gguf(
        GgufFile::open(fixture("tokenizers/vectors/ggml-vocab-starcoder.gguf")));
    nlohmann::json vocab = nlohmann::json::object();
    for (size_t i = 0; i < g.tokens.size(); i++) vocab[g.tokens[i]] = i;
    nlohmann::json added = nlohmann::json::array();
    for (size_t i = 0; i < g.types.size(); i++)
        if (g.types[i] == kControl)
            added.push_back({{"id", i}, {"content", g.tokens[i]}, {"special", true}});
    nlohmann::json j = {
        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", g.merges}}},
        {"added_tokens", added},
        {"pre_tokenizer",
         {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Digits"}, {"individual_digits", true}},
            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}}}}}};
    const TokenizerData h = parse_hf_tokenizer_json(j.dump(), "", "starcoder/tokenizer.json");
    EXPECT_EQ(h.pre, "starcoder");
    Tokenizer a(g), b(h);
    const auto in = read_file(fixture("tokenizers/vectors/ggml-vocab-starcoder.gguf.inp"));
    const std::string all(in.begin(), in.end());
    size_t n = 0;
    for (size_t pos = 0; pos < all.size(); n++) {
        size_t next = all.find("\n__ggml_vocab_test__\n", pos);
        if (next == std::string::npos) next = all.size();
        const std::string text = all.substr(pos, next - pos);
        EXPECT_EQ(a.encode(text, false), b.encode(text, false)) << text;
        pos = next + 21;
    }
    EXPECT_GT(n, 10u);
}

// strata-convert --info names the tokenizer kind and the pre-tokenizer.
TEST(PreTokenizerTable, InfoNamesTheTokenizerKindAndPreTokenizer) {
    REQUIRE_FIXTURES();
    TempDir dir;
    ModelSource spm = import_gguf(fixture("stories260K/stories260K.gguf"));
    convert_model(spm, dir.file("spm.strata"), {});
    const std::string a = describe_strata_file(dir.file("spm.strata"));
    EXPECT_NE(a.find("tokenizer:      SentencePiece-style BPE (spm), space prefix, 512 tokens"),
              std::string::npos)
        << a;
    // The same model with a byte-level vocabulary of 512 tokens and StarCoder's pre-tokenizer.
    ModelSource bpe = import_gguf(fixture("stories260K/stories260K.gguf"));
    TokenizerData& t = bpe.tokenizer;
    t = TokenizerData{};
    t.model = "bpe";
    t.pre = "starcoder";
    t.add_bos = false;
    for (int i = 0; i < 512; i++) t.tokens.push_back(std::to_string(i) + "t");
    t.types.assign(512, kNormal);
    convert_model(bpe, dir.file("bpe.strata"), {});
    const std::string b = describe_strata_file(dir.file("bpe.strata"));
    EXPECT_NE(b.find("tokenizer:      byte-level BPE (bpe), pre-tokenizer starcoder, 512 tokens"),
              std::string::npos)
        << b;
}

// A SentencePiece-style tokenizer.json says whether "▁" goes before the text: Llama 2 prepends
// in its normalizer, newer files in a Metaspace pre-tokenizer, Gemma's normalizer only replaces
// spaces (no prefix), so its HF directory tokenizes as its GGUF (add_space_prefix false) does.
TEST(TokenizerSpm, TokenizerJsonSaysWhetherToPrefixASpace) {
    auto parse = [](const nlohmann::json& extra) {
        nlohmann::json j = {{"model",
                             {{"type", "BPE"},
                              {"byte_fallback", true},
                              {"vocab", {{"<unk>", 0}, {S + "a", 1}, {"a", 2}, {S, 3}}},
                              {"merges", {S + " a"}}}}};
        j.update(extra);
        return parse_hf_tokenizer_json(j.dump(), "", "t/tokenizer.json");
    };
    const nlohmann::json replace = {
        {"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", S}};
    const nlohmann::json prepend = {{"type", "Prepend"}, {"prepend", S}};
    const TokenizerData gemma = parse({{"normalizer", replace}});
    EXPECT_FALSE(gemma.add_space_prefix);
    EXPECT_EQ(Tokenizer(gemma).encode("a", false), (Ids{2}));
    const TokenizerData llama2 =
        parse({{"normalizer", {{"type", "Sequence"}, {"normalizers", {prepend, replace}}}}});
    EXPECT_TRUE(llama2.add_space_prefix);
    EXPECT_EQ(Tokenizer(llama2).encode("a", false), (Ids{1}));
    EXPECT_TRUE(parse({{"pre_tokenizer", {{"type", "Metaspace"}, {"prepend_scheme", "first"}}}})
                    .add_space_prefix);
    EXPECT_FALSE(parse({{"pre_tokenizer", {{"type", "Metaspace"}, {"prepend_scheme", "never"}}}})
                     .add_space_prefix);
}

// tokenizer.json's added tokens carry their own rstrip/lstrip (Phi-3's <|end|> has rstrip).
TEST(TokenizerSpm, TokenizerJsonRstripTokensSwallowTheWhitespaceAfterThem) {
    auto parse = [](bool rstrip) {
        nlohmann::json j = {
            {"model",
             {{"type", "BPE"},
              {"byte_fallback", true},
              {"vocab", {{"<unk>", 0}, {S + "a", 1}, {"a", 2}, {S, 3}, {"<0x0A>", 4}}},
              {"merges", {S + " a"}}}},
            {"added_tokens",
             {{{"id", 5}, {"content", "<|end|>"}, {"special", true}, {"rstrip", rstrip}}}}};
        return parse_hf_tokenizer_json(j.dump(), "", "t/tokenizer.json");
    };
    const TokenizerData with = parse(true);
    EXPECT_EQ(with.rstrip_ids, (std::vector<int32_t>{5}));
    // "\n" swallowed; "a" starts a fragment after a special token, so it gets the "▁" prefix.
    EXPECT_EQ(Tokenizer(with).encode("<|end|>\na", false), (Ids{5, 1}));
    // Kept: "▁\na" -> ▁ <0x0A> a (no piece joins across the newline).
    EXPECT_EQ(Tokenizer(parse(false)).encode("<|end|>\na", false), (Ids{5, 3, 4, 2}));
}

// Every zoo GGUF (one per architecture the runtime knows, written by llama.cpp's converter with
// its per-architecture tokenizer keys) tokenizes the zoo prompt as llama.cpp did: its
// .prompt1.positions file starts with BOS and the prompt's 33 tokens.
TEST(TokenizerZoo, PromptTokensEqualLlamaCpps) {
    REQUIRE_FIXTURES();
    const std::string dir = fixture("zoo");
    if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no zoo fixtures";
    size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        const std::string path = e.path().string();
        if (e.path().extension() != ".gguf") continue;
        const std::string positions = path.substr(0, path.size() - 5) + ".prompt1.positions";
        if (!std::filesystem::exists(positions)) continue;
        const auto bytes = read_file(positions);
        std::istringstream in(std::string(bytes.begin(), bytes.end()));
        Ids expected;
        for (int32_t id; expected.size() < 34 && in >> id;) expected.push_back(id);
        const TokenizerData d = tokenizer_from_gguf(GgufFile::open(path));
        const Ids got =
            Tokenizer(d).encode("The quick brown fox jumps over the lazy dog. Once upon a time",
                                true, /*parse_special=*/false);
        EXPECT_EQ(got, expected) << path;
        files++;
    }
    EXPECT_GT(files, 10u);
}
