// Byte-level BPE on one pre-tokenized word: bytes mapped to GPT-2's printable characters, then
// adjacent pairs merged by rank (lowest first, leftmost on ties) until no pair is a merge.
#include "runtime/pre_tokenizer.h"
#include "runtime/tokenizer.h"

#include <queue>

namespace strata {

void Tokenizer::encode_bpe_word(std::string_view word, std::vector<int32_t>& out) const {
    std::string mapped;
    for (unsigned char c : word) mapped += byte_char_[c];
    if (ignore_merges_) { // Llama 3: a word that is itself a token is taken whole
        auto it = id_of_.find(mapped);
        if (it != id_of_.end()) {
            out.push_back(it->second);
            return;
        }
    }
    struct Symbol {
        size_t start, len;
        int prev, next;
    };
    std::vector<Symbol> sym;
    for (size_t i = 0; i < mapped.size();) {
        uint32_t cp;
        const size_t n = utf8_decode(mapped, i, &cp);
        sym.push_back({i, n, int(sym.size()) - 1, int(sym.size()) + 1});
        i += n;
    }
    if (sym.empty()) return;
    sym.back().next = -1;
    struct Pair {
        int32_t rank;
        int left;
        size_t len;
        bool operator<(const Pair& o) const {
            return rank > o.rank || (rank == o.rank && left > o.left);
        }
    };
    std::priority_queue<Pair> queue;
    std::string key;
    auto try_pair = [&](int left) {
        if (left < 0 || sym[size_t(left)].next < 0) return;
        const Symbol& a = sym[size_t(left)];
        const Symbol& b = sym[size_t(a.next)];
        key.assign(mapped, a.start, a.len);
        key += ' ';
        key.append(mapped, b.start, b.len);
        auto it = merge_rank_.find(key);
        if (it != merge_rank_.end()) queue.push({it->second, left, a.len + b.len});
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
    for (int i = 0; i >= 0; i = sym[size_t(i)].next) {
        const Symbol& s = sym[size_t(i)];
        auto it = id_of_.find(std::string_view(mapped).substr(s.start, s.len));
        if (it != id_of_.end()) {
            out.push_back(it->second);
            continue;
        }
        // Not a token: its characters one by one (each byte's character is in any byte-level
        // vocab).
        for (size_t j = 0; j < s.len;) {
            uint32_t cp;
            const size_t n = utf8_decode(mapped, s.start + j, &cp);
            auto ct = id_of_.find(std::string_view(mapped).substr(s.start + j, n));
            if (ct != id_of_.end())
                out.push_back(ct->second);
            else if (data_.unk_id >= 0)
                out.push_back(data_.unk_id);
            j += n;
        }
    }
}

} // namespace strata
