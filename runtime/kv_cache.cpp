#include "runtime/kv_cache.h"

#include "formats/error.h"
#include "formats/half.h"
#include "ops/quantize_ref.h"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>

namespace strata {

void KvCache::init(const ModelConfig& c) {
    const int n_ctx = n_ctx_;
    const DType type = type_;
    if (n_ctx <= 0) fail("context size must be positive");
    if (type != DType::F16 && type != DType::F32 && type != DType::Q8_0)
        fail(std::string("KV cache type ") + dtype_name(type) +
             " is not supported (f16, q8_0, f32)");
    if (type == DType::Q8_0 && c.head_dim % 32 != 0)
        fail("a q8_0 KV cache needs head_dim to be a multiple of 32 (this model's is " +
             std::to_string(c.head_dim) + ")");
    row_values_ = size_t(c.n_head_kv) * c.head_dim;
    row_bytes_ = strata::row_bytes(type, row_values_);
    bytes_per_token_ = size_t(c.n_kv_layers()) * row_bytes_ * 2;
    bytes_ = bytes_per_token_ * size_t(n_ctx);
}

size_t KvCache::bytes_for(const ModelConfig& c, int n_ctx, DType type) {
    return size_t(c.n_kv_layers()) * strata::row_bytes(type, uint64_t(c.n_head_kv) * c.head_dim) *
           2 * size_t(n_ctx);
}

KvCache::KvCache(const ModelConfig& c, int n_ctx, DType type, uint8_t* base)
    : base_(base), owned_(false), n_ctx_(n_ctx), type_(type) {
    init(c);
}

KvCache::KvCache(const ModelConfig& c, int n_ctx, DType type) : n_ctx_(n_ctx), type_(type) {
    init(c);
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        fail("cannot map a KV cache of " + std::to_string(bytes_) +
             " bytes: " + std::strerror(errno));
    base_ = static_cast<uint8_t*>(p);
}

void KvCache::store(uint8_t* row, const float* values) const {
    if (type_ == DType::Q8_0) {
        quantize_row_q8_0_ref(values, row, int64_t(row_values_));
        return;
    }
    if (type_ == DType::F32) {
        std::memcpy(row, values, row_bytes_);
        return;
    }
    for (size_t i = 0; i < row_values_; i++) {
        const uint16_t h = f32_to_f16(values[i]);
        std::memcpy(row + 2 * i, &h, 2);
    }
}

KvCache::~KvCache() {
    if (base_ && owned_) munmap(base_, bytes_);
}

} // namespace strata
