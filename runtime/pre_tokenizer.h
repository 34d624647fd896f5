// Byte-level BPE pre-tokenization: the text is split by a model family's list of regexes, run
// with PCRE2 in UTF + Unicode-property mode. Each regex splits every piece the previous one left
// into its matches and the gaps between them (both kept), as llama.cpp and Hugging Face's
// "Isolated" splits do.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace strata {

class PreTokenizer {
  public:
    // `name`: gpt2 / gpt-2, llama3 / llama-bpe, qwen2, deepseek-coder (GGUF's tokenizer.ggml.pre
    // names and ours). Throws strata::Error for others.
    explicit PreTokenizer(const std::string& name);
    ~PreTokenizer();
    std::vector<std::string_view> split(std::string_view text) const;

  private:
    struct Regex;
    std::vector<std::unique_ptr<Regex>> regexes_;
};

} // namespace strata
