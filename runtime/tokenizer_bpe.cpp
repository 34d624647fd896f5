// Byte-level BPE on one pre-tokenized word: bytes mapped to GPT-2's printable characters, then
// adjacent pairs merged by rank (lowest first, leftmost on ties) until no pair is a merge.
#include "runtime/pair_merge.h"
#include "runtime/pre_tokenizer.h"
#include "runtime/tokenizer.h"

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
    const std::string_view mv(mapped);
    std::string key;
    const auto pieces =
        merge_pairs(mv, [&](std::string_view a, std::string_view b) -> std::optional<float> {
            key.assign(a).append(1, ' ').append(b);
            auto it = merge_rank_.find(key);
            if (it == merge_rank_.end()) return std::nullopt;
            return -float(it->second); // lower rank merges first
        });
    for (const auto& [start, len] : pieces) {
        auto it = id_of_.find(mv.substr(start, len));
        if (it != id_of_.end()) {
            out.push_back(it->second);
            continue;
        }
        // Not a token: its characters one by one (each byte's character is in any byte-level
        // vocab).
        for (size_t j = 0; j < len;) {
            uint32_t cp;
            const size_t n = utf8_decode(mapped, start + j, &cp);
            auto ct = id_of_.find(mv.substr(start + j, n));
            if (ct != id_of_.end())
                out.push_back(ct->second);
            else if (data_.unk_id >= 0)
                out.push_back(data_.unk_id);
            j += n;
        }
    }
}

} // namespace strata
