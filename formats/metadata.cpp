#include "formats/metadata.h"

#include "formats/byte_reader.h"
#include "core/error.h"

#include <cstring>

namespace strata {

template <typename T> const T& Metadata::get(const std::string& key, const char* type_name) const {
    auto it = kv_.find(key);
    if (it == kv_.end()) fail("metadata key '" + key + "' is missing");
    const T* v = std::get_if<T>(&it->second);
    if (!v) fail("metadata key '" + key + "' is not of type " + type_name);
    return *v;
}

uint32_t Metadata::u32(const std::string& k) const { return get<uint32_t>(k, "u32"); }
int32_t Metadata::i32(const std::string& k) const { return get<int32_t>(k, "i32"); }
float Metadata::f32(const std::string& k) const { return get<float>(k, "f32"); }
uint64_t Metadata::u64(const std::string& k) const { return get<uint64_t>(k, "u64"); }
const std::string& Metadata::str(const std::string& k) const {
    return get<std::string>(k, "string");
}
const std::vector<int32_t>& Metadata::i32s(const std::string& k) const {
    return get<std::vector<int32_t>>(k, "i32 array");
}
const std::vector<float>& Metadata::f32s(const std::string& k) const {
    return get<std::vector<float>>(k, "f32 array");
}
const std::vector<std::string>& Metadata::strs(const std::string& k) const {
    return get<std::vector<std::string>>(k, "string array");
}
uint32_t Metadata::u32_or(const std::string& k, uint32_t d) const { return has(k) ? u32(k) : d; }
int32_t Metadata::i32_or(const std::string& k, int32_t d) const { return has(k) ? i32(k) : d; }
float Metadata::f32_or(const std::string& k, float d) const { return has(k) ? f32(k) : d; }
std::string Metadata::str_or(const std::string& k, const std::string& d) const {
    return has(k) ? str(k) : d;
}

namespace {

struct Out {
    std::vector<uint8_t> b;
    template <typename T> void put(T v) {
        size_t n = b.size();
        b.resize(n + sizeof(T));
        std::memcpy(b.data() + n, &v, sizeof(T));
    }
    void put_bytes(const void* p, size_t n) {
        const auto* c = static_cast<const uint8_t*>(p);
        b.insert(b.end(), c, c + n);
    }
    void put_str(const std::string& s) {
        put<uint32_t>(uint32_t(s.size()));
        put_bytes(s.data(), s.size());
    }
};

constexpr uint32_t kMaxKeyBytes = 256;

} // namespace

std::vector<uint8_t> Metadata::encode() const {
    Out o;
    o.put<uint32_t>(uint32_t(kv_.size()));
    for (const auto& [key, value] : kv_) {
        o.put_str(key);
        o.put<uint32_t>(uint32_t(value.index() + 1)); // variant order == MetaType order
        std::visit(
            [&](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, std::string>) {
                    o.put_str(v);
                } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
                    o.put<uint64_t>(v.size());
                    for (const auto& s : v) o.put_str(s);
                } else if constexpr (std::is_same_v<T, std::vector<int32_t>> ||
                                     std::is_same_v<T, std::vector<float>>) {
                    o.put<uint64_t>(v.size());
                    o.put_bytes(v.data(), v.size() * 4);
                } else {
                    o.put(v);
                }
            },
            value);
    }
    return o.b;
}

static std::string read_str(ByteReader& r, const char* field) {
    const uint32_t n = r.read<uint32_t>(field);
    return std::string(r.string(n, field));
}

Metadata Metadata::decode(const uint8_t* data, size_t size) {
    ByteReader r(data, size, "metadata block");
    Metadata m;
    const uint32_t count = r.read<uint32_t>("entry count");
    // Each entry takes at least 12 bytes (key length, type, smallest value).
    if (uint64_t(count) * 12 > r.remaining())
        fail("metadata block: entry count " + std::to_string(count) + " exceeds the block size");
    for (uint32_t i = 0; i < count; i++) {
        const uint32_t key_len = r.read<uint32_t>("key length");
        if (key_len == 0 || key_len > kMaxKeyBytes)
            fail("metadata block: key length " + std::to_string(key_len) + " at entry " +
                 std::to_string(i) + " is out of range");
        std::string key(r.string(key_len, "key"));
        if (m.kv_.count(key)) fail("metadata block: duplicate key '" + key + "'");
        const uint32_t type = r.read<uint32_t>("value type");
        auto array_count = [&](size_t elem_min) {
            const uint64_t n = r.read<uint64_t>("array length");
            if (n > r.remaining() / elem_min)
                fail("metadata key '" + key + "': array length " + std::to_string(n) +
                     " exceeds the block size");
            return size_t(n);
        };
        switch (MetaType(type)) {
        case MetaType::U32:
            m.kv_[key] = r.read<uint32_t>(key.c_str());
            break;
        case MetaType::I32:
            m.kv_[key] = r.read<int32_t>(key.c_str());
            break;
        case MetaType::F32:
            m.kv_[key] = r.read<float>(key.c_str());
            break;
        case MetaType::U64:
            m.kv_[key] = r.read<uint64_t>(key.c_str());
            break;
        case MetaType::STR:
            m.kv_[key] = read_str(r, key.c_str());
            break;
        case MetaType::ARR_I32: {
            std::vector<int32_t> v(array_count(4));
            const uint8_t* src = r.bytes(v.size() * 4, key.c_str());
            if (!v.empty()) std::memcpy(v.data(), src, v.size() * 4);
            m.kv_[key] = std::move(v);
            break;
        }
        case MetaType::ARR_F32: {
            std::vector<float> v(array_count(4));
            const uint8_t* src = r.bytes(v.size() * 4, key.c_str());
            if (!v.empty()) std::memcpy(v.data(), src, v.size() * 4);
            m.kv_[key] = std::move(v);
            break;
        }
        case MetaType::ARR_STR: {
            std::vector<std::string> v(array_count(4));
            for (auto& s : v) s = read_str(r, key.c_str());
            m.kv_[key] = std::move(v);
            break;
        }
        default:
            fail("metadata key '" + key + "' has unknown value type " + std::to_string(type));
        }
    }
    if (r.remaining() != 0)
        fail("metadata block: " + std::to_string(r.remaining()) + " unexpected trailing bytes");
    return m;
}

} // namespace strata
