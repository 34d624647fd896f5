// The pre-tokenizers of byte-level BPE vocabularies, as data: for each name a GGUF's
// `tokenizer.ggml.pre` may hold, the regexes that split text into words before BPE, and the
// options that come with it. The runtime compiles the regexes with PCRE2 (UTF + Unicode
// properties); Hugging Face tokenizer.json import turns its `pre_tokenizer` section into the same
// regex form and names the entry it equals, so a GGUF and the HF directory of one model split
// text the same way.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace strata {

struct PreTokenizerSpec {
    // The names GGUF files use for this pre-tokenizer; the first is the one we report.
    std::vector<std::string_view> names;
    // Applied in order: each regex splits every piece the previous one left into its matches
    // and the gaps between them (both kept), as HF's "Isolated" Split and llama.cpp do.
    std::vector<std::string_view> regexes;
    // A word that is itself a token is taken whole, before any merge (HF's ignore_merges).
    bool ignore_merges = false;
    // The vocabulary starts every sequence with BOS unless its metadata says otherwise.
    bool add_bos = false;
};

const std::vector<PreTokenizerSpec>& pre_tokenizer_table();
// The entry `name` names (any of its names), or nullptr.
const PreTokenizerSpec* find_pre_tokenizer(std::string_view name);
// The entry whose regexes are exactly `regexes`, or nullptr.
const PreTokenizerSpec* find_pre_tokenizer(const std::vector<std::string>& regexes);
// Every known name, comma-separated (for error messages).
std::string pre_tokenizer_names();

// The regex form of HF pre-tokenizer steps (shared by the table and tokenizer.json import).
namespace pre_regex {
// ByteLevel(use_regex = true): GPT-2's split.
inline constexpr std::string_view kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// Digits(individual_digits = true / false).
inline constexpr std::string_view kDigit = R"(\p{N})";
inline constexpr std::string_view kDigits = R"(\p{N}+)";
// Punctuation(behavior = Contiguous / Isolated): Unicode punctuation or ASCII punctuation.
inline constexpr std::string_view kPunctuationRun = R"([\p{P}\$\+<=>\^~\|`]+)";
inline constexpr std::string_view kPunctuation = R"([\p{P}\$\+<=>\^~\|`])";
} // namespace pre_regex

} // namespace strata
