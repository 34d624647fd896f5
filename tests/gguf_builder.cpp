#include "tests/gguf_builder.h"

#include <cstring>

namespace strata::test {

namespace {
template <typename T> void put(std::vector<uint8_t>& b, T v) {
    size_t n = b.size();
    b.resize(n + sizeof(T));
    std::memcpy(b.data() + n, &v, sizeof(T));
}
void put_str(std::vector<uint8_t>& b, const std::string& s) {
    put<uint64_t>(b, s.size());
    b.insert(b.end(), s.begin(), s.end());
}
} // namespace

void GgufBuilder::kv_u32(const std::string& k, uint32_t v) {
    put_str(kv_, k), put<uint32_t>(kv_, 4), put(kv_, v), n_kv_++;
}
void GgufBuilder::kv_f32(const std::string& k, float v) {
    put_str(kv_, k), put<uint32_t>(kv_, 6), put(kv_, v), n_kv_++;
}
void GgufBuilder::kv_bool(const std::string& k, bool v) {
    put_str(kv_, k), put<uint32_t>(kv_, 7), put<uint8_t>(kv_, v), n_kv_++;
}
void GgufBuilder::kv_str(const std::string& k, const std::string& v) {
    put_str(kv_, k), put<uint32_t>(kv_, 8), put_str(kv_, v), n_kv_++;
}
void GgufBuilder::kv_strs(const std::string& k, const std::vector<std::string>& v) {
    put_str(kv_, k), put<uint32_t>(kv_, 9), put<uint32_t>(kv_, 8), put<uint64_t>(kv_, v.size());
    for (const auto& s : v) put_str(kv_, s);
    n_kv_++;
}
void GgufBuilder::kv_f32s(const std::string& k, const std::vector<float>& v) {
    put_str(kv_, k), put<uint32_t>(kv_, 9), put<uint32_t>(kv_, 6), put<uint64_t>(kv_, v.size());
    for (float x : v) put(kv_, x);
    n_kv_++;
}
void GgufBuilder::kv_i32s(const std::string& k, const std::vector<int32_t>& v) {
    put_str(kv_, k), put<uint32_t>(kv_, 9), put<uint32_t>(kv_, 5), put<uint64_t>(kv_, v.size());
    for (int32_t x : v) put(kv_, x);
    n_kv_++;
}
void GgufBuilder::tensor(const std::string& name, uint32_t type, std::vector<uint64_t> ne,
                         std::vector<uint8_t> data) {
    tensors_.push_back({name, type, std::move(ne), std::move(data)});
}

std::vector<uint8_t> GgufBuilder::build(uint32_t version) const {
    std::vector<uint8_t> b;
    put<uint32_t>(b, 0x46554747);
    put<uint32_t>(b, version);
    put<uint64_t>(b, tensors_.size());
    put<uint64_t>(b, n_kv_);
    b.insert(b.end(), kv_.begin(), kv_.end());
    offset_fields_.clear();
    uint64_t offset = 0;
    for (const auto& t : tensors_) {
        put_str(b, t.name);
        put<uint32_t>(b, uint32_t(t.ne.size()));
        for (uint64_t n : t.ne) put(b, n);
        put(b, t.type);
        offset_fields_.push_back(b.size());
        put(b, offset);
        offset += (t.data.size() + 31) / 32 * 32;
    }
    b.resize((b.size() + 31) / 32 * 32, 0);
    for (const auto& t : tensors_) {
        b.insert(b.end(), t.data.begin(), t.data.end());
        b.resize((b.size() + 31) / 32 * 32, 0);
    }
    return b;
}

GgufBuilder tiny_llama_gguf() {
    const uint32_t dim = 32, ff = 64, vocab = 8, kv_dim = 16;
    GgufBuilder g;
    g.kv_str("general.architecture", "llama");
    g.kv_str("general.name", "tiny");
    g.kv_u32("llama.context_length", 64);
    g.kv_u32("llama.embedding_length", dim);
    g.kv_u32("llama.block_count", 1);
    g.kv_u32("llama.feed_forward_length", ff);
    g.kv_u32("llama.attention.head_count", 2);
    g.kv_u32("llama.attention.head_count_kv", 1);
    g.kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    g.kv_str("tokenizer.ggml.model", "llama");
    g.kv_strs("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>",
                                        "\xE2\x96\x81"
                                        "a",
                                        "b", "c",
                                        "\xE2\x96\x81"
                                        "ab",
                                        "bc"});
    g.kv_f32s("tokenizer.ggml.scores", {0, 0, 0, -1, -2, -3, -4, -5});
    g.kv_i32s("tokenizer.ggml.token_type", {2, 3, 3, 1, 1, 1, 1, 1});
    g.kv_u32("tokenizer.ggml.bos_token_id", 1);
    g.kv_u32("tokenizer.ggml.eos_token_id", 2);
    g.kv_bool("tokenizer.ggml.add_bos_token", true);
    uint32_t seed = 7;
    auto floats = [&](size_t n) {
        std::vector<uint8_t> d(n * 4);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1664525u + 1013904223u;
            float v = float(int32_t(seed >> 8) % 1000) / 1000.0f;
            std::memcpy(&d[i * 4], &v, 4);
        }
        return d;
    };
    g.tensor("token_embd.weight", 0, {dim, vocab}, floats(dim * vocab));
    g.tensor("blk.0.attn_norm.weight", 0, {dim}, floats(dim));
    g.tensor("blk.0.attn_q.weight", 0, {dim, dim}, floats(dim * dim));
    g.tensor("blk.0.attn_k.weight", 0, {dim, kv_dim}, floats(dim * kv_dim));
    g.tensor("blk.0.attn_v.weight", 0, {dim, kv_dim}, floats(dim * kv_dim));
    g.tensor("blk.0.attn_output.weight", 0, {dim, dim}, floats(dim * dim));
    g.tensor("blk.0.ffn_norm.weight", 0, {dim}, floats(dim));
    g.tensor("blk.0.ffn_gate.weight", 0, {dim, ff}, floats(dim * ff));
    g.tensor("blk.0.ffn_up.weight", 0, {dim, ff}, floats(dim * ff));
    g.tensor("blk.0.ffn_down.weight", 0, {ff, dim}, floats(ff * dim));
    g.tensor("output_norm.weight", 0, {dim}, floats(dim));
    return g;
}

} // namespace strata::test
