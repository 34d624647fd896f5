// A validating reader of Hugging Face `.safetensors` files: an 8-byte little-endian header
// length, a JSON header naming each tensor's dtype, shape and byte range, then the data.
#pragma once

#include "core/dtype.h"
#include "formats/mapped_file.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace strata {

struct SafetensorsTensor {
    std::string dtype;           // as written: F32, F16, BF16, I64, ...
    std::vector<uint64_t> shape; // outermost first
    const uint8_t* data = nullptr;
    uint64_t bytes = 0;
};

class SafetensorsFile {
  public:
    static SafetensorsFile open(const std::string& path);
    // Parses bytes in memory (they must outlive the result).
    static SafetensorsFile from_memory(const uint8_t* data, size_t size, const std::string& name);

    const std::map<std::string, SafetensorsTensor>& tensors() const { return tensors_; }
    std::shared_ptr<MappedFile> mapping() const { return mapping_; }

  private:
    void parse(const uint8_t* data, size_t size, const std::string& name);
    std::shared_ptr<MappedFile> mapping_;
    std::map<std::string, SafetensorsTensor> tensors_;
};

// model.safetensors.index.json: tensor name -> shard file name. Validated (no paths).
std::map<std::string, std::string> parse_safetensors_index(const std::string& json_text,
                                                           const std::string& name);

} // namespace strata
