// The validating reader of `.strata` files. The file is mapped read-only and used in place;
// every offset, size, shape and count is checked against the mapping and the hyperparameters
// before any tensor pointer is handed out.
#pragma once

#include "formats/mapped_file.h"
#include "formats/metadata.h"
#include "formats/model_config.h"
#include "formats/strata_file.h"

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace strata {

class StrataFile {
  public:
    // Opens and validates a file; throws strata::Error naming the file and the problem.
    static StrataFile open(const std::string& path);
    // Validates bytes already in memory (they must outlive the result); `name` is for messages.
    static StrataFile from_memory(const uint8_t* data, size_t size, const std::string& name);

    const Metadata& metadata() const { return meta_; }
    const ModelConfig& config() const { return config_; }
    const TokenizerData& tokenizer() const { return tokenizer_; }
    const std::vector<TensorEntry>& tensors() const { return tensors_; }
    uint64_t file_bytes() const { return size_; }
    // Identifies the model's exact contents: the metadata/directory checksum (which covers
    // every tensor's checksum) mixed with the file size.
    uint64_t fingerprint() const { return meta_checksum_ ^ (size_ * 0x9E3779B97F4A7C15ull); }
    uint32_t version() const { return version_; }

    // nullptr when absent.
    const TensorEntry* find(const std::string& name) const;
    // The tensor's bytes inside the mapping.
    const uint8_t* data(const TensorEntry& t) const { return base_ + data_offset_ + t.offset; }

    // Recomputes every checksum; returns one line per problem (empty when the file is intact).
    std::vector<std::string> verify_checksums() const;

  private:
    void parse(const std::string& name);

    std::shared_ptr<MappedFile> mapping_;
    const uint8_t* base_ = nullptr;
    uint64_t size_ = 0;
    uint32_t version_ = 0;
    uint64_t meta_offset_ = 0, dir_end_ = 0, data_offset_ = 0;
    uint64_t meta_checksum_ = 0;
    Metadata meta_;
    ModelConfig config_;
    TokenizerData tokenizer_;
    std::vector<TensorEntry> tensors_;
    std::unordered_map<std::string, size_t> by_name_;
};

// Checks that `tensors` are exactly the tensors `config` calls for, with the right shapes;
// float-only tensors (norms, biases) must be F32. Throws strata::Error naming the first problem.
void validate_model_tensors(const ModelConfig& config, const std::vector<TensorEntry>& tensors);

std::string shape_string(const std::vector<uint64_t>& shape);

} // namespace strata
