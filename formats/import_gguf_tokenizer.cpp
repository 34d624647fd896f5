// A GGUF's tokenizer (the tokenizer.ggml.* keys): SentencePiece-style ("llama") or byte-level
// BPE ("gpt2") vocabularies with their options, read as llama.cpp reads them.
#include "core/error.h"
#include "formats/model_source.h"
#include "formats/pre_tokenizer_table.h"

#include <algorithm>
#include <cctype>

namespace strata {

namespace {

// llama.cpp gives Phi-3's special tokens "rstrip" (they swallow the whitespace after them, as
// the model's tokenizer.json says of its added tokens), picked by the model's name since GGUF
// has no key for it: every special token and "</s>", but not "<unk>", "<s>", "<|endoftext|>".
void phi3_rstrip(const GgufFile& g, TokenizerData& t) {
    std::string name = g.get_string("general.name").value_or("");
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    if (name.find("phi-3") == std::string::npos && name.find("phi3") == std::string::npos) return;
    for (size_t i = 0; i < t.tokens.size(); i++) {
        const std::string& s = t.tokens[i];
        const int32_t type = i < t.types.size() ? t.types[i] : int32_t(TokenType::Normal);
        const bool special = type == int32_t(TokenType::Control) ||
                             type == int32_t(TokenType::UserDefined) ||
                             type == int32_t(TokenType::Unknown);
        if ((special || s == "</s>") && s != "<unk>" && s != "<s>" && s != "<|endoftext|>")
            t.rstrip_ids.push_back(int32_t(i));
    }
}

} // namespace

TokenizerData tokenizer_from_gguf(const GgufFile& g) {
    TokenizerData t;
    const auto model = g.get_string("tokenizer.ggml.model");
    if (!model) fail(g.name() + ": has no tokenizer (tokenizer.ggml.model missing)");
    if (*model == "llama")
        t.model = "spm";
    else if (*model == "gpt2")
        t.model = "bpe";
    else
        fail(g.name() + ": tokenizer model '" + *model + "' is not supported (llama and gpt2 are)");
    t.pre = g.get_string("tokenizer.ggml.pre").value_or("default");
    const PreTokenizerSpec* spec = nullptr;
    if (t.model == "bpe") {
        spec = find_pre_tokenizer(t.pre);
        if (!spec)
            fail(g.name() + ": tokenizer.ggml.pre '" + t.pre +
                 "' names a pre-tokenizer strata does not know (known: " + pre_tokenizer_names() +
                 ")");
        t.ignore_merges = spec->ignore_merges;
    }
    const GgufValue* tokens = g.get("tokenizer.ggml.tokens");
    if (!tokens || tokens->kind != GgufValue::Array || tokens->elem_type != 8)
        fail(g.name() + ": tokenizer.ggml.tokens is missing or not a string array");
    t.tokens = tokens->strs;
    if (const GgufValue* v = g.get("tokenizer.ggml.scores")) {
        if (v->kind != GgufValue::Array || v->nums.size() != t.tokens.size())
            fail(g.name() + ": tokenizer.ggml.scores does not match the token count");
        t.scores.assign(v->nums.begin(), v->nums.end());
    }
    if (const GgufValue* v = g.get("tokenizer.ggml.token_type")) {
        if (v->kind != GgufValue::Array || v->nums.size() != t.tokens.size())
            fail(g.name() + ": tokenizer.ggml.token_type does not match the token count");
        for (double x : v->nums) {
            if (!(x >= 1 && x <= 6))
                fail(g.name() + ": tokenizer.ggml.token_type holds invalid type " +
                     std::to_string(x));
            t.types.push_back(int32_t(x));
        }
    }
    if (const GgufValue* v = g.get("tokenizer.ggml.merges")) {
        if (v->kind != GgufValue::Array || v->elem_type != 8)
            fail(g.name() + ": tokenizer.ggml.merges is not a string array");
        t.merges = v->strs;
    }
    auto id = [&](const char* key, int32_t dflt) {
        auto v = g.get_int(key);
        if (!v) return dflt;
        return *v >= 0 && *v < int64_t(t.tokens.size()) ? int32_t(*v) : -1; // 0xFFFFFFFF = none
    };
    t.bos_id = id("tokenizer.ggml.bos_token_id", -1);
    t.eos_id = id("tokenizer.ggml.eos_token_id", -1);
    t.unk_id = id("tokenizer.ggml.unknown_token_id", -1);
    t.pad_id = id("tokenizer.ggml.padding_token_id", -1);
    t.add_bos = g.get_bool("tokenizer.ggml.add_bos_token")
                    .value_or(t.model == "spm" || (spec && spec->add_bos));
    t.add_eos = g.get_bool("tokenizer.ggml.add_eos_token").value_or(false);
    if (t.model == "spm") {
        t.add_space_prefix = g.get_bool("tokenizer.ggml.add_space_prefix").value_or(true);
        t.remove_extra_whitespaces =
            g.get_bool("tokenizer.ggml.remove_extra_whitespaces").value_or(false);
    }
    phi3_rstrip(g, t);
    t.chat_template = g.get_string("tokenizer.chat_template").value_or("");
    t.validate(uint32_t(t.tokens.size()));
    return t;
}

} // namespace strata
