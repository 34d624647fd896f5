#include "runtime/tokenizer.h"

#include "formats/error.h"

#include <queue>

namespace strata {

namespace {
const std::string kSpace = "\xE2\x96\x81"; // U+2581, SentencePiece's visible space

size_t utf8_len(unsigned char c) {
    if (c < 0x80) return 1;
    if ((c >> 5) == 6) return 2;
    if ((c >> 4) == 14) return 3;
    if ((c >> 3) == 30) return 4;
    return 1; // invalid lead byte: treat as one byte (it will take the byte fallback)
}
} // namespace

Tokenizer::Tokenizer(const TokenizerData& data) : data_(data) {
    for (size_t i = 0; i < data.tokens.size(); i++) id_of_.emplace(data.tokens[i], int32_t(i));
    static const char* hex = "0123456789ABCDEF";
    for (int b = 0; b < 256; b++) {
        const std::string name = std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
        auto it = id_of_.find(name);
        byte_token_[b] = it == id_of_.end() ? -1 : it->second;
    }
}

bool Tokenizer::is_control(int32_t id) const {
    return id >= 0 && size_t(id) < data_.types.size() &&
           data_.types[size_t(id)] == int32_t(TokenType::Control);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special) const {
    if (data_.model != "spm")
        fail("byte-level BPE tokenization (" + data_.pre +
             ") is not built yet; SentencePiece-style models work");
    std::vector<int32_t> out;
    if (add_special && data_.add_bos && data_.bos_id >= 0) out.push_back(data_.bos_id);
    if (text.empty()) return out;
    // Normalize: dummy prefix, spaces to U+2581.
    std::string norm = kSpace;
    for (char ch : text) norm += ch == ' ' ? kSpace : std::string(1, ch);

    // Symbols are UTF-8 characters, kept as a linked list while merging.
    struct Symbol {
        size_t start, len;
        int prev, next;
    };
    std::vector<Symbol> sym;
    for (size_t i = 0; i < norm.size();) {
        size_t n = std::min(utf8_len(static_cast<unsigned char>(norm[i])), norm.size() - i);
        sym.push_back({i, n, int(sym.size()) - 1, int(sym.size()) + 1});
        i += n;
    }
    sym.back().next = -1;
    struct Pair {
        float score;
        int left;
        size_t len;
        bool operator<(const Pair& o) const {
            return score < o.score || (score == o.score && left > o.left);
        }
    };
    std::priority_queue<Pair> queue;
    auto try_pair = [&](int left) {
        if (left < 0 || sym[size_t(left)].next < 0) return;
        const Symbol& a = sym[size_t(left)];
        const Symbol& b = sym[size_t(a.next)];
        auto it = id_of_.find(std::string_view(norm).substr(a.start, a.len + b.len));
        if (it == id_of_.end()) return;
        const float score = data_.scores.empty() ? 0.0f : data_.scores[size_t(it->second)];
        queue.push({score, left, a.len + b.len});
    };
    for (int i = 0; i + 1 < int(sym.size()); i++) try_pair(i);
    while (!queue.empty()) {
        const Pair p = queue.top();
        queue.pop();
        Symbol& a = sym[size_t(p.left)];
        if (a.len == 0 || a.next < 0 || a.len + sym[size_t(a.next)].len != p.len) continue; // stale
        Symbol& b = sym[size_t(a.next)];
        a.len += b.len;
        b.len = 0;
        a.next = b.next;
        if (a.next >= 0) sym[size_t(a.next)].prev = p.left;
        try_pair(a.prev);
        try_pair(p.left);
    }
    for (int i = 0; i >= 0 && i < int(sym.size()); i = sym[size_t(i)].next) {
        const Symbol& s = sym[size_t(i)];
        auto it = id_of_.find(std::string_view(norm).substr(s.start, s.len));
        if (it != id_of_.end()) {
            out.push_back(it->second);
            continue;
        }
        for (size_t j = 0; j < s.len; j++) { // byte fallback
            const int32_t b = byte_token_[static_cast<unsigned char>(norm[s.start + j])];
            if (b >= 0)
                out.push_back(b);
            else if (data_.unk_id >= 0)
                out.push_back(data_.unk_id);
        }
    }
    return out;
}

std::string Tokenizer::piece(int32_t id, bool after_bos) const {
    if (id < 0 || size_t(id) >= data_.tokens.size()) return "";
    if (is_control(id)) return "";
    const std::string& p = data_.tokens[size_t(id)];
    if (size_t(id) < data_.types.size() && data_.types[size_t(id)] == int32_t(TokenType::Byte) &&
        p.size() == 6) {
        return std::string(1, char(std::stoi(p.substr(3, 2), nullptr, 16)));
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
    if (after_bos && !s.empty() && s[0] == ' ') s.erase(0, 1);
    return s;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
    std::string s;
    for (size_t i = 0; i < ids.size(); i++) s += piece(ids[i], i > 0 && ids[i - 1] == data_.bos_id);
    return s;
}

} // namespace strata

namespace strata {

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
    std::string out = pending_.substr(0, cut);
    pending_.erase(0, cut);
    return out;
}

std::string StreamDecoder::flush() {
    std::string out;
    out.swap(pending_);
    return out;
}

} // namespace strata
