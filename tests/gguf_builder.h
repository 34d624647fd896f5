// Builds small GGUF files in memory for tests: valid ones (a tiny llama) and, by editing the
// result, corrupt ones.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace strata::test {

class GgufBuilder {
  public:
    void kv_u32(const std::string& key, uint32_t v);
    void kv_f32(const std::string& key, float v);
    void kv_bool(const std::string& key, bool v);
    void kv_str(const std::string& key, const std::string& v);
    void kv_strs(const std::string& key, const std::vector<std::string>& v);
    void kv_f32s(const std::string& key, const std::vector<float>& v);
    void kv_i32s(const std::string& key, const std::vector<int32_t>& v);
    // ne: GGUF order (innermost first); data must hold the tensor's bytes.
    void tensor(const std::string& name, uint32_t ggml_type, std::vector<uint64_t> ne,
                std::vector<uint8_t> data);

    std::vector<uint8_t> build(uint32_t version = 3) const;
    // Byte position of tensor i's offset field in the last build (for corrupting it).
    size_t tensor_offset_field(size_t i) const { return offset_fields_.at(i); }

  private:
    std::vector<uint8_t> kv_;
    uint64_t n_kv_ = 0;
    struct T {
        std::string name;
        uint32_t type;
        std::vector<uint64_t> ne;
        std::vector<uint8_t> data;
    };
    std::vector<T> tensors_;
    mutable std::vector<size_t> offset_fields_;
};

// A complete tiny llama GGUF (dim 32, 1 layer, 2 heads, 1 KV head, vocab 8, F32 weights,
// SentencePiece-style vocabulary) with deterministic weights.
GgufBuilder tiny_llama_gguf();

} // namespace strata::test
