// Text <-> token ids, exact against the reference tokenizers:
// - SentencePiece-style BPE (model "spm"): dummy-prefix space, spaces as U+2581, pairs merged
//   by piece score (or by merge rank when only merges are known), byte fallback to <0xNN>.
// - Byte-level BPE (model "bpe"): text split by the model's pre-tokenizer regexes (PCRE2, UTF +
//   Unicode properties), bytes mapped to printable characters as GPT-2 does, pairs merged by
//   rank.
// Special and added tokens written in the text are matched as those tokens (as Hugging Face
// tokenizers do by default) unless parse_special is off (for untrusted input); user-defined
// (added, non-control) tokens are matched either way, as llama.cpp and HF do.
#pragma once

#include "formats/model_config.h"

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace strata {

class PreTokenizer; // regex splitting (tokenizer_bpe.cpp)

class Tokenizer {
  public:
    // Throws strata::Error for an unknown pre-tokenizer or a malformed vocabulary.
    explicit Tokenizer(const TokenizerData& data);
    ~Tokenizer();
    Tokenizer(const Tokenizer&) = delete;
    Tokenizer& operator=(const Tokenizer&) = delete;

    // Token ids of `text`; BOS (and EOS) added per the model's rules when `add_special`.
    std::vector<int32_t> encode(std::string_view text, bool add_special,
                                bool parse_special = true) const;
    // The bytes token `id` stands for (control tokens give ""); `after_bos` drops the
    // dummy-prefix space SentencePiece puts before the first word.
    std::string piece(int32_t id, bool after_bos) const;
    std::string decode(const std::vector<int32_t>& ids) const;

    int32_t bos() const { return data_.bos_id; }
    int32_t eos() const { return data_.eos_id; }
    size_t size() const { return data_.tokens.size(); }
    bool is_control(int32_t id) const;
    // The id of a token spelled exactly `text`, or -1.
    int32_t find(std::string_view text) const;

  private:
    void encode_text(std::string_view text, bool first_fragment, std::vector<int32_t>& out) const;
    void encode_spm(std::string_view text, bool add_prefix, std::vector<int32_t>& out) const;
    void encode_bpe_word(std::string_view word, std::vector<int32_t>& out) const;

    const TokenizerData& data_;
    bool spm_;
    std::unordered_map<std::string_view, int32_t> id_of_;
    int32_t byte_token_[256];
    std::vector<float> scores_; // spm: piece scores (derived from merge ranks when absent)
    struct Special {
        std::string_view text;
        int32_t id;
        bool always;         // user-defined (added) tokens: matched even without parse_special
        bool lstrip, rstrip; // swallows the whitespace before / after it
    };
    std::vector<Special> specials_;     // longest first
    bool special_first_byte_[256] = {}; // bytes a special token starts with
    // bpe
    std::unordered_map<std::string, int32_t> merge_rank_; // "left right" -> rank
    std::unique_ptr<PreTokenizer> pre_;
    bool ignore_merges_ = false;
    std::string byte_char_[256];                      // byte -> its printable UTF-8 character
    std::unordered_map<uint32_t, uint8_t> char_byte_; // code point -> byte
};

// Turns a stream of token ids into text that is only ever cut at whole UTF-8 characters:
// bytes of an incomplete character (e.g. from byte-fallback tokens) are held back until the
// character completes; bytes that can't form one come out as U+FFFD.
class StreamDecoder {
  public:
    explicit StreamDecoder(const Tokenizer& tok, int32_t previous = -1)
        : tok_(tok), prev_(previous) {}
    // The text that became complete with `id`.
    std::string push(int32_t id);
    // Whatever is still held back (an incomplete character at the end of the stream, as
    // U+FFFD).
    std::string flush();

  private:
    static std::string valid_utf8(std::string_view bytes);

    const Tokenizer& tok_;
    int32_t prev_;
    std::string pending_;
};

// Decodes one UTF-8 character at s[i]; returns its length (1 for an invalid byte) and the code
// point in *cp (0xFFFD for invalid input).
size_t utf8_decode(std::string_view s, size_t i, uint32_t* cp);
std::string utf8_encode(uint32_t cp);

} // namespace strata
