// The pre-tokenizer table (see pre_tokenizer_table.h). Facts, not code: which regexes each name
// stands for is what the models' own tokenizer.json files and llama.cpp's `tokenizer.ggml.pre`
// handling say. Regexes are written as the tokenizer.json files write them (PCRE2 runs them
// as they are: `(?i:...)`, `\p{Lu}`, possessive quantifiers); non-ASCII characters are spelled
// `\x{...}` so that no editor can turn one into a look-alike.
#include "formats/pre_tokenizer_table.h"

#include <cstdint>

namespace strata {

namespace {

using namespace pre_regex;

// Llama 3 (tiktoken cl100k-style): contractions, letters with one leading non-letter, numbers
// of at most 3 digits, punctuation runs with their newlines, newline runs, spaces.
constexpr std::string_view kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Qwen2: Llama 3's with single digits.
constexpr std::string_view kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Qwen3.5: Qwen2's with combining marks kept in words.
constexpr std::string_view kQwen35 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// GPT-4o (o200k): case-aware words with contractions attached.
constexpr std::string_view kGpt4o =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|)"
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|)"
    R"(\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Mistral's tekken: GPT-4o's without contractions, single digits.
constexpr std::string_view kTekken =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|)"
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|)"
    R"(\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Seed-Coder: Llama 3's shape, single digits, newlines never inside punctuation runs.
constexpr std::string_view kSeedCoder =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Ling (bailingmoe): possessive quantifiers, one newline at a time.
constexpr std::string_view kBailing =
    R"('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)";
// BLOOM: words with one leading space, split at whitespace and (Latin, CJK, Indic, Arabic)
// sentence punctuation.
constexpr std::string_view kBloom =
    R"( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{0964}\x{06D4}\x{060C})]+)";

// CJK: ideographs U+4E00-U+9FA5, U+0800-U+4E00 and Hangul syllables U+AC00-U+D7FF.
constexpr std::string_view kDeepseekCjk =
    R"([\x{4E00}-\x{9FA5}\x{0800}-\x{4E00}\x{AC00}-\x{D7FF}]+)";
// DeepSeek LLM: a word of cased letters (Latin, Greek, Cyrillic, Armenian, Georgian, Cherokee,
// letterlike symbols, ... : the Unicode Lu/Ll/Lt ranges below) with an optional leading space.
constexpr std::string_view kDeepseekLetters =
    R"(\s?[)"
    R"(\x{41}-\x{5A}\x{61}-\x{7A}\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA})"
    R"(\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377})"
    R"(\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5})"
    R"(\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5})"
    R"(\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B})"
    R"(\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D})"
    R"(\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D})"
    R"(\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4})"
    R"(\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC})"
    R"(\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115})"
    R"(\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139})"
    R"(\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B})"
    R"(\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B})"
    R"(\x{A722}-\x{A76F}\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF})"
    R"(\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A})"
    R"(\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2})"
    R"(\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943})"
    R"(]+)";
// ... and runs of ASCII / fullwidth punctuation, quotes U+2018-U+201F, U+3000-U+3002.
constexpr std::string_view kDeepseekPunct =
    R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)";
// DeepSeek V3: numbers of at most 3 digits, CJK + kana runs, then the word split.
constexpr std::string_view kDeepseekV3Cjk =
    R"([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)";
constexpr std::string_view kDeepseekV3Words =
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|)"
    R"( ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

const std::vector<PreTokenizerSpec> kTable = {
    // GPT-2's byte-level split, used as is by many families.
    {{"gpt-2", "default", "gpt2", "phi-2", "mpt", "olmo", "jais", "gigachat", "a.x-4.0", "mellum",
      "exaone4", "trillion", "granite-docling"},
     {kGpt2}},
    {{"llama3", "llama-bpe", "llama-v3", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"},
     {kLlama3},
     /*ignore_merges=*/true,
     /*add_bos=*/true},
    {{"dbrx", "smaug-bpe"}, {kLlama3}},
    {{"qwen2", "stablelm2", "deepseek-r1-qwen", "megrez", "hunyuan", "kormo", "grok-2",
      "solar-open"},
     {kQwen2}},
    {{"qwen35"}, {kQwen35}},
    // Digits one by one, then GPT-2's split.
    {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2"},
     {kDigit, kGpt2}},
    // Punctuation runs, GPT-2's split, then numbers cut into groups of 3 digits.
    {{"falcon"}, {kPunctuationRun, kGpt2, "[0-9][0-9][0-9]"}},
    {{"deepseek-coder"}, {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kDeepseekCjk, kDigit}},
    {{"deepseek-llm"},
     {"[\r\n]", kDeepseekLetters, kDeepseekPunct, R"(\s+$)", kDeepseekCjk, kDigits}},
    {{"deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4"},
     {R"(\p{N}{1,3})", kDeepseekV3Cjk, kDeepseekV3Words}},
    {{"gpt-4o", "llama4", "kanana2", "minimax-m2"}, {kGpt4o}},
    // Cohere's Tiny Aya / Command A: numbers cut into groups of 3 from the right, then GPT-4o's.
    {{"tiny_aya", "cohere2moe"}, {R"(\d{1,3}(?=(?:\d{3})*\b))", kGpt4o}},
    {{"tekken"}, {kTekken}, /*ignore_merges=*/true, /*add_bos=*/true},
    {{"seed-coder"}, {kSeedCoder}},
    {{"bailingmoe", "bailingmoe2", "llada-moe"}, {kBailing}},
    {{"bloom", "poro-chat", "gpt3-finnish"}, {kBloom}},
    {{"viking"}, {kBloom, kDigit}},
};

// A regex with \x{...}, \r, \n and \t escapes written as the characters they stand for, so that
// a tokenizer.json spelling them literally compares equal to the table.
std::string unescape(std::string_view r) {
    std::string out;
    for (size_t i = 0; i < r.size(); i++) {
        if (r[i] != '\\' || i + 1 >= r.size()) {
            out += r[i];
            continue;
        }
        const char c = r[i + 1];
        const size_t close = r.find('}', i);
        if (c == 'x' && i + 2 < r.size() && r[i + 2] == '{' && close != std::string_view::npos &&
            close - i <= 9) {
            uint32_t cp = 0;
            for (size_t k = i + 3; k < close; k++) {
                const char h = r[k];
                cp = cp * 16 + uint32_t(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
            }
            if (cp < 0x80) {
                out += char(cp);
            } else if (cp < 0x800) {
                out += char(0xC0 | (cp >> 6)), out += char(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                out += char(0xE0 | (cp >> 12)), out += char(0x80 | ((cp >> 6) & 0x3F));
                out += char(0x80 | (cp & 0x3F));
            } else {
                out += char(0xF0 | (cp >> 18)), out += char(0x80 | ((cp >> 12) & 0x3F));
                out += char(0x80 | ((cp >> 6) & 0x3F)), out += char(0x80 | (cp & 0x3F));
            }
            i = close;
        } else if (c == 'r' || c == 'n' || c == 't') {
            out += c == 'r' ? '\r' : c == 'n' ? '\n' : '\t';
            i++;
        } else { // any other escape stays as written
            out += r[i], out += c;
            i++;
        }
    }
    return out;
}

} // namespace

const std::vector<PreTokenizerSpec>& pre_tokenizer_table() { return kTable; }

const PreTokenizerSpec* find_pre_tokenizer(std::string_view name) {
    for (const PreTokenizerSpec& s : kTable)
        for (std::string_view n : s.names)
            if (n == name) return &s;
    return nullptr;
}

const PreTokenizerSpec* find_pre_tokenizer(const std::vector<std::string>& regexes) {
    for (const PreTokenizerSpec& s : kTable) {
        if (s.regexes.size() != regexes.size()) continue;
        bool same = true;
        for (size_t i = 0; i < regexes.size() && same; i++)
            same = s.regexes[i] == regexes[i] || unescape(s.regexes[i]) == unescape(regexes[i]);
        if (same) return &s;
    }
    return nullptr;
}

std::string pre_tokenizer_names() {
    std::string out;
    for (const PreTokenizerSpec& s : kTable)
        for (std::string_view n : s.names) {
            if (!out.empty()) out += ", ";
            out += n;
        }
    return out;
}

} // namespace strata
