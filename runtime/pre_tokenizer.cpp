#include "runtime/pre_tokenizer.h"

#include "core/error.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace strata {

namespace {

// The regexes are the published pre-tokenizer patterns of each family.
const char* kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::vector<const char*> kDeepseekCoder = {
    "[\r\n]",
    "\\s?\\p{L}+",
    "\\s?\\p{P}+",
    "[\xE4\xB8\x80-\xE9\xBE\xA5\xE0\xA0\x80-\xE4\xB8\x80\xEA\xB0\x80-\xED\x9F\xBF]+", // [一-龥ࠀ-一가-퟿]+
    "\\p{N}",
};

} // namespace

struct PreTokenizer::Regex {
    pcre2_code* code = nullptr;
    ~Regex() {
        if (code) pcre2_code_free(code);
    }
};

PreTokenizer::PreTokenizer(const std::string& name) {
    std::vector<const char*> patterns;
    if (name == "gpt2" || name == "gpt-2" || name == "default")
        patterns = {kGpt2};
    else if (name == "llama3" || name == "llama-bpe")
        patterns = {kLlama3};
    else if (name == "qwen2")
        patterns = {kQwen2};
    else if (name == "deepseek-coder")
        patterns = kDeepseekCoder;
    else
        fail("pre-tokenizer '" + name +
             "' is not supported (gpt2, llama3, qwen2, deepseek-coder are)");
    for (const char* p : patterns) {
        auto r = std::make_unique<Regex>();
        int err = 0;
        PCRE2_SIZE off = 0;
        // MATCH_INVALID_UTF: invalid UTF-8 in the input never fails a match; those bytes fall
        // into gaps and are encoded byte by byte.
        r->code =
            pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p), PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &off, nullptr);
        if (!r->code)
            fail("pre-tokenizer regex failed to compile (PCRE2 error " + std::to_string(err) + ")");
        pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE); // optional speed-up; falls back silently
        regexes_.push_back(std::move(r));
    }
}

PreTokenizer::~PreTokenizer() = default;

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
    std::vector<std::string_view> pieces{text};
    for (const auto& r : regexes_) {
        std::vector<std::string_view> next;
        pcre2_match_data* md = pcre2_match_data_create_from_pattern(r->code, nullptr);
        for (const std::string_view piece : pieces) {
            size_t pos = 0, gap = 0;
            const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
            while (pos <= piece.size()) {
                const int rc = pcre2_match(r->code, subject, piece.size(), pos, 0, md, nullptr);
                if (rc < 0) break; // no (more) matches
                const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
                const size_t s = ov[0], e = ov[1];
                if (e == s) { // empty match: step past one character
                    pos = s + 1;
                    while (pos < piece.size() &&
                           (static_cast<unsigned char>(piece[pos]) & 0xC0) == 0x80)
                        pos++;
                    continue;
                }
                if (s > gap) next.push_back(piece.substr(gap, s - gap));
                next.push_back(piece.substr(s, e - s));
                gap = pos = e;
            }
            if (gap < piece.size()) next.push_back(piece.substr(gap));
        }
        pcre2_match_data_free(md);
        pieces.swap(next);
    }
    return pieces;
}

} // namespace strata
