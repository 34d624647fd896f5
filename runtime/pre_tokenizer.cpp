#include "runtime/pre_tokenizer.h"

#include "core/error.h"
#include "formats/pre_tokenizer_table.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace strata {

struct PreTokenizer::Regex {
    pcre2_code* code = nullptr;
    ~Regex() {
        if (code) pcre2_code_free(code);
    }
};

std::vector<std::string> pre_tokenizer_regexes(const TokenizerData& data) {
    if (!data.pre_regexes.empty()) return data.pre_regexes;
    const PreTokenizerSpec* spec = find_pre_tokenizer(data.pre);
    if (!spec)
        fail("pre-tokenizer '" + data.pre + "' is not supported (known: " + pre_tokenizer_names() +
             ")");
    return {spec->regexes.begin(), spec->regexes.end()};
}

PreTokenizer::PreTokenizer(const std::vector<std::string>& regexes) {
    for (const std::string& p : regexes) {
        auto r = std::make_unique<Regex>();
        int err = 0;
        PCRE2_SIZE off = 0;
        // MATCH_INVALID_UTF: invalid UTF-8 in the input never fails a match; those bytes fall
        // into gaps and are encoded byte by byte.
        r->code =
            pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.data()), p.size(),
                          PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY,
                          &err, &off, nullptr);
        if (!r->code) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            fail("pre-tokenizer regex /" + p + "/ does not compile: " +
                 reinterpret_cast<const char*>(msg) + " at offset " + std::to_string(off));
        }
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
                if (rc == PCRE2_ERROR_NOMATCH) break;
                if (rc < 0) { // a match limit hit by a pathological regex from a tokenizer.json
                    pcre2_match_data_free(md);
                    fail("pre-tokenizer regex matching failed (PCRE2 error " + std::to_string(rc) +
                         ")");
                }
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
