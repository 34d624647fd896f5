// Shared tokenizer machinery (special tokens, dispatch, decoding) and the SentencePiece-style
// BPE. Byte-level BPE lives in tokenizer_bpe.cpp.
#include "runtime/tokenizer.h"

#include "core/error.h"
#include "runtime/pair_merge.h"
#include "runtime/pre_tokenizer.h"

#include <algorithm>

namespace strata {

namespace {
const std::string kSpace = "\xE2\x96\x81"; // U+2581, SentencePiece's visible space
} // namespace

size_t utf8_decode(std::string_view s, size_t i, uint32_t* cp) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) {
        *cp = 0xFFFD;
        return 1;
    }
    uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len; k++) {
        const unsigned char cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = (v << 6) | (cc & 0x3F);
    }
    *cp = v;
    return len;
}

std::string utf8_encode(uint32_t cp) {
    std::string s;
    if (cp < 0x80)
        s += char(cp);
    else if (cp < 0x800)
        s += char(0xC0 | (cp >> 6)), s += char(0x80 | (cp & 0x3F));
    else if (cp < 0x10000)
        s += char(0xE0 | (cp >> 12)), s += char(0x80 | ((cp >> 6) & 0x3F)),
            s += char(0x80 | (cp & 0x3F));
    else
        s += char(0xF0 | (cp >> 18)), s += char(0x80 | ((cp >> 12) & 0x3F)),
            s += char(0x80 | ((cp >> 6) & 0x3F)), s += char(0x80 | (cp & 0x3F));
    return s;
}

Tokenizer::Tokenizer(const TokenizerData& data) : data_(data), spm_(data.model == "spm") {
    if (data.model != "spm" && data.model != "bpe")
        fail("unknown tokenizer model '" + data.model + "'");
    for (size_t i = 0; i < data.tokens.size(); i++) id_of_.emplace(data.tokens[i], int32_t(i));
    static const char* hex = "0123456789ABCDEF";
    for (int b = 0; b < 256; b++) {
        const char name[7] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0};
        auto it = id_of_.find(std::string_view(name, 6));
        byte_token_[b] = it == id_of_.end() ? -1 : it->second;
    }
    // Special and added tokens, matched in text longest first.
    std::vector<uint8_t> strip(data.tokens.size(), 0); // bit 0: lstrip, bit 1: rstrip
    for (int32_t id : data.lstrip_ids) strip[size_t(id)] |= 1;
    for (int32_t id : data.rstrip_ids) strip[size_t(id)] |= 2;
    for (size_t i = 0; i < data.types.size(); i++) {
        const int32_t t = data.types[i];
        if ((t == int32_t(TokenType::Control) || t == int32_t(TokenType::UserDefined) ||
             t == int32_t(TokenType::Unknown)) &&
            !data.tokens[i].empty())
            specials_.push_back({data.tokens[i], int32_t(i), t == int32_t(TokenType::UserDefined),
                                 (strip[i] & 1) != 0, (strip[i] & 2) != 0});
    }
    std::stable_sort(specials_.begin(), specials_.end(), [](const Special& a, const Special& b) {
        return a.text.size() > b.text.size();
    });
    for (const Special& sp : specials_)
        special_first_byte_[static_cast<unsigned char>(sp.text[0])] = true;
    if (spm_) {
        scores_ = data.scores;
        if (scores_.empty() && !data.merges.empty()) { // HF tokenizer.json: merge rank as score
            scores_.assign(data.tokens.size(), -1e9f);
            for (size_t r = 0; r < data.merges.size(); r++) {
                const std::string& m = data.merges[r];
                const size_t sp = m.find(' ');
                if (sp == std::string::npos) continue;
                auto it = id_of_.find(m.substr(0, sp) + m.substr(sp + 1));
                if (it != id_of_.end())
                    scores_[size_t(it->second)] = std::max(scores_[size_t(it->second)], -float(r));
            }
        }
        return;
    }
    // Byte-level BPE: GPT-2's byte -> printable character map.
    int next = 256;
    for (int b = 0; b < 256; b++) {
        const bool printable =
            (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        const uint32_t cp = printable ? uint32_t(b) : uint32_t(next++);
        byte_char_[b] = utf8_encode(cp);
        char_byte_[cp] = uint8_t(b);
    }
    for (size_t r = 0; r < data.merges.size(); r++) merge_rank_.emplace(data.merges[r], int32_t(r));
    pre_ = std::make_unique<PreTokenizer>(pre_tokenizer_regexes(data));
    ignore_merges_ = data.ignore_merges;
}

Tokenizer::~Tokenizer() = default;

int32_t Tokenizer::find(std::string_view text) const {
    auto it = id_of_.find(text);
    return it == id_of_.end() ? -1 : it->second;
}

bool Tokenizer::is_control(int32_t id) const {
    return id >= 0 && size_t(id) < data_.types.size() &&
           data_.types[size_t(id)] == int32_t(TokenType::Control);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
    std::vector<int32_t> out;
    if (add_special && data_.add_bos && data_.bos_id >= 0) out.push_back(data_.bos_id);
    // Split the text at special tokens (longest match at each position).
    auto is_space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
    size_t start = 0, i = 0;
    bool first = true;
    while (i < text.size()) {
        if (!special_first_byte_[static_cast<unsigned char>(text[i])]) {
            i++;
            continue;
        }
        const Special* hit = nullptr;
        for (const Special& sp : specials_)
            if ((parse_special || sp.always) && text.compare(i, sp.text.size(), sp.text) == 0) {
                hit = &sp;
                break;
            }
        if (!hit) {
            i++;
            continue;
        }
        size_t left_end = i;
        if (hit->lstrip)
            while (left_end > start && is_space(text[left_end - 1])) left_end--;
        if (left_end > start) encode_text(text.substr(start, left_end - start), first, out);
        out.push_back(hit->id);
        first = spm_; // SentencePiece adds the dummy prefix again after a special token
        i += hit->text.size();
        if (hit->rstrip)
            while (i < text.size() && is_space(text[i])) i++;
        start = i;
    }
    if (start < text.size()) encode_text(text.substr(start), first, out);
    if (add_special && data_.add_eos && data_.eos_id >= 0) out.push_back(data_.eos_id);
    return out;
}

void Tokenizer::encode_text(std::string_view text, bool first_fragment,
                            std::vector<int32_t>& out) const {
    if (spm_) {
        encode_spm(text, first_fragment, out);
        return;
    }
    for (const std::string_view word : pre_->split(text)) encode_bpe_word(word, out);
}

void Tokenizer::encode_spm(std::string_view text, bool add_prefix,
                           std::vector<int32_t>& out) const {
    if (data_.remove_extra_whitespaces) { // SentencePiece: no spaces at either end, runs as one
        while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
        while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
        if (text.empty()) return; // all spaces: nothing, not even the dummy prefix
    }
    std::string norm = add_prefix && data_.add_space_prefix ? kSpace : "";
    norm.reserve(norm.size() + text.size() * 2);
    for (size_t i = 0; i < text.size(); i++) {
        if (text[i] != ' ') {
            norm += text[i];
            continue;
        }
        if (data_.remove_extra_whitespaces && i > 0 && text[i - 1] == ' ') continue;
        norm += kSpace;
    }
    if (norm.empty()) return;
    // The best-scoring adjacent pair whose concatenation is a piece merges first.
    const std::string_view nv(norm);
    std::string joined;
    const auto pieces =
        merge_pairs(nv, [&](std::string_view a, std::string_view b) -> std::optional<float> {
            joined.assign(a).append(b);
            auto it = id_of_.find(joined);
            if (it == id_of_.end()) return std::nullopt;
            return scores_.empty() ? 0.0f : scores_[size_t(it->second)];
        });
    for (const auto& [start, len] : pieces) {
        auto it = id_of_.find(nv.substr(start, len));
        if (it != id_of_.end()) {
            out.push_back(it->second);
            continue;
        }
        for (size_t j = 0; j < len; j++) { // byte fallback
            const int32_t b = byte_token_[static_cast<unsigned char>(norm[start + j])];
            if (b >= 0)
                out.push_back(b);
            else if (data_.unk_id >= 0)
                out.push_back(data_.unk_id);
        }
    }
}

std::string Tokenizer::piece(int32_t id, bool after_bos) const {
    if (id < 0 || size_t(id) >= data_.tokens.size() || is_control(id)) return "";
    const std::string& p = data_.tokens[size_t(id)];
    const int32_t type =
        size_t(id) < data_.types.size() ? data_.types[size_t(id)] : int32_t(TokenType::Normal);
    if (type == int32_t(TokenType::UserDefined)) return p; // added tokens are literal text
    if (!spm_) {                                           // printable characters back to bytes
        std::string s;
        for (size_t i = 0; i < p.size();) {
            uint32_t cp;
            i += utf8_decode(p, i, &cp);
            auto it = char_byte_.find(cp);
            s += it != char_byte_.end() ? char(it->second) : '?';
        }
        return s;
    }
    if (type == int32_t(TokenType::Byte) && p.size() == 6 && p.compare(0, 3, "<0x") == 0) {
        auto digit = [](char c) {
            return c >= '0' && c <= '9'   ? c - '0'
                   : c >= 'A' && c <= 'F' ? c - 'A' + 10
                   : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                          : -1;
        };
        const int hi = digit(p[3]), lo = digit(p[4]);
        if (hi >= 0 && lo >= 0 && p[5] == '>') return std::string(1, char(hi * 16 + lo));
        // a byte token not spelled <0xNN> (a malformed vocabulary): its text, as any piece
    }
    std::string s;
    for (size_t i = 0; i < p.size();) {
        if (p.compare(i, 3, kSpace) == 0) {
            s += ' ';
            i += 3;
        } else {
            s += p[i++];
        }
    }
    // the dummy prefix, when the vocabulary adds one (Gemma's does not: a space is text)
    if (after_bos && data_.add_space_prefix && !s.empty() && s[0] == ' ') s.erase(0, 1);
    return s;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
    std::string s;
    for (size_t i = 0; i < ids.size(); i++)
        s += piece(ids[i], i == 0 || ids[i - 1] == data_.bos_id);
    return s;
}

std::string StreamDecoder::push(int32_t id) {
    pending_ += tok_.piece(id, prev_ == tok_.bos() || prev_ < 0);
    prev_ = id;
    // Emit up to the last complete character.
    size_t cut = pending_.size();
    for (size_t back = 1; back <= 4 && back <= pending_.size(); back++) {
        const unsigned char c = static_cast<unsigned char>(pending_[pending_.size() - back]);
        if ((c & 0xC0) == 0x80) continue; // continuation byte: look further back
        const size_t need = c < 0x80         ? 1
                            : (c >> 5) == 6  ? 2
                            : (c >> 4) == 14 ? 3
                            : (c >> 3) == 30 ? 4
                                             : 1;
        if (need > back) cut = pending_.size() - back; // the last character is incomplete
        break;
    }
    std::string out = valid_utf8(std::string_view(pending_).substr(0, cut));
    pending_.erase(0, cut);
    return out;
}

std::string StreamDecoder::flush() {
    std::string out = valid_utf8(pending_);
    pending_.clear();
    return out;
}

// Bytes that are not part of a well-formed character (a model may emit any byte tokens) become
// U+FFFD, so what a stream emits is always valid UTF-8.
std::string StreamDecoder::valid_utf8(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (size_t i = 0; i < bytes.size();) {
        uint32_t cp;
        const size_t n = utf8_decode(bytes, i, &cp);
        if (cp == 0xFFFD && n == 1)
            out += "\xEF\xBF\xBD";
        else
            out.append(bytes.substr(i, n));
        i += n;
    }
    return out;
}

} // namespace strata
