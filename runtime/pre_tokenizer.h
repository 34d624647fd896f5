// Byte-level BPE pre-tokenization: the text is split by a list of regexes (from the table in
// formats/pre_tokenizer_table.h, or spelled out by a tokenizer.json), run with PCRE2 in UTF +
// Unicode-property mode, JIT-compiled where PCRE2 has a JIT. Each regex splits every piece the
// previous one left into its matches and the gaps between them (both kept), as llama.cpp and
// Hugging Face's "Isolated" splits do.
#pragma once

#include "formats/model_config.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace strata {

class PreTokenizer {
  public:
    // Throws strata::Error naming a regex that does not compile.
    explicit PreTokenizer(const std::vector<std::string>& regexes);
    ~PreTokenizer();
    std::vector<std::string_view> split(std::string_view text) const;

  private:
    struct Regex;
    std::vector<std::unique_ptr<Regex>> regexes_;
};

// The split regexes of a byte-level BPE vocabulary: its pre_regexes, or the table's entry for
// its pre name. Throws strata::Error naming an unknown pre-tokenizer.
std::vector<std::string> pre_tokenizer_regexes(const TokenizerData& data);

} // namespace strata
