// Tokenizers against reference vectors: llama.cpp's test vectors for the llama-spm, gpt-2 and
// deepseek-coder vocabularies (from their vocab-only GGUFs), and llama3-tokenizer-js's vectors
// for Llama 3's tokenizer.json. 100% must match; decode(encode(text)) must give the text back.
#include "core/error.h"
#include "formats/gguf_reader.h"
#include "formats/model_source.h"
#include "runtime/chat_template.h"
#include "runtime/tokenizer.h"
#include "tests/fixtures.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace strata;
using namespace strata::test;

namespace {

struct Vectors {
    std::vector<std::string> texts;
    std::vector<std::vector<int32_t>> ids;
};

// X.inp: texts separated by "\n__ggml_vocab_test__\n"; X.out: line i = ids of text i.
Vectors read_vectors(const std::string& inp, const std::string& out) {
    const auto in_bytes = read_file(inp), out_bytes = read_file(out);
    std::string s(in_bytes.begin(), in_bytes.end());
    const std::string sep = "\n__ggml_vocab_test__\n";
    Vectors v;
    for (size_t pos = 0;;) {
        const size_t next = s.find(sep, pos);
        v.texts.push_back(
            s.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
        if (next == std::string::npos) break;
        pos = next + sep.size();
    }
    std::istringstream lines(std::string(out_bytes.begin(), out_bytes.end()));
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream ids(line);
        std::vector<int32_t> row;
        int32_t t;
        while (ids >> t) row.push_back(t);
        v.ids.push_back(row);
    }
    return v;
}

std::string show(const std::vector<int32_t>& ids) {
    std::string s;
    for (int32_t t : ids) s += std::to_string(t) + " ";
    return s;
}

void check_vectors(const TokenizerData& data, const std::string& name, bool lossless) {
    Tokenizer tok(data);
    const Vectors v = read_vectors(fixture("tokenizers/vectors/" + name + ".inp"),
                                   fixture("tokenizers/vectors/" + name + ".out"));
    const size_t n = std::min(v.texts.size(), v.ids.size());
    ASSERT_GT(n, 10u);
    size_t matched = 0;
    for (size_t i = 0; i < n; i++) {
        const auto got = tok.encode(v.texts[i], false);
        if (got == v.ids[i])
            matched++;
        else
            ADD_FAILURE() << name << " text " << i << " [" << v.texts[i] << "]\n  expected "
                          << show(v.ids[i]) << "\n  got      " << show(got);
        // Control tokens decode to nothing, so texts that spell one are not expected back.
        const bool has_control =
            std::any_of(got.begin(), got.end(), [&](int32_t id) { return tok.is_control(id); });
        if (lossless && !has_control) {
            EXPECT_EQ(tok.decode(got), v.texts[i]) << name << " round trip of text " << i;
        }
    }
    std::printf("%s: %zu/%zu vectors match\n", name.c_str(), matched, n);
}

TokenizerData from_gguf(const std::string& name) {
    return tokenizer_from_gguf(GgufFile::open(fixture("tokenizers/vectors/" + name)));
}

} // namespace

// Every llama.cpp vocab file in the vectors folder with its .inp/.out pair: SentencePiece
// (llama-spm) and byte-level BPE with each pre-tokenizer (gpt-2, deepseek-coder, deepseek-llm,
// falcon, starcoder, ...).
std::vector<std::string> vocab_vector_files() {
    std::vector<std::string> names;
    const std::string dir = fixtures_dir();
    if (!dir.empty() && std::filesystem::is_directory(dir + "/tokenizers/vectors"))
        for (const auto& e : std::filesystem::directory_iterator(dir + "/tokenizers/vectors")) {
            const std::string n = e.path().filename().string();
            if (n.rfind("ggml-vocab-", 0) == 0 && n.size() > 5 &&
                n.compare(n.size() - 5, 5, ".gguf") == 0 &&
                std::filesystem::exists(e.path().string() + ".inp"))
                names.push_back(n);
        }
    std::sort(names.begin(), names.end());
    if (names.empty()) names.push_back(""); // one instance that skips
    return names;
}

class GgufVocabVectors : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufVocabVectors, AllMatchAndRoundTrip) {
    REQUIRE_FIXTURES();
    if (GetParam().empty()) GTEST_SKIP() << "no ggml-vocab-*.gguf in tokenizers/vectors";
    check_vectors(from_gguf(GetParam()), GetParam(), true);
}

INSTANTIATE_TEST_SUITE_P(TokenizerVectors, GgufVocabVectors,
                         ::testing::ValuesIn(vocab_vector_files()), [](const auto& info) {
                             std::string n = info.param.empty() ? "none" : info.param;
                             for (char& c : n)
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             return n;
                         });

TEST(TokenizerVectors, Llama3TokenizerJson) {
    REQUIRE_FIXTURES();
    const TokenizerData t = read_hf_tokenizer_json(fixture("tokenizers/llama3/tokenizer.json"), "");
    check_vectors(t, "llama3-tokenizer-json", true);
}

TEST(TokenizerVectors, Llama2TokenizerModelEqualsTheLlamaSpmVocab) {
    REQUIRE_FIXTURES();
    const TokenizerData model =
        read_sentencepiece_model(fixture("tokenizers/llama2-spm/tokenizer.model"));
    const TokenizerData gguf = from_gguf("ggml-vocab-llama-spm.gguf");
    Tokenizer a(model), b(gguf);
    const Vectors v = read_vectors(fixture("tokenizers/vectors/ggml-vocab-llama-spm.gguf.inp"),
                                   fixture("tokenizers/vectors/ggml-vocab-llama-spm.gguf.out"));
    for (const auto& text : v.texts) EXPECT_EQ(a.encode(text, true), b.encode(text, true)) << text;
}

TEST(Tokenizer, SpecialTokensAreMatchedUnlessDisabled) {
    REQUIRE_FIXTURES();
    const TokenizerData t = read_hf_tokenizer_json(fixture("tokenizers/llama3/tokenizer.json"), "");
    Tokenizer tok(t);
    const auto with = tok.encode("<|begin_of_text|>hi", false);
    ASSERT_FALSE(with.empty());
    EXPECT_EQ(with[0], 128000);
    const auto without = tok.encode("<|begin_of_text|>hi", false, /*parse_special=*/false);
    EXPECT_NE(without[0], 128000);
    EXPECT_GT(without.size(), with.size());
    EXPECT_EQ(tok.decode(without), "<|begin_of_text|>hi");
}

TEST(Tokenizer, InvalidUtf8IsEncodedByteByByteAndComesBack) {
    REQUIRE_FIXTURES();
    for (const char* vocab : {"ggml-vocab-gpt-2.gguf", "ggml-vocab-llama-spm.gguf"}) {
        const TokenizerData d = from_gguf(vocab);
        Tokenizer tok(d);
        const std::string bad = std::string("ok \xff\xfe bytes \xe2\x82") + " end";
        const auto ids = tok.encode(bad, false);
        EXPECT_FALSE(ids.empty());
        std::string back = tok.decode(ids);
        if (d.model == "spm" && !back.empty() && back[0] != 'o') back.erase(0, 1);
        EXPECT_EQ(back, bad) << vocab;
    }
}

TEST(StreamDecoder, NeverEmitsABrokenUtf8Sequence) {
    REQUIRE_FIXTURES();
    const TokenizerData d = from_gguf("ggml-vocab-llama-spm.gguf");
    Tokenizer tok(d);
    const std::string text = "Emoji 🦙 and Ω and 日本語 and ក";
    const auto ids = tok.encode(text, true);
    StreamDecoder dec(tok, -1);
    std::string all;
    for (int32_t id : ids) {
        const std::string part = dec.push(id);
        // every emitted part is whole UTF-8
        for (size_t i = 0; i < part.size();) {
            uint32_t cp;
            const size_t n = utf8_decode(part, i, &cp);
            ASSERT_NE(cp, 0xFFFDu) << "broken UTF-8 emitted";
            i += n;
        }
        all += part;
    }
    all += dec.flush();
    EXPECT_EQ(all, text);
}

// Found by fuzz_tokenizer_files: a token typed "byte" but not spelled <0xNN> made decoding throw
// std::invalid_argument (from std::stoi) instead of giving its text.
TEST(Tokenizer, AByteTokenNotSpelledAsOneDecodesAsItsText) {
    TokenizerData d;
    d.tokens = {"<unk>",
                "<s>",
                "</s>",
                "<0xZZ>",
                "<0x41>",
                "\xE2\x96\x81"
                "a"};
    d.scores = {0, 0, 0, 0, 0, -1};
    const int32_t byte = int32_t(TokenType::Byte);
    d.types = {int32_t(TokenType::Unknown),
               int32_t(TokenType::Control),
               int32_t(TokenType::Control),
               byte,
               byte,
               int32_t(TokenType::Normal)};
    d.bos_id = 1, d.eos_id = 2, d.unk_id = 0;
    Tokenizer tok(d);
    EXPECT_EQ(tok.decode({5, 3, 4}), "a<0xZZ>A");
}

// Bytes a model emits that can't form a character (a stray 0xFF, a sequence cut by the end of
// the stream) come out as U+FFFD, never as broken UTF-8.
TEST(StreamDecoder, InvalidAndUnfinishedBytesBecomeReplacementCharacters) {
    REQUIRE_FIXTURES();
    const TokenizerData d = from_gguf("ggml-vocab-llama-spm.gguf");
    Tokenizer tok(d);
    auto byte = [&](int b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        return tok.find(name);
    };
    ASSERT_GE(byte(0xFF), 0);
    StreamDecoder dec(tok, tok.bos());
    std::string all = dec.push(tok.find("\xE2\x96\x81ok"));
    all += dec.push(byte(0xFF));
    all += dec.push(byte(0x41));
    all += dec.push(byte(0xE2)) + dec.push(byte(0x82)); // € without its last byte
    all += dec.flush();
    EXPECT_EQ(all, "ok\xEF\xBF\xBD"
                   "A\xEF\xBF\xBD\xEF\xBF\xBD");
}

// Chat templates: expected strings worked out by hand from each family's Jinja template.
TEST(ChatTemplate, FamiliesRenderAsTheirTemplates) {
    const std::vector<ChatMessage> m = {
        {"system", "Be brief."}, {"user", "Hi!"}, {"assistant", "Hello."}, {"user", "Bye?"}};
    EXPECT_EQ(render_chat(ChatFamily::Llama3, m, true, "<|begin_of_text|>", "<|eot_id|>"),
              "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
              "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
              "<|start_header_id|>user<|end_header_id|>\n\nBye?<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\n");
    EXPECT_EQ(render_chat(ChatFamily::ChatML, m, true, "", "<|endoftext|>"),
              "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n"
              "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nBye?<|im_end|>\n<|im_"
              "start|>assistant\n");
    EXPECT_EQ(
        render_chat(ChatFamily::Llama2, m, true, "<s>", "</s>"),
        "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi! [/INST] Hello. </s><s>[INST] Bye? [/INST]");
    EXPECT_EQ(render_chat(ChatFamily::Mistral, m, true, "<s>", "</s>"),
              "<s>[INST] Be brief.\n\nHi! [/INST]Hello.</s>[INST] Bye? [/INST]");
    EXPECT_EQ(render_chat(ChatFamily::Gemma, m, true, "<bos>", "<eos>"),
              "<bos><start_of_turn>user\nBe "
              "brief.\n\nHi!<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n"
              "<start_of_turn>user\nBye?<end_of_turn>\n<start_of_turn>model\n");
    EXPECT_EQ(
        render_chat(ChatFamily::Zephyr, m, true, "<s>", "</s>"),
        "<|system|>\nBe "
        "brief.</s><|user|>\nHi!</s><|assistant|>\nHello.</s><|user|>\nBye?</s><|assistant|>");
    EXPECT_THROW(render_chat(ChatFamily::ChatML, {{"tool", "x"}}, true, "", ""), Error);
}

TEST(ChatTemplate, FamilyIsRecognizedFromTheModelsTemplateText) {
    REQUIRE_FIXTURES();
    const TokenizerData t =
        read_hf_tokenizer_json(fixture("tokenizers/llama3/tokenizer.json"),
                               fixture("tokenizers/llama3/tokenizer_config.json"));
    EXPECT_EQ(detect_chat_family(t.chat_template), ChatFamily::Llama3);
    EXPECT_EQ(detect_chat_family("{% for m in messages %}<|im_start|>{{ m.role }}{% endfor %}"),
              ChatFamily::ChatML);
    EXPECT_EQ(detect_chat_family("{{ bos_token }}[INST] <<SYS>>"), ChatFamily::Llama2);
    EXPECT_EQ(detect_chat_family("{{ bos_token }}{{ '[INST] ' + m }}"), ChatFamily::Mistral);
    EXPECT_EQ(detect_chat_family("<start_of_turn>"), ChatFamily::Gemma);
    EXPECT_EQ(detect_chat_family("{{ '<|user|>\\n' }}"), ChatFamily::Zephyr);
    EXPECT_FALSE(detect_chat_family("").has_value());
    EXPECT_EQ(chat_family_from_name("qwen"), ChatFamily::ChatML);
    EXPECT_FALSE(chat_family_from_name("nope").has_value());
}

// Issue #20's families. Each expected string is worked out by hand from the family's released
// Jinja template (Qwen3, Phi-3/3.5-mini-instruct, Granite 3.1+ instruct, SmolLM3-3B), for a
// 2-turn conversation; the date is the one their templates take from strftime_now.
namespace {
const std::vector<ChatMessage> kTwoTurns = {
    {"system", "You are terse."},
    {"user", "Hi"},
    {"assistant", "<think>\nA greeting.\n</think>\n\nHello!"},
    {"user", "What is 2+2?"}};
const ChatDate kDate{2026, 12, 2};

std::string render_on(ChatFamily f, const std::vector<ChatMessage>& m, bool gen,
                      const std::string& bos = "", const std::string& eos = "") {
    return render_chat_on(f, m, gen, bos, eos, kDate);
}
} // namespace

TEST(ChatTemplateFamilies, Qwen3DropsPastReasoningAndCanDisableThinking) {
    const std::string history =
        "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n";
    EXPECT_EQ(render_on(ChatFamily::Qwen3, kTwoTurns, true), history + "<|im_start|>assistant\n");
    EXPECT_EQ(render_on(ChatFamily::Qwen3NoThink, kTwoTurns, true),
              history + "<|im_start|>assistant\n<think>\n\n</think>\n\n");
    // An assistant turn after the last user query keeps (or gets an empty) think block.
    EXPECT_EQ(render_on(ChatFamily::Qwen3, {{"user", "Hi"}, {"assistant", "Hello"}}, false),
              "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
              "Hello<|im_end|>\n");
    EXPECT_EQ(render_on(ChatFamily::Qwen3, {kTwoTurns[1], kTwoTurns[2]}, false),
              "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\nA greeting.\n"
              "</think>\n\nHello!<|im_end|>\n");
    EXPECT_EQ(chat_turn_end(ChatFamily::Qwen3, "<|endoftext|>"), "<|im_end|>");
}

TEST(ChatTemplateFamilies, Phi3) {
    const std::vector<ChatMessage> m = {
        kTwoTurns[0], kTwoTurns[1], {"assistant", "Hello!"}, kTwoTurns[3]};
    EXPECT_EQ(render_on(ChatFamily::Phi3, m, true, "<s>", "<|endoftext|>"),
              "<|system|>\nYou are terse.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello!"
              "<|end|>\n<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n");
    EXPECT_EQ(render_on(ChatFamily::Phi3, {{"system", ""}, {"user", "Hi"}}, false, "<s>",
                        "<|endoftext|>"),
              "<|user|>\nHi<|end|>\n<|endoftext|>");
    EXPECT_EQ(chat_turn_end(ChatFamily::Phi3, "<|endoftext|>"), "<|end|>");
}

TEST(ChatTemplateFamilies, GraniteWritesItsDatedSystemPromptWhenNoneIsGiven) {
    const std::vector<ChatMessage> m = {
        kTwoTurns[0], kTwoTurns[1], {"assistant", "Hello!"}, kTwoTurns[3]};
    EXPECT_EQ(render_on(ChatFamily::Granite, m, true),
              "<|start_of_role|>system<|end_of_role|>You are terse.<|end_of_text|>\n"
              "<|start_of_role|>user<|end_of_role|>Hi<|end_of_text|>\n"
              "<|start_of_role|>assistant<|end_of_role|>Hello!<|end_of_text|>\n"
              "<|start_of_role|>user<|end_of_role|>What is 2+2?<|end_of_text|>\n"
              "<|start_of_role|>assistant<|end_of_role|>");
    EXPECT_EQ(render_on(ChatFamily::Granite, {{"user", "Hi"}}, true),
              "<|start_of_role|>system<|end_of_role|>Knowledge Cutoff Date: April 2024.\n"
              "Today's Date: December 02, 2026.\nYou are Granite, developed by IBM. You are a "
              "helpful AI assistant.<|end_of_text|>\n"
              "<|start_of_role|>user<|end_of_role|>Hi<|end_of_text|>\n"
              "<|start_of_role|>assistant<|end_of_role|>");
    EXPECT_EQ(chat_turn_end(ChatFamily::Granite, "<|end_of_text|>"), "<|end_of_text|>");
}

TEST(ChatTemplateFamilies, SmolLM3ReasoningModeFromTheOptionOrTheSystemMessage) {
    const std::vector<ChatMessage> m = {
        kTwoTurns[0], kTwoTurns[1], {"assistant", "Hello!"}, kTwoTurns[3]};
    const std::string head = "<|im_start|>system\n## Metadata\n\nKnowledge Cutoff Date: June "
                             "2025\nToday Date: 02 December 2026\nReasoning Mode: ";
    EXPECT_EQ(render_on(ChatFamily::SmolLM3, m, true),
              head + "/think\n\n## Custom Instructions\n\nYou are terse.\n\n"
                     "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
                     "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n");
    const std::string no_think =
        head + "/no_think\n\n## Custom Instructions\n\nYou are terse.\n\n"
               "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n"
               "Hello!<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
               "<|im_start|>assistant\n<think>\n\n</think>\n";
    EXPECT_EQ(render_on(ChatFamily::SmolLM3NoThink, m, true), no_think);
    std::vector<ChatMessage> flagged = m;
    flagged[0].content = "You are terse. /no_think";
    EXPECT_EQ(render_on(ChatFamily::SmolLM3, flagged, true), no_think);
    EXPECT_EQ(render_on(ChatFamily::SmolLM3NoThink, {{"user", "Hi"}}, true),
              head + "/no_think\n\n## Custom Instructions\n\nYou are a helpful AI assistant named "
                     "SmolLM, trained by Hugging Face.\n\n<|im_start|>user\nHi<|im_end|>\n"
                     "<|im_start|>assistant\n<think>\n\n</think>\n");
    EXPECT_EQ(chat_turn_end(ChatFamily::SmolLM3, "<|im_end|>"), "<|im_end|>");
}

TEST(ChatTemplateFamilies, RecognizedFromTheirReleasedTemplates) {
    // Phi-3-mini-4k-instruct's template, whole.
    EXPECT_EQ(
        detect_chat_family(
            "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\\n' "
            "+ message['content'] + '<|end|>\\n'}}{% elif message['role'] == 'user' "
            "%}{{'<|user|>\\n' + message['content'] + '<|end|>\\n'}}{% elif message['role'] == "
            "'assistant' %}{{'<|assistant|>\\n' + message['content'] + '<|end|>\\n'}}{% endif "
            "%}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ "
            "eos_token }}{% endif %}"),
        ChatFamily::Phi3);
    // Excerpts of the longer ones: the lines that make each family what it is.
    EXPECT_EQ(detect_chat_family(
                  "{%- for message in messages %}\n    {%- if (message.role == \"user\") or "
                  "(message.role == \"system\" and not loop.first) %}\n        {{- "
                  "'<|im_start|>' + message.role + '\\n' + content + '<|im_end|>' + '\\n' }}\n"
                  "...\n{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n' }}\n"
                  "    {%- if enable_thinking is defined and enable_thinking is false %}\n"
                  "        {{- '<think>\\n\\n</think>\\n\\n' }}\n    {%- endif %}\n{%- endif %}"),
              ChatFamily::Qwen3);
    EXPECT_EQ(detect_chat_family("{{- \"<|im_start|>system\\n\" -}}\n...{{- \"Reasoning Mode: \" + "
                                 "reasoning_mode + \"\\n\\n\" -}}"),
              ChatFamily::SmolLM3);
    EXPECT_EQ(detect_chat_family("{%- for message in loop_messages %}\n    {{- "
                                 "'<|start_of_role|>' + message['role'] + '<|end_of_role|>' + "
                                 "message['content'] + '<|end_of_text|>\n' }}"),
              ChatFamily::Granite);
    // Qwen2.5's ChatML (no thinking switch) stays ChatML; Zephyr's <|user|> without <|end|> too.
    EXPECT_EQ(detect_chat_family("{{- '<|im_start|>' + message.role + '\\n' + message.content + "
                                 "'<|im_end|>' + '\\n' }}"),
              ChatFamily::ChatML);
    EXPECT_EQ(detect_chat_family("{{ '<|user|>\\n' + message['content'] + eos_token }}"),
              ChatFamily::Zephyr);
    for (const char* name :
         {"qwen3", "qwen3-no-think", "phi-3", "phi3", "granite", "smollm3", "smollm3-no-think"})
        EXPECT_TRUE(chat_family_from_name(name).has_value()) << name;
}

TEST(ChatTemplateFamilies, Llama31And32WriteTheirDatedSystemHeader) {
    const std::vector<ChatMessage> m = {
        kTwoTurns[0], kTwoTurns[1], {"assistant", "Hello!"}, kTwoTurns[3]};
    const std::string header = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                               "Cutting Knowledge Date: December 2023\nToday Date: ";
    EXPECT_EQ(render_on(ChatFamily::Llama31, m, true, "<|begin_of_text|>", "<|eot_id|>"),
              header + "26 Jul 2024\n\nYou are terse.<|eot_id|>"
                       "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                       "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
                       "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
                       "<|start_header_id|>assistant<|end_header_id|>\n\n");
    EXPECT_EQ(
        render_on(ChatFamily::Llama32, {{"user", " Hi "}}, true, "<|begin_of_text|>", "<|eot_id|>"),
        header + "02 Dec 2026\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
                 "Hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    EXPECT_EQ(chat_turn_end(ChatFamily::Llama32, "<|end_of_text|>"), "<|eot_id|>");
    // Llama 3.2's template takes the date from strftime_now, 3.1's has only the fixed default.
    const std::string system_header =
        "{#- System message #}\n{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n"
        "{{- \"Cutting Knowledge Date: December 2023\\n\" }}\n"
        "{{- \"Today Date: \" + date_string + \"\\n\\n\" }}\n";
    EXPECT_EQ(detect_chat_family("{%- if not date_string is defined %}\n    {%- if strftime_now "
                                 "is defined %}\n        {%- set date_string = strftime_now(\"%d "
                                 "%b %Y\") %}\n" +
                                 system_header),
              ChatFamily::Llama32);
    EXPECT_EQ(detect_chat_family("{%- if not date_string is defined %}\n    {%- set date_string "
                                 "= \"26 Jul 2024\" %}\n{%- endif %}\n" +
                                 system_header),
              ChatFamily::Llama31);
}
