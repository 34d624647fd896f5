#include "formats/gguf_reader.h"

#include "formats/byte_reader.h"
#include "core/error.h"
#include "formats/strata_reader.h"
#include "formats/strata_writer.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace strata {

namespace {

constexpr uint32_t kGgufMagic = 0x46554747; // "GGUF"
constexpr uint64_t kMaxStringBytes = 1u << 30;
constexpr uint32_t kMaxTensorDims = 4;

enum GgufType : uint32_t {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    BOOL = 7,
    STRING = 8,
    ARRAY = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
};

size_t scalar_size(uint32_t t) {
    switch (t) {
    case U8:
    case I8:
    case BOOL:
        return 1;
    case U16:
    case I16:
        return 2;
    case U32:
    case I32:
    case F32:
        return 4;
    case U64:
    case I64:
    case F64:
        return 8;
    default:
        return 0;
    }
}

std::string read_string(ByteReader& r, const char* field) {
    const uint64_t n = r.read<uint64_t>(field);
    if (n > kMaxStringBytes)
        fail(std::string(field) + " length " + std::to_string(n) + " is implausible");
    return std::string(r.string(n, field));
}

// Reads one scalar of GGUF type `t` as integer/float/bool into `v`.
void read_scalar(ByteReader& r, uint32_t t, GgufValue& v, const std::string& key) {
    const char* f = key.c_str();
    switch (t) {
    case U8:
        v.kind = GgufValue::Int;
        v.i = r.read<uint8_t>(f);
        break;
    case I8:
        v.kind = GgufValue::Int;
        v.i = r.read<int8_t>(f);
        break;
    case U16:
        v.kind = GgufValue::Int;
        v.i = r.read<uint16_t>(f);
        break;
    case I16:
        v.kind = GgufValue::Int;
        v.i = r.read<int16_t>(f);
        break;
    case U32:
        v.kind = GgufValue::Int;
        v.i = r.read<uint32_t>(f);
        break;
    case I32:
        v.kind = GgufValue::Int;
        v.i = r.read<int32_t>(f);
        break;
    case U64: {
        const uint64_t u = r.read<uint64_t>(f);
        v.kind = GgufValue::Int;
        v.i = u > uint64_t(INT64_MAX) ? -1 : int64_t(u);
        break;
    }
    case I64:
        v.kind = GgufValue::Int;
        v.i = r.read<int64_t>(f);
        break;
    case F32:
        v.kind = GgufValue::Float;
        v.f = r.read<float>(f);
        break;
    case F64:
        v.kind = GgufValue::Float;
        v.f = r.read<double>(f);
        break;
    case BOOL: {
        const uint8_t b = r.read<uint8_t>(f);
        if (b > 1) fail("metadata key '" + key + "': bool value " + std::to_string(b));
        v.kind = GgufValue::Bool;
        v.b = b != 0;
        break;
    }
    default:
        fail("metadata key '" + key + "' has unknown value type " + std::to_string(t));
    }
}

} // namespace

GgufFile GgufFile::open(const std::string& path) {
    GgufFile f;
    f.mapping_ = MappedFile::open(path);
    f.base_ = f.mapping_->data();
    f.size_ = f.mapping_->size();
    f.name_ = path;
    f.parse();
    return f;
}

GgufFile GgufFile::from_memory(const uint8_t* data, size_t size, const std::string& name) {
    GgufFile f;
    f.base_ = data;
    f.size_ = size;
    f.name_ = name;
    f.parse();
    return f;
}

const GgufTensor* GgufFile::find(const std::string& name) const {
    for (const auto& t : tensors_)
        if (t.name == name) return &t;
    return nullptr;
}

const GgufValue* GgufFile::get(const std::string& key) const {
    auto it = kv_.find(key);
    return it == kv_.end() ? nullptr : &it->second;
}

std::optional<int64_t> GgufFile::get_int(const std::string& key) const {
    const GgufValue* v = get(key);
    if (!v) return std::nullopt;
    if (v->kind == GgufValue::Int) return v->i;
    if (v->kind == GgufValue::Bool) return v->b;
    fail(name_ + ": metadata key '" + key + "' is not an integer");
}

std::optional<double> GgufFile::get_float(const std::string& key) const {
    const GgufValue* v = get(key);
    if (!v) return std::nullopt;
    if (v->kind == GgufValue::Float) return v->f;
    if (v->kind == GgufValue::Int) return double(v->i);
    fail(name_ + ": metadata key '" + key + "' is not a number");
}

std::optional<std::string> GgufFile::get_string(const std::string& key) const {
    const GgufValue* v = get(key);
    if (!v) return std::nullopt;
    if (v->kind != GgufValue::String) fail(name_ + ": metadata key '" + key + "' is not a string");
    return v->s;
}

std::optional<bool> GgufFile::get_bool(const std::string& key) const {
    const GgufValue* v = get(key);
    if (!v) return std::nullopt;
    if (v->kind == GgufValue::Bool) return v->b;
    if (v->kind == GgufValue::Int) return v->i != 0;
    fail(name_ + ": metadata key '" + key + "' is not a bool");
}

void GgufFile::parse() {
    try {
        ByteReader r(base_, size_, "GGUF file");
        if (size_ < 4)
            fail("file is " + std::to_string(size_) + " bytes: truncated or not a GGUF file");
        if (r.read<uint32_t>("magic") != kGgufMagic) fail("bad magic: not a GGUF file");
        version_ = r.read<uint32_t>("version");
        if (version_ == 1) fail("GGUF version 1 is not supported (re-export the model as GGUF v3)");
        if (version_ < 2 || version_ > 3)
            fail("GGUF version " + std::to_string(version_) + " is not supported (2 and 3 are)");
        const uint64_t n_tensors = r.read<uint64_t>("tensor count");
        const uint64_t n_kv = r.read<uint64_t>("metadata count");
        // A key/value takes at least 8+1+4+1 bytes, a tensor info at least 8+1+4+8+4+8.
        if (n_kv > r.remaining() / 14)
            fail("metadata count " + std::to_string(n_kv) + " cannot fit in the file");
        if (n_tensors > r.remaining() / 33)
            fail("tensor count " + std::to_string(n_tensors) + " cannot fit in the file");

        for (uint64_t i = 0; i < n_kv; i++) {
            std::string key = read_string(r, "metadata key");
            if (kv_.count(key)) fail("duplicate metadata key '" + key + "'");
            const uint32_t type = r.read<uint32_t>(key.c_str());
            GgufValue v;
            if (type == STRING) {
                v.kind = GgufValue::String;
                v.s = read_string(r, key.c_str());
            } else if (type == ARRAY) {
                v.kind = GgufValue::Array;
                v.elem_type = r.read<uint32_t>(key.c_str());
                const uint64_t count = r.read<uint64_t>(key.c_str());
                if (v.elem_type == STRING) {
                    if (count > r.remaining() / 8)
                        fail("metadata key '" + key + "': array of " + std::to_string(count) +
                             " strings cannot fit in the file");
                    v.strs.resize(size_t(count));
                    for (auto& s : v.strs) s = read_string(r, key.c_str());
                } else {
                    const size_t es = scalar_size(v.elem_type);
                    if (es == 0)
                        fail("metadata key '" + key + "': arrays of type " +
                             std::to_string(v.elem_type) + " are not supported");
                    if (count > r.remaining() / es)
                        fail("metadata key '" + key + "': array of " + std::to_string(count) +
                             " elements cannot fit in the file");
                    v.nums.resize(size_t(count));
                    GgufValue e;
                    for (auto& x : v.nums) {
                        read_scalar(r, v.elem_type, e, key);
                        x = e.kind == GgufValue::Float  ? e.f
                            : e.kind == GgufValue::Bool ? double(e.b)
                                                        : double(e.i);
                    }
                }
            } else {
                read_scalar(r, type, v, key);
            }
            kv_.emplace(std::move(key), std::move(v));
        }

        tensors_.resize(size_t(n_tensors));
        for (auto& t : tensors_) {
            t.name = read_string(r, "tensor name");
            if (t.name.empty() || t.name.size() > 256)
                fail("a tensor name has length " + std::to_string(t.name.size()));
            const uint32_t n_dims = r.read<uint32_t>("tensor rank");
            if (n_dims == 0 || n_dims > kMaxTensorDims)
                fail("tensor " + t.name + " has rank " + std::to_string(n_dims));
            t.shape.resize(n_dims);
            uint64_t elements = 1;
            for (uint32_t d = 0; d < n_dims; d++) {
                const uint64_t ne = r.read<uint64_t>("tensor shape");
                if (ne == 0 || ne > (uint64_t(1) << 40) || elements > (uint64_t(1) << 40) / ne)
                    fail("tensor " + t.name + " has an invalid dimension " + std::to_string(ne));
                elements *= ne;
                t.shape[n_dims - 1 - d] = ne; // GGUF lists the innermost dimension first
            }
            t.ggml_type = r.read<uint32_t>("tensor type");
            t.offset = r.read<uint64_t>("tensor offset");
            if (auto dt = dtype_from_id(t.ggml_type); dt && dtype_info(*dt).weight) {
                t.type = *dt;
                t.supported = true;
                t.bytes = tensor_bytes(t.type, t.shape);
                if (t.bytes == 0)
                    fail("tensor " + t.name + ": rows of " + std::to_string(t.shape.back()) +
                         " values are not whole " + dtype_name(t.type) + " blocks");
            }
        }

        uint64_t alignment = 32;
        if (auto a = get_int("general.alignment")) {
            if (*a <= 0 || *a > 65536 || (*a & (*a - 1)) != 0)
                fail("general.alignment = " + std::to_string(*a) + " is not a power of two");
            alignment = uint64_t(*a);
        }
        const uint64_t data_start = (r.offset() + alignment - 1) / alignment * alignment;
        if (data_start > size_ && !tensors_.empty())
            fail("tensor data region starts past the end of the file");

        std::vector<GgufTensor*> sorted;
        for (auto& t : tensors_) {
            if (t.offset % alignment != 0)
                fail("tensor " + t.name + " offset " + std::to_string(t.offset) +
                     " is not aligned to " + std::to_string(alignment));
            if (t.offset > size_ - data_start)
                fail("tensor " + t.name + " starts past the end of the file (truncated?)");
            t.offset += data_start;
            if (t.supported && t.bytes > size_ - t.offset)
                fail("tensor " + t.name + " (" + std::to_string(t.bytes) + " bytes at offset " +
                     std::to_string(t.offset) + ") extends past the end of the file (truncated?)");
            sorted.push_back(&t);
        }
        std::sort(sorted.begin(), sorted.end(),
                  [](auto* a, auto* b) { return a->offset < b->offset; });
        for (size_t i = 1; i < sorted.size(); i++)
            if (sorted[i - 1]->supported &&
                sorted[i - 1]->offset + sorted[i - 1]->bytes > sorted[i]->offset)
                fail("tensors " + sorted[i - 1]->name + " and " + sorted[i]->name + " overlap");
        std::set<std::string> names;
        for (const auto& t : tensors_)
            if (!names.insert(t.name).second) fail("tensor " + t.name + " appears twice");
    } catch (const Error& e) {
        throw Error(name_ + ": " + e.what());
    }
}

} // namespace strata
