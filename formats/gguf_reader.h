// A validating reader of GGUF v2/v3 files (llama.cpp's format): metadata key/values and the
// tensor directory, with every count, length and offset checked against the file size.
#pragma once

#include "core/dtype.h"
#include "formats/mapped_file.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace strata {

struct GgufValue {
    enum Kind { Int, Float, Bool, String, Array } kind = Int;
    int64_t i = 0; // integer scalars (u64 values above INT64_MAX are rejected)
    double f = 0;
    bool b = false;
    std::string s;
    uint32_t elem_type = 0;        // GGUF type of array elements
    std::vector<std::string> strs; // string arrays
    std::vector<double> nums;      // numeric and bool arrays
};

struct GgufTensor {
    std::string name;
    uint32_t ggml_type = 0;
    DType type = DType::F32; // valid when `supported`
    bool supported = false;
    std::vector<uint64_t> shape; // outermost first (GGUF's ne reversed)
    uint64_t offset = 0;         // absolute, in the file
    uint64_t bytes = 0;
};

class GgufFile {
  public:
    // Opens and validates; throws strata::Error naming the file and the problem.
    static GgufFile open(const std::string& path);
    static GgufFile from_memory(const uint8_t* data, size_t size, const std::string& name);

    uint32_t version() const { return version_; }
    const std::map<std::string, GgufValue>& kv() const { return kv_; }
    const std::vector<GgufTensor>& tensors() const { return tensors_; }
    const uint8_t* data(const GgufTensor& t) const { return base_ + t.offset; }
    const GgufTensor* find(const std::string& name) const;
    const std::string& name() const { return name_; }
    std::shared_ptr<MappedFile> mapping() const { return mapping_; }

    const GgufValue* get(const std::string& key) const;
    std::optional<int64_t> get_int(const std::string& key) const;
    std::optional<double> get_float(const std::string& key) const;
    std::optional<std::string> get_string(const std::string& key) const;
    std::optional<bool> get_bool(const std::string& key) const;

  private:
    void parse();
    std::shared_ptr<MappedFile> mapping_;
    const uint8_t* base_ = nullptr;
    size_t size_ = 0;
    std::string name_;
    uint32_t version_ = 0;
    std::map<std::string, GgufValue> kv_;
    std::vector<GgufTensor> tensors_;
};


} // namespace strata
