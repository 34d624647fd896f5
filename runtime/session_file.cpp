#include "runtime/session_file.h"

#include "core/error.h"
#include "formats/checksum.h"
#include "runtime/kv_cache.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {

namespace {

constexpr char kMagic[8] = {'S', 'T', 'R', 'A', 'T', 'A', 'K', 'V'};
// 2: K/V sections per KV head (1: rows of every head); 3: the windowed slots are rings of
// `ring` positions (written only for files with a ring, so older readers refuse those alone).
constexpr uint32_t kVersion = 3;
constexpr uint32_t kVersionNoRing = 2;
constexpr size_t kPage = 4096;

// Header (4096 bytes, little-endian). Offsets:
struct Header {
    char magic[8];            // 0
    uint32_t version;         // 8
    uint32_t header_bytes;    // 12: 4096
    uint64_t fingerprint;     // 16: the model's (StrataFile::fingerprint)
    uint32_t kv_type;         // 24: DType id
    uint32_t n_ctx;           // 28
    uint32_t n_kv_layers;     // 32
    uint32_t n_head_kv;       // 36
    uint32_t head_dim;        // 40
    uint32_t ring;            // 44: windowed slots' positions (KvCache::ring); 0 in version 2
    uint64_t tokens_offset;   // 48: int32 tokens[n_ctx]
    uint64_t kv_offset;       // 56: K/V data (KvCache layout)
    uint64_t kv_bytes;        // 64
    uint64_t layout_checksum; // 72: checksum64 of bytes 0..71
    uint64_t committed;       // 80: tokens whose K/V rows are stored; written last
};
static_assert(sizeof(Header) == 88, "session header layout");
// 88: u32, the pid of the process that holds (or last held) the file open for writing, stored
// once its lock is taken; outside the checksum, only ever read to name the holder in a refusal.
constexpr off_t kWriterPidOffset = 88;
// 92: u32, the first position whose ring K/V rows are valid (Session: positions before it were
// overwritten in the ring before a truncate), stored by each commit before the count; outside
// the checksum; 0 in files without a ring.
constexpr size_t kRingFromOffset = 92;

// The pid of the process holding `fd`'s file locked (0 when it has not written it yet).
uint32_t writer_pid(int fd) {
    uint32_t pid = 0;
    // A writer stores its pid right after creating or checking the header: wait a moment for it.
    for (int i = 0; i < 100; i++) {
        if (pread(fd, &pid, sizeof pid, kWriterPidOffset) == ssize_t(sizeof pid) && pid != 0) break;
        usleep(10 * 1000);
    }
    return pid;
}

size_t align_page(size_t v) { return (v + kPage - 1) / kPage * kPage; }

} // namespace

SessionFile::SessionFile(const std::string& path, uint64_t fingerprint, const ModelConfig& c,
                         int n_ctx, int default_ctx, DType kv_type, int ring_rows)
    : path_(path), kv_type_(kv_type) {
    try {
        open(path, fingerprint, c, n_ctx, default_ctx, kv_type, ring_rows);
    } catch (...) { // the destructor does not run for a constructor that throws
        release();
        throw;
    }
}

void SessionFile::release() {
    if (map_) munmap(map_, map_bytes_);
    if (fd_ >= 0) ::close(fd_); // drops the lock
    map_ = nullptr, fd_ = -1;
}

void SessionFile::open(const std::string& path, uint64_t fingerprint, const ModelConfig& c,
                       int n_ctx, int default_ctx, DType kv_type, int ring_rows) {
    auto error = [&](const std::string& m) { fail("session file " + path + ": " + m); };
    auto bad = [&](const std::string& m) {
        fail(Status::format, "session file " + path + ": " + m);
    };
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) error(std::string("cannot open: ") + std::strerror(errno));
    // One writer per file: an exclusive lock on this open file description, which the kernel
    // drops when the descriptor closes or the process dies (a killed writer leaves no stale lock).
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int e = errno;
        if (e != EWOULDBLOCK) error(std::string("cannot lock: ") + std::strerror(e));
        const uint32_t pid = writer_pid(fd_);
        fail(Status::busy, "session file " + path + " is in use by another strata process (pid " +
                               (pid ? std::to_string(pid) : std::string("unknown")) + ")");
    }
    struct stat st;
    if (fstat(fd_, &st) != 0) error(std::strerror(errno));
    const bool fresh = st.st_size == 0;
    Header h{};
    if (!fresh) {
        if (size_t(st.st_size) < sizeof(Header)) bad("truncated (shorter than its header)");
        if (pread(fd_, &h, sizeof h, 0) != ssize_t(sizeof h)) error("cannot read the header");
        if (std::memcmp(h.magic, kMagic, 8) != 0) bad("not a strata session file (bad magic)");
        if (h.version != kVersion && h.version != kVersionNoRing)
            bad("format version " + std::to_string(h.version) + " is not the supported " +
                std::to_string(kVersionNoRing) + " or " + std::to_string(kVersion) +
                (h.version < kVersionNoRing
                     ? " (written by an older strata: start the session anew)"
                     : ""));
        if (h.layout_checksum != checksum64(&h, offsetof(Header, layout_checksum)))
            bad("header checksum mismatch (corrupt)");
        if (h.fingerprint != fingerprint)
            error("was made with another model (fingerprints differ)");
        if (h.kv_type != uint32_t(kv_type))
            error(std::string("holds a ") +
                  (dtype_from_id(h.kv_type) ? dtype_name(*dtype_from_id(h.kv_type)) : "unknown") +
                  " KV cache, but " + dtype_name(kv_type) + " was asked for");
        if (n_ctx != 0 && h.n_ctx != uint32_t(n_ctx))
            error("has a context of " + std::to_string(h.n_ctx) + " tokens, but " +
                  std::to_string(n_ctx) + " was asked for");
        if (h.n_kv_layers != c.n_kv_layers() || h.n_head_kv != c.n_head_kv ||
            h.head_dim != c.head_dim)
            error("K/V layout differs from this model's");
        n_ctx_ = int(h.n_ctx);
        if (h.n_ctx == 0 || h.n_ctx > (1u << 24)) bad("context size is invalid");
        if ((h.version == kVersionNoRing && h.ring != 0) ||
            (h.version == kVersion && h.ring == 0) || !KvCache::valid_ring(c, n_ctx_, int(h.ring)))
            bad("K/V ring of " + std::to_string(h.ring) +
                " positions does not fit this model's sliding window and the context");
        ring_ = int(h.ring);
        const size_t kv_bytes = KvCache::bytes_for(c, n_ctx_, ring_, kv_type);
        if (h.tokens_offset != kPage || h.kv_offset != align_page(kPage + size_t(h.n_ctx) * 4) ||
            h.kv_bytes != kv_bytes || uint64_t(st.st_size) != h.kv_offset + h.kv_bytes)
            bad("sections do not match the file size (truncated or corrupt)");
        if (h.committed > h.n_ctx) bad("committed count is larger than the context");
    } else {
        n_ctx_ = n_ctx ? n_ctx : default_ctx;
        ring_ = KvCache::ring_for(c, n_ctx_, ring_rows);
        std::memcpy(h.magic, kMagic, 8);
        h.version = ring_ > 0 ? kVersion : kVersionNoRing;
        h.ring = uint32_t(ring_);
        h.header_bytes = kPage;
        h.fingerprint = fingerprint;
        h.kv_type = uint32_t(kv_type);
        h.n_ctx = uint32_t(n_ctx_);
        h.n_kv_layers = c.n_kv_layers();
        h.n_head_kv = c.n_head_kv;
        h.head_dim = c.head_dim;
        h.tokens_offset = kPage;
        h.kv_offset = align_page(kPage + size_t(n_ctx_) * 4);
        h.kv_bytes = KvCache::bytes_for(c, n_ctx_, ring_, kv_type);
        h.layout_checksum = checksum64(&h, offsetof(Header, layout_checksum));
        h.committed = 0;
        // Reserve the blocks now: a full disk fails here, not as a SIGBUS mid-generation.
        if (int e = posix_fallocate(fd_, 0, off_t(h.kv_offset + h.kv_bytes)); e != 0) {
            ::unlink(path.c_str());
            error(std::string("cannot reserve space: ") + std::strerror(e));
        }
        if (pwrite(fd_, &h, sizeof h, 0) != ssize_t(sizeof h) || fsync(fd_) != 0)
            error("cannot write the header");
    }
    const uint32_t pid = uint32_t(::getpid());
    if (pwrite(fd_, &pid, sizeof pid, kWriterPidOffset) != ssize_t(sizeof pid))
        error("cannot write the header");
    map_bytes_ = size_t(h.kv_offset + h.kv_bytes);
    void* p = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) error(std::string("cannot map: ") + std::strerror(errno));
    map_ = static_cast<uint8_t*>(p);
    tokens_ = reinterpret_cast<int32_t*>(map_ + h.tokens_offset);
    kv_ = map_ + h.kv_offset;
    kv_offset_ = h.kv_offset;
    committed_ = h.committed;
    uint32_t ring_from = 0;
    std::memcpy(&ring_from, map_ + kRingFromOffset, 4);
    if (ring_from > committed_) bad("ring start is past the committed tokens (corrupt)");
    ring_from_ = int(ring_from);
    for (uint64_t i = 0; i < committed_; i++)
        if (tokens_[i] < 0 || uint32_t(tokens_[i]) >= c.n_vocab)
            bad("holds a token id outside the vocabulary (corrupt)");
}

SessionFile::~SessionFile() { release(); }

void SessionFile::publish_ring_from(int position) {
    ring_from_ = position;
    const uint32_t v = uint32_t(std::min<uint64_t>(uint64_t(std::max(position, 0)), committed_));
    std::memcpy(map_ + kRingFromOffset, &v, 4);
    msync(map_, kPage, MS_SYNC);
}

std::vector<int32_t> SessionFile::committed_tokens() const {
    return {tokens_, tokens_ + committed_};
}

void SessionFile::commit(const std::vector<int32_t>& history, int kv_bytes_per_token) {
    const uint64_t n = history.size();
    if (n > uint64_t(n_ctx_)) fail("session file " + path_ + ": more tokens than its context");
    auto* count = reinterpret_cast<uint64_t*>(map_ + offsetof(Header, committed));
    if (n > committed_) {
        std::memcpy(tokens_ + committed_, history.data() + committed_, (n - committed_) * 4);
        // 1. the new tokens and every K/V page are durable ...
        const size_t tok_lo = (kPage + committed_ * 4) / kPage * kPage, tok_hi = kPage + n * 4;
        msync(map_ + tok_lo, tok_hi - tok_lo, MS_SYNC);
        (void)kv_bytes_per_token; // K/V rows of position p sit in every slot: sync the whole region
        msync(kv_, map_bytes_ - kv_offset_, MS_SYNC);
    }
    // 2. ... before the count that covers them is published (one aligned 8-byte store), with
    // the ring's valid start in the same page.
    const uint32_t ring_from = uint32_t(std::min<uint64_t>(uint64_t(std::max(ring_from_, 0)), n));
    std::memcpy(map_ + kRingFromOffset, &ring_from, 4);
    std::atomic_thread_fence(std::memory_order_release);
    __atomic_store_n(count, n, __ATOMIC_RELEASE);
    msync(map_, kPage, MS_SYNC);
    committed_ = n;
}

} // namespace strata
