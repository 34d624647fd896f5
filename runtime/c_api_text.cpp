// The C API's text side: vocabularies opened alone, detokenizing (whole and streamed), and chat
// templates. See include/strata.h.
#include "runtime/c_api_internal.h"

#include "formats/gguf_reader.h"
#include "formats/mapped_file.h"
#include "formats/model_source.h"
#include "formats/strata_reader.h"
#include "runtime/chat_template.h"

#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

using namespace strata::capi;

struct strata_detokenizer {
    strata::StreamDecoder decoder;
    std::string text;
};

namespace {

// A vocabulary from any file strata reads one from, recognized by magic bytes, then by name.
strata::TokenizerData read_vocabulary(const std::string& path) {
    namespace fs = std::filesystem;
    auto file = strata::MappedFile::open(path);
    const uint8_t* p = file->data();
    const size_t n = file->size();
    if (n >= 8 && std::memcmp(p, "STRATA\0\0", 8) == 0)
        return strata::StrataFile::open(path).tokenizer();
    if (n >= 4 && std::memcmp(p, "GGUF", 4) == 0)
        return strata::tokenizer_from_gguf(strata::GgufFile::open(path));
    const std::string name = fs::path(path).filename().string();
    auto ends_with = [&](const char* suffix) {
        const size_t k = std::strlen(suffix);
        return name.size() >= k && name.compare(name.size() - k, k, suffix) == 0;
    };
    if (ends_with(".json")) {
        const fs::path config = fs::path(path).parent_path() / "tokenizer_config.json";
        return strata::read_hf_tokenizer_json(path, fs::exists(config) ? config.string() : "");
    }
    if (ends_with(".model")) return strata::read_sentencepiece_model(path);
    return strata::read_llama2c_tokenizer(path, 0); // 0: as many tokens as the file holds
}

// The family `name` names, or the model's (nullopt: none known); throws for an unknown name.
std::optional<strata::ChatFamily> family_of(const strata_model* model, const char* name) {
    if (!name) return strata::detect_chat_family(model->data->chat_template);
    auto f = strata::chat_family_from_name(name);
    if (!f)
        strata::fail(std::string("chat template '") + name +
                     "' is not one of: " + strata_chat_template_names());
    return f;
}

std::string token_text(const strata_model* model, int32_t id) {
    return id >= 0 && size_t(id) < model->data->tokens.size() ? model->data->tokens[size_t(id)]
                                                              : std::string();
}

} // namespace

extern "C" {

int strata_vocab_open(const char* path, strata_model** out) {
    if (!path || !out)
        return error(STRATA_INVALID_ARGUMENT, "strata_vocab_open: path and out must not be NULL");
    *out = nullptr;
    return guarded([&] {
        auto m = std::make_unique<strata_model>();
        m->vocab = std::make_unique<strata::TokenizerData>(
            strata::with_status(strata::Status::format, [&] { return read_vocabulary(path); }));
        m->data = m->vocab.get();
        m->tokenizer = std::make_unique<strata::Tokenizer>(*m->data);
        *out = m.release();
        return ok();
    });
}

int32_t strata_token_find(const strata_model* model, const char* text) {
    if (!model || !text) return -1;
    return model->tokenizer->find(text);
}

int strata_detokenize(const strata_model* model, const int32_t* tokens, int n_tokens, char* buf,
                      int capacity, int* length) {
    if (!model || (n_tokens > 0 && !tokens) || n_tokens < 0 || !length || capacity < 0 ||
        (capacity > 0 && !buf))
        return error(STRATA_INVALID_ARGUMENT, "strata_detokenize: NULL or negative argument");
    for (int i = 0; i < n_tokens; i++)
        if (tokens[i] < 0 || size_t(tokens[i]) >= model->tokenizer->size())
            return error(STRATA_INVALID_ARGUMENT, "strata_detokenize: token " +
                                                      std::to_string(tokens[i]) +
                                                      " is out of range");
    return guarded([&] {
        const std::string text =
            model->tokenizer->decode(std::vector<int32_t>(tokens, tokens + n_tokens));
        return copy_out(text, buf, capacity, length, "strata_detokenize");
    });
}

int strata_detokenizer_open(const strata_model* model, int32_t previous, strata_detokenizer** out) {
    if (out) *out = nullptr;
    if (!model || !out)
        return error(STRATA_INVALID_ARGUMENT, "strata_detokenizer_open: NULL argument");
    return guarded([&] {
        *out = new strata_detokenizer{strata::StreamDecoder(*model->tokenizer, previous), {}};
        return ok();
    });
}

int strata_detokenizer_push(strata_detokenizer* d, int32_t token, const char** text, int* length) {
    if (!d || !text || !length)
        return error(STRATA_INVALID_ARGUMENT, "strata_detokenizer_push: NULL argument");
    return guarded([&] {
        d->text = d->decoder.push(token);
        *text = d->text.c_str(), *length = int(d->text.size());
        return ok();
    });
}

int strata_detokenizer_flush(strata_detokenizer* d, const char** text, int* length) {
    if (!d || !text || !length)
        return error(STRATA_INVALID_ARGUMENT, "strata_detokenizer_flush: NULL argument");
    return guarded([&] {
        d->text = d->decoder.flush();
        *text = d->text.c_str(), *length = int(d->text.size());
        return ok();
    });
}

void strata_detokenizer_close(strata_detokenizer* d) { delete d; }

const char* strata_chat_template(const strata_model* model) {
    if (!model) return nullptr;
    const auto f = strata::detect_chat_family(model->data->chat_template);
    return f ? strata::chat_family_name(*f) : nullptr;
}

const char* strata_chat_template_names(void) {
    static const std::string names = [] {
        std::string s;
        for (const auto& n : strata::chat_family_names()) s += (s.empty() ? "" : " ") + n;
        return s;
    }();
    return names.c_str();
}

int strata_chat_apply(const strata_model* model, const char* name,
                      const strata_chat_message* messages, int n_messages, int add_assistant,
                      char* buf, int capacity, int* length) {
    if (!model || n_messages < 0 || (n_messages > 0 && !messages) || !length || capacity < 0 ||
        (capacity > 0 && !buf))
        return error(STRATA_INVALID_ARGUMENT, "strata_chat_apply: NULL or negative argument");
    std::vector<strata::ChatMessage> all;
    for (int i = 0; i < n_messages; i++) {
        if (!messages[i].role || !messages[i].content)
            return error(STRATA_INVALID_ARGUMENT, "strata_chat_apply: message " +
                                                      std::to_string(i) +
                                                      " has a NULL role or content");
        all.push_back({messages[i].role, messages[i].content});
    }
    return guarded([&] {
        const auto f = family_of(model, name);
        if (!f)
            return error(STRATA_NOT_SUPPORTED,
                         "the model has no chat template strata knows (name one: " +
                             std::string(strata_chat_template_names()) + ")");
        const std::string text = strata::render_chat(*f, all, add_assistant != 0,
                                                     token_text(model, model->tokenizer->bos()),
                                                     token_text(model, model->tokenizer->eos()));
        return copy_out(text, buf, capacity, length, "strata_chat_apply");
    });
}

int strata_chat_turn_end(const strata_model* model, const char* name, int32_t* token) {
    if (!model || !token)
        return error(STRATA_INVALID_ARGUMENT, "strata_chat_turn_end: NULL argument");
    *token = -1;
    return guarded([&] {
        const auto f = family_of(model, name);
        if (!f) return error(STRATA_NOT_SUPPORTED, "the model has no chat template strata knows");
        const int32_t id = model->tokenizer->find(
            strata::chat_turn_end(*f, token_text(model, model->tokenizer->eos())));
        *token = id == model->tokenizer->eos() ? -1 : id;
        return ok();
    });
}

} // extern "C"
