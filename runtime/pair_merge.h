// The merge loop both BPE flavours share: a text split into UTF-8 characters, then the adjacent
// pair with the best priority merged repeatedly (leftmost first on ties) until no adjacent pair
// has one. SentencePiece-style BPE ranks pairs by the merged piece's score, byte-level BPE by
// its merge rank.
#pragma once

#include <cstddef>
#include <optional>
#include <queue>
#include <string_view>
#include <utility>
#include <vector>

namespace strata {

size_t utf8_decode(std::string_view s, size_t i, uint32_t* cp);

// `priority(left, right)` gives the priority of merging two adjacent pieces (higher first), or
// nullopt when they do not merge. Returns the final pieces as (offset, length) in `text`.
template <typename Priority>
std::vector<std::pair<size_t, size_t>> merge_pairs(std::string_view text, Priority&& priority) {
    struct Symbol {
        size_t start, len;
        int prev, next;
    };
    std::vector<Symbol> sym;
    for (size_t i = 0; i < text.size();) {
        uint32_t cp;
        const size_t n = utf8_decode(text, i, &cp);
        sym.push_back({i, n, int(sym.size()) - 1, int(sym.size()) + 1});
        i += n;
    }
    std::vector<std::pair<size_t, size_t>> out;
    if (sym.empty()) return out;
    sym.back().next = -1;
    struct Pair {
        float priority;
        int left;
        size_t len;
        bool operator<(const Pair& o) const {
            return priority < o.priority || (priority == o.priority && left > o.left);
        }
    };
    std::priority_queue<Pair> queue;
    auto try_pair = [&](int left) {
        if (left < 0 || sym[size_t(left)].next < 0) return;
        const Symbol& a = sym[size_t(left)];
        const Symbol& b = sym[size_t(a.next)];
        if (const std::optional<float> p =
                priority(text.substr(a.start, a.len), text.substr(b.start, b.len)))
            queue.push({*p, left, a.len + b.len});
    };
    for (int i = 0; i + 1 < int(sym.size()); i++) try_pair(i);
    while (!queue.empty()) {
        const Pair p = queue.top();
        queue.pop();
        Symbol& a = sym[size_t(p.left)];
        if (a.len == 0 || a.next < 0 || a.len + sym[size_t(a.next)].len != p.len)
            continue; // stale entry
        Symbol& b = sym[size_t(a.next)];
        a.len += b.len;
        b.len = 0;
        a.next = b.next;
        if (a.next >= 0) sym[size_t(a.next)].prev = p.left;
        try_pair(a.prev);
        try_pair(p.left);
    }
    for (int i = 0; i >= 0; i = sym[size_t(i)].next)
        out.push_back({sym[size_t(i)].start, sym[size_t(i)].len});
    return out;
}

} // namespace strata
