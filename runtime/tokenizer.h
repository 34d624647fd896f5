// Text <-> token ids. SentencePiece-style BPE (scores, byte fallback, dummy prefix) is built;
// byte-level BPE (GPT-2 / Llama 3 / Qwen2 regex pre-tokenizers) is the tokenizer issue's work and
// is refused with a clear message until then.
#pragma once

#include "formats/model_config.h"

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace strata {

class Tokenizer {
  public:
    explicit Tokenizer(const TokenizerData& data);

    // Token ids of `text`; BOS first when `add_special` and the model adds one.
    std::vector<int32_t> encode(std::string_view text, bool add_special) const;
    // The bytes token `id` stands for (control tokens give ""); `after_bos` drops the
    // dummy-prefix space SentencePiece puts before the first word.
    std::string piece(int32_t id, bool after_bos) const;
    std::string decode(const std::vector<int32_t>& ids) const;

    int32_t bos() const { return data_.bos_id; }
    int32_t eos() const { return data_.eos_id; }
    size_t size() const { return data_.tokens.size(); }
    bool is_control(int32_t id) const;

  private:
    const TokenizerData& data_;
    std::unordered_map<std::string_view, int32_t> id_of_;
    int32_t byte_token_[256];
};

} // namespace strata

namespace strata {

// Turns a stream of token ids into text that is only ever cut at whole UTF-8 characters:
// bytes of an incomplete character (e.g. from byte-fallback tokens) are held back until the
// character completes.
class StreamDecoder {
  public:
    explicit StreamDecoder(const Tokenizer& tok, int32_t previous = -1)
        : tok_(tok), prev_(previous) {}
    // The text that became complete with `id`.
    std::string push(int32_t id);
    // Whatever is still held back (an incomplete character at the end of the stream).
    std::string flush();

  private:
    const Tokenizer& tok_;
    int32_t prev_;
    std::string pending_;
};

} // namespace strata
