// The typed key/value block of a `.strata` file: hyperparameters, kv_source, tokenizer, chat
// template and provenance all live here under documented keys (docs/format.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace strata {

enum class MetaType : uint32_t {
    U32 = 1,
    I32 = 2,
    F32 = 3,
    U64 = 4,
    STR = 5,
    ARR_I32 = 6,
    ARR_F32 = 7,
    ARR_STR = 8,
};

using MetaValue = std::variant<uint32_t, int32_t, float, uint64_t, std::string,
                               std::vector<int32_t>, std::vector<float>, std::vector<std::string>>;

class Metadata {
  public:
    void set(const std::string& key, MetaValue v) { kv_[key] = std::move(v); }
    bool has(const std::string& key) const { return kv_.count(key) != 0; }

    // Typed getters: throw strata::Error naming the key when it is missing or of another type.
    uint32_t u32(const std::string& key) const;
    int32_t i32(const std::string& key) const;
    float f32(const std::string& key) const;
    uint64_t u64(const std::string& key) const;
    const std::string& str(const std::string& key) const;
    const std::vector<int32_t>& i32s(const std::string& key) const;
    const std::vector<float>& f32s(const std::string& key) const;
    const std::vector<std::string>& strs(const std::string& key) const;

    // Getters with a default for optional keys (still type-checked when present).
    uint32_t u32_or(const std::string& key, uint32_t dflt) const;
    int32_t i32_or(const std::string& key, int32_t dflt) const;
    float f32_or(const std::string& key, float dflt) const;
    std::string str_or(const std::string& key, const std::string& dflt) const;

    const std::map<std::string, MetaValue>& entries() const { return kv_; }

    // Binary encoding (docs/format.md, "Metadata block").
    std::vector<uint8_t> encode() const;
    // Decodes and validates untrusted bytes; throws strata::Error naming the problem.
    static Metadata decode(const uint8_t* data, size_t size);

  private:
    template <typename T> const T& get(const std::string& key, const char* type_name) const;
    std::map<std::string, MetaValue> kv_;
};

} // namespace strata
