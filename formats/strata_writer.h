// Writes a `.strata` file: metadata, directory, then each tensor produced straight into the
// mapped output. The file is written under a temporary name beside the target and renamed
// into place only when complete, so an existing file is never left half-written.
#pragma once

#include "formats/metadata.h"
#include "formats/strata_file.h"

#include <functional>
#include <string>
#include <vector>

namespace strata {

class StrataWriter {
  public:
    // Fills exactly `bytes` bytes at `dst` with the tensor's data.
    using Producer = std::function<void(uint8_t* dst, uint64_t bytes)>;
    // Called after each tensor: (tensors done, tensors in all, bytes done, bytes in all).
    using Progress = std::function<void(size_t, size_t, uint64_t, uint64_t)>;

    explicit StrataWriter(Metadata meta) : meta_(std::move(meta)) {}

    void add_tensor(const std::string& name, DType type, std::vector<uint64_t> shape,
                    Producer produce, TensorLayout layout = TensorLayout::RowMajor);

    // Writes everything to `path` (via a temporary file and rename). Throws strata::Error.
    void write(const std::string& path, const Progress& progress = {});

    // The size of the file write() would make, without producing any tensor.
    uint64_t file_bytes() const;

  private:
    Metadata meta_;
    std::vector<TensorEntry> entries_;
    std::vector<Producer> producers_;
};

// Bytes of a tensor of `type` and `shape`, or 0 when the innermost dimension does not fill whole
// blocks of the type.
uint64_t tensor_bytes(DType type, const std::vector<uint64_t>& shape);

} // namespace strata
