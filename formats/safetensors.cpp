#include "formats/safetensors.h"

#include "core/error.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

namespace strata {

using json = nlohmann::json;

static size_t dtype_bytes(const std::string& d) {
    if (d == "F64" || d == "I64" || d == "U64") return 8;
    if (d == "F32" || d == "I32" || d == "U32") return 4;
    if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
    if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2") return 1;
    return 0;
}

SafetensorsFile SafetensorsFile::open(const std::string& path) {
    SafetensorsFile f;
    f.mapping_ = MappedFile::open(path);
    f.parse(f.mapping_->data(), f.mapping_->size(), path);
    return f;
}

SafetensorsFile SafetensorsFile::from_memory(const uint8_t* data, size_t size,
                                             const std::string& name) {
    SafetensorsFile f;
    f.parse(data, size, name);
    return f;
}

void SafetensorsFile::parse(const uint8_t* data, size_t size, const std::string& name) {
    try {
        if (size < 8)
            fail("file is " + std::to_string(size) + " bytes: truncated or not a safetensors file");
        uint64_t header_len;
        std::memcpy(&header_len, data, 8);
        if (header_len < 2 || header_len > size - 8 || header_len > (uint64_t(100) << 20))
            fail("header length " + std::to_string(header_len) + " does not fit the file (" +
                 std::to_string(size) + " bytes)");
        const uint8_t* payload = data + 8 + header_len;
        const uint64_t payload_bytes = size - 8 - header_len;
        json header =
            json::parse(data + 8, data + 8 + header_len, nullptr, /*allow_exceptions=*/false);
        if (!header.is_object()) fail("header is not a JSON object");
        std::vector<std::pair<uint64_t, uint64_t>> ranges;
        for (auto& [key, value] : header.items()) {
            if (key == "__metadata__") continue;
            if (!value.is_object() || !value.contains("dtype") || !value.contains("shape") ||
                !value.contains("data_offsets"))
                fail("tensor " + key + ": entry needs dtype, shape and data_offsets");
            const json& dt = value["dtype"];
            const json& shape = value["shape"];
            const json& offs = value["data_offsets"];
            if (!dt.is_string() || !shape.is_array() || !offs.is_array() || offs.size() != 2 ||
                !offs[0].is_number_unsigned() || !offs[1].is_number_unsigned())
                fail("tensor " + key + ": malformed dtype, shape or data_offsets");
            SafetensorsTensor t;
            t.dtype = dt.get<std::string>();
            const size_t es = dtype_bytes(t.dtype);
            if (es == 0) fail("tensor " + key + " has unknown dtype " + t.dtype);
            if (shape.size() > 8)
                fail("tensor " + key + " has rank " + std::to_string(shape.size()));
            uint64_t elements = 1;
            for (const json& d : shape) {
                if (!d.is_number_unsigned()) fail("tensor " + key + " has a non-integer dimension");
                const uint64_t n = d.get<uint64_t>();
                if (n > (uint64_t(1) << 40) || (n && elements > (uint64_t(1) << 40) / n))
                    fail("tensor " + key + " has an implausible shape");
                elements *= n;
                t.shape.push_back(n);
            }
            const uint64_t begin = offs[0].get<uint64_t>(), end = offs[1].get<uint64_t>();
            if (begin > end || end > payload_bytes)
                fail("tensor " + key + " byte range [" + std::to_string(begin) + ", " +
                     std::to_string(end) + ") lies outside the data (" +
                     std::to_string(payload_bytes) + " bytes; truncated?)");
            if (end - begin != elements * es)
                fail("tensor " + key + " byte range holds " + std::to_string(end - begin) +
                     " bytes but its shape and dtype need " + std::to_string(elements * es));
            t.data = payload + begin;
            t.bytes = end - begin;
            ranges.push_back({begin, end});
            tensors_.emplace(key, std::move(t));
        }
        std::sort(ranges.begin(), ranges.end());
        for (size_t i = 1; i < ranges.size(); i++)
            if (ranges[i - 1].second > ranges[i].first) fail("two tensors' byte ranges overlap");
    } catch (const Error& e) {
        throw Error(name + ": " + e.what());
    }
}

std::map<std::string, std::string> parse_safetensors_index(const std::string& text,
                                                           const std::string& name) {
    json j = json::parse(text, nullptr, false);
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
        fail(name + ": not a safetensors index (no weight_map object)");
    std::map<std::string, std::string> out;
    for (auto& [tensor, file] : j["weight_map"].items()) {
        if (!file.is_string())
            fail(name + ": weight_map entry for " + tensor + " is not a file name");
        std::string f = file.get<std::string>();
        if (f.empty() || f.find('/') != std::string::npos || f == "." || f == "..")
            fail(name + ": weight_map names '" + f +
                 "', which is not a file in the model directory");
        out[tensor] = f;
    }
    return out;
}

} // namespace strata
