// A persistent session: the KV cache and the tokens it holds, in one file mapped MAP_SHARED
// (docs/format.md, "Session files"). The committed token count is stored last, after the K/V
// rows and the tokens it covers are synced, so a file whose writer was killed reopens to a
// consistent prefix. A file made for another model, KV type, context or format version is
// refused with a message naming the mismatch. The header records the K/V region's ring (the
// windowed slots' capacity), so the file describes its own layout. One process writes a file at a
// time: opening one that another process holds fails at once with Status::busy, naming that
// process.
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
    // n_ctx 0 adopts an existing file's context (or `default_ctx` for a new file). A new file's
    // windowed slots are rings for batches of `ring_rows` rows (KvCache::ring_for; 0: no ring);
    // an existing file keeps the ring its header records.
    SessionFile(const std::string& path, uint64_t fingerprint, const ModelConfig& config, int n_ctx,
                int default_ctx, DType kv_type, int ring_rows);
    ~SessionFile();
    SessionFile(const SessionFile&) = delete;
    SessionFile& operator=(const SessionFile&) = delete;

    int n_ctx() const { return n_ctx_; }
    int ring() const { return ring_; } // the K/V region's ring capacity (KvCache), 0: none
    DType kv_type() const { return kv_type_; }
    uint8_t* kv_base() const { return kv_; }
    // The committed tokens (what a reopen resumes from).
    std::vector<int32_t> committed_tokens() const;
    // Makes `history` the committed state: tokens and their K/V rows synced first, then the count.
    void commit(const std::vector<int32_t>& history, int kv_bytes_per_token);
    // With a ring: the first position whose ring K/V rows are still valid (positions before it
    // were overwritten by later ones before a truncate), stored with the next commit.
    int ring_from() const { return ring_from_; }
    void set_ring_from(int position) { ring_from_ = position; }
    // Stores (and syncs) a larger ring_from now, before a batch overwrites the ring positions
    // below it, so that a writer killed mid-batch leaves a file that says so.
    void publish_ring_from(int position);
    const std::string& path() const { return path_; }
    int fd() const { return fd_; }
    uint64_t kv_offset() const { return kv_offset_; } // page-aligned

  private:
    void open(const std::string& path, uint64_t fingerprint, const ModelConfig& config, int n_ctx,
              int default_ctx, DType kv_type, int ring_rows);
    void release();
    std::string path_;
    int fd_ = -1;
    uint8_t* map_ = nullptr;
    size_t map_bytes_ = 0;
    int n_ctx_ = 0;
    int ring_ = 0;
    DType kv_type_;
    int32_t* tokens_ = nullptr;
    uint8_t* kv_ = nullptr;
    uint64_t committed_ = 0;
    int ring_from_ = 0;
    uint64_t kv_offset_ = 0;
};

} // namespace strata
