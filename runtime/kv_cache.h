// The KV cache: K and V rows of the source layers only (CLA consumers read their source's
// slot), memory-mapped (anonymous by default). Layout: [slot][K, V][position][n_kv_heads *
// head_dim] in the cache type (F16 by default; F32 for exact float32 comparisons). Nothing
// here knows about architectures: slots come from kv_source.
#pragma once

#include "formats/dtype.h"
#include "formats/model_config.h"

#include <cstddef>
#include <cstdint>

namespace strata {

class KvCache {
  public:
    KvCache(const ModelConfig& config, int n_ctx, DType type = DType::F16);
    // Over memory someone else owns and maps (a session file): `base` holds bytes_for(...) bytes.
    KvCache(const ModelConfig& config, int n_ctx, DType type, uint8_t* base);
    static size_t bytes_for(const ModelConfig& config, int n_ctx, DType type);
    ~KvCache();
    KvCache(const KvCache&) = delete;
    KvCache& operator=(const KvCache&) = delete;

    int n_ctx() const { return n_ctx_; }
    DType type() const { return type_; }
    size_t row_values() const { return row_values_; }
    size_t row_bytes() const { return row_bytes_; }
    // Bytes the cache occupies (== n_ctx x bytes per token).
    size_t bytes() const { return bytes_; }
    size_t bytes_per_token() const { return bytes_per_token_; }

    uint8_t* k(int slot, int pos) { return row(slot, 0, pos); }
    uint8_t* v(int slot, int pos) { return row(slot, 1, pos); }
    // Stores n_kv_heads * head_dim floats into a row, converting to the cache type.
    void store(uint8_t* row, const float* values) const;

  private:
    uint8_t* row(int slot, int which, int pos) {
        return base_ +
               ((size_t(slot) * 2 + size_t(which)) * size_t(n_ctx_) + size_t(pos)) * row_bytes_;
    }
    void init(const ModelConfig& c);
    uint8_t* base_ = nullptr;
    bool owned_ = true;
    int n_ctx_;
    DType type_;
    size_t row_values_, row_bytes_, bytes_, bytes_per_token_;
};

} // namespace strata
