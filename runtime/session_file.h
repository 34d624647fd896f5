// A persistent session: the KV cache and the tokens it holds, in one file mapped MAP_SHARED
// (docs/format.md, "Session files"). The committed token count is stored last, after the K/V
// rows and the tokens it covers are synced, so a file whose writer was killed reopens to a
// consistent prefix. A file made for another model, KV type, context or format version is
// refused with a message naming the mismatch. One process writes a file at a time: opening one
// that another process holds fails at once with Status::busy, naming that process.
#pragma once

#include "core/dtype.h"
#include "formats/model_config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strata {

class SessionFile {
  public:
    // Opens `path` (creating it when absent) for a model with `fingerprint` and `config`.
    // n_ctx 0 adopts an existing file's context (or `default_ctx` for a new file).
    SessionFile(const std::string& path, uint64_t fingerprint, const ModelConfig& config, int n_ctx,
                int default_ctx, DType kv_type);
    ~SessionFile();
    SessionFile(const SessionFile&) = delete;
    SessionFile& operator=(const SessionFile&) = delete;

    int n_ctx() const { return n_ctx_; }
    DType kv_type() const { return kv_type_; }
    uint8_t* kv_base() const { return kv_; }
    // The committed tokens (what a reopen resumes from).
    std::vector<int32_t> committed_tokens() const;
    // Makes `history` the committed state: tokens and their K/V rows synced first, then the count.
    void commit(const std::vector<int32_t>& history, int kv_bytes_per_token);
    const std::string& path() const { return path_; }
    int fd() const { return fd_; }
    uint64_t kv_offset() const { return kv_offset_; } // page-aligned

  private:
    void open(const std::string& path, uint64_t fingerprint, const ModelConfig& config, int n_ctx,
              int default_ctx, DType kv_type);
    void release();
    std::string path_;
    int fd_ = -1;
    uint8_t* map_ = nullptr;
    size_t map_bytes_ = 0;
    int n_ctx_ = 0;
    DType kv_type_;
    int32_t* tokens_ = nullptr;
    uint8_t* kv_ = nullptr;
    uint64_t committed_ = 0;
    uint64_t kv_offset_ = 0;
};

} // namespace strata
