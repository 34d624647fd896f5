#include "runtime/kv_cache.h"

#include "core/error.h"
#include "core/half.h"
#include "core/quantize_ref.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace strata {

// A root's live forks and the positions each still shares with it ([0, shared)).
struct KvForkList {
    std::mutex mu;
    std::vector<std::pair<KvCache*, int>> forks;
};

std::vector<bool> KvCache::windowed_slots(const ModelConfig& c) {
    std::vector<bool> windowed;
    for (uint32_t l = 0; l < c.n_layer; l++)
        if (c.owns_kv(l)) windowed.push_back(c.kv_windowed(l));
    return windowed;
}

int KvCache::ring_for(const ModelConfig& c, int n_ctx, int rows) {
    if (rows < 1 || c.n_kv_windowed_layers() == 0) return 0;
    const int64_t ring = int64_t(c.sliding_window) + rows;
    return ring < n_ctx ? int(ring) : 0;
}

bool KvCache::valid_ring(const ModelConfig& c, int n_ctx, int ring) {
    return ring == 0 || (c.n_kv_windowed_layers() > 0 &&
                         int64_t(ring) > int64_t(c.sliding_window) && ring < n_ctx);
}

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
    if (!valid_ring(c, n_ctx, ring_))
        fail("a KV ring of " + std::to_string(ring_) +
             " positions does not fit this model (window " + std::to_string(c.sliding_window) +
             ", context " + std::to_string(n_ctx) + ")");
    n_head_kv_ = int(c.n_head_kv);
    head_dim_ = int(c.head_dim);
    head_bytes_ = strata::row_bytes(type, uint64_t(c.head_dim));
    windowed_ = windowed_slots(c);
    window_ = ring_ > 0 ? int(c.sliding_window) : 0;
    n_sections_ = int(c.n_kv_layers()) * 2 * n_head_kv_;
    bytes_per_token_ = 0;
    size_t offset = 0;
    for (int i = 0; i < n_sections_; i++) {
        section_offset_.push_back(offset);
        const int slot = slot_of_section(i);
        offset += size_t(slot_positions(slot)) * head_bytes_;
        if (windowed(slot))
            ring_bytes_ += size_t(ring_) * head_bytes_;
        else
            bytes_per_token_ += head_bytes_;
    }
    bytes_ = offset;
}

size_t KvCache::bytes_for(const ModelConfig& c, int n_ctx, int ring, DType type) {
    const std::vector<bool> windowed = windowed_slots(c);
    size_t positions = 0; // per KV head and K or V
    for (bool w : windowed) positions += size_t(ring > 0 && w ? ring : n_ctx);
    return positions * 2 * c.n_head_kv * strata::row_bytes(type, c.head_dim);
}

KvCache::KvCache(const ModelConfig& c, int n_ctx, DType type, int ring, uint8_t* base, int fd,
                 uint64_t offset)
    : base_(base), owned_map_(false), fd_(fd), offset_(offset), n_ctx_(n_ctx), type_(type),
      ring_(ring), forks_(std::make_shared<KvForkList>()) {
    init(c);
}

KvCache::KvCache(const ModelConfig& c, int n_ctx, DType type, int ring)
    : n_ctx_(n_ctx), type_(type), ring_(ring), forks_(std::make_shared<KvForkList>()) {
    init(c);
    fd_ = memfd_create("strata-kv", MFD_CLOEXEC);
    if (fd_ < 0) fail(std::string("cannot create a KV cache: ") + std::strerror(errno));
    owned_fd_ = true;
    if (ftruncate(fd_, off_t(bytes_)) != 0) {
        ::close(fd_);
        fail("cannot size a KV cache of " + std::to_string(bytes_) +
             " bytes: " + std::strerror(errno));
    }
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd_, 0);
    if (p == MAP_FAILED) {
        ::close(fd_);
        fail("cannot map a KV cache of " + std::to_string(bytes_) +
             " bytes: " + std::strerror(errno));
    }
    base_ = static_cast<uint8_t*>(p);
}

KvCache::KvCache(const ModelConfig& c, int n_ctx, DType type, int ring, int fd, uint64_t offset,
                 const std::shared_ptr<KvForkList>& parent)
    : n_ctx_(n_ctx), type_(type), ring_(ring), parent_(parent) {
    init(c);
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd,
                   off_t(offset));
    if (p == MAP_FAILED) fail(std::string("cannot map a forked KV cache: ") + std::strerror(errno));
    base_ = static_cast<uint8_t*>(p);
}

std::unique_ptr<KvCache> KvCache::fork(const ModelConfig& c, int n_tokens) {
    if (n_tokens < 0 || n_tokens > n_ctx_) fail("fork: position count out of range");
    if (!is_fork()) {
        std::unique_ptr<KvCache> child(new KvCache(c, n_ctx_, type_, ring_, fd_, offset_, forks_));
        // A ring's indices are rewritten as the root goes on: the fork copies its rings now
        // (window-sized); the full sections stay shared until the root rewrites them.
        child->take_private_copies(0, 0, true);
        std::lock_guard<std::mutex> lock(forks_->mu);
        forks_->forks.emplace_back(child.get(), n_tokens);
        return child;
    }
    // A fork of a fork: its private pages live in no file, so copy the prefix.
    auto copy = std::make_unique<KvCache>(c, n_ctx_, type_, ring_);
    std::lock_guard<std::mutex> in_use(use_mu_);
    copy->copy_from(*this, n_tokens);
    return copy;
}

void KvCache::copy_from(KvCache& src, int n) {
    if (src.n_sections_ != n_sections_ || src.type_ != type_ || src.head_bytes_ != head_bytes_)
        fail("KV caches of different layouts cannot be copied");
    if (n > n_ctx_ || n > src.n_ctx_) fail("KV copy: position count out of range");
    for (int s = 0; s < n_sections_; s++) {
        const int slot = slot_of_section(s);
        if (!windowed(slot) && !src.windowed(slot)) { // one run
            if (n > 0) std::memcpy(section(s), src.section(s), size_t(n) * head_bytes_);
            continue;
        }
        const int held = std::min(slot_positions(slot), src.slot_positions(slot));
        for (int p = std::max(0, n - held); p < n; p++)
            std::memcpy(section(s) + size_t(index(slot, p)) * head_bytes_,
                        src.section(s) + size_t(src.index(slot, p)) * head_bytes_, head_bytes_);
    }
}

void KvCache::take_private_copies(int lo, int hi, bool rings) {
    const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
    for (int s = 0; s < n_sections_; s++) {
        const bool ring = windowed(slot_of_section(s));
        if (ring && !rings) continue; // (a fork's rings are private from the start)
        const int a = ring ? 0 : lo, b = ring ? ring_ : hi;
        if (a >= b) continue;
        uint8_t* begin = section(s) + size_t(a) * head_bytes_;
        uint8_t* end = section(s) + size_t(b) * head_bytes_;
        // One no-op write per page (atomic, to be safe): the kernel copies the page.
        for (uint8_t* p = begin; p < end;
             p = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(p) | (page - 1)) + 1))
            __atomic_fetch_add(p, uint8_t(0), __ATOMIC_RELAXED);
    }
}

void KvCache::before_rewrite(int n) {
    if (!forks_) return;
    std::lock_guard<std::mutex> lock(forks_->mu);
    for (auto& [fork, shared] : forks_->forks)
        if (shared > n) {
            std::lock_guard<std::mutex> in_use(fork->use_mu_);
            fork->take_private_copies(n, shared);
            shared = n;
        }
}

int64_t KvCache::private_bytes() const {
    if (!is_fork()) return 0;
    FILE* f = std::fopen("/proc/self/smaps", "r");
    if (!f) return -1;
    char line[512];
    bool inside = false;
    int64_t kb = -1;
    const uintptr_t start = reinterpret_cast<uintptr_t>(base_);
    while (std::fgets(line, sizeof line, f)) {
        uintptr_t lo = 0, hi = 0; // a mapping's first line: "lo-hi perms offset dev inode path"
        if (std::sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) == 2) {
            inside = lo == start;
            continue;
        }
        long long v = 0;
        if (inside && std::sscanf(line, "Anonymous: %lld kB", &v) == 1) {
            kb = v;
            break;
        }
    }
    std::fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

void KvCache::store(int slot, int pos, const float* k, const float* v) {
    for (int which = 0; which < 2; which++)
        for (int g = 0; g < n_head_kv_; g++) {
            const float* values = (which == 0 ? k : v) + size_t(g) * size_t(head_dim_);
            uint8_t* dst = section((slot * 2 + which) * n_head_kv_ + g) +
                           size_t(index(slot, pos)) * head_bytes_;
            if (type_ == DType::Q8_0) // (head_dim is whole blocks: checked in init)
                quantize_row_q8_0_ref(values, dst, head_dim_);
            else if (type_ == DType::F32)
                std::memcpy(dst, values, head_bytes_);
            else
                for (int i = 0; i < head_dim_; i++) {
                    const uint16_t h = f32_to_f16(values[i]);
                    std::memcpy(dst + 2 * i, &h, 2);
                }
        }
}

KvCache::~KvCache() {
    if (forks_) { // forks keep what they share: the root's pages may change or go away
        std::lock_guard<std::mutex> lock(forks_->mu);
        for (auto& [fork, shared] : forks_->forks) {
            std::lock_guard<std::mutex> in_use(fork->use_mu_);
            fork->take_private_copies(0, shared);
        }
        forks_->forks.clear();
    }
    if (parent_) {
        std::lock_guard<std::mutex> lock(parent_->mu);
        auto& v = parent_->forks;
        v.erase(std::remove_if(v.begin(), v.end(), [&](auto& e) { return e.first == this; }),
                v.end());
    }
    if (base_ && owned_map_) munmap(base_, bytes_);
    if (owned_fd_) ::close(fd_);
}

} // namespace strata
