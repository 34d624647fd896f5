// The KV cache: K and V rows of the source layers only (CLA consumers read their source's
// slot), memory-mapped. Layout: [slot][K, V][KV head][position][head_dim] in the cache type
// (F16 by default; Q8_0; F32 for exact float32 comparisons): a *section* is one KV head's K or V
// of one slot, its positions side by side, so attention reads each head as one sequential stream
// (rows holding every head made it a strided one, docs/performance.md). Nothing here knows about
// architectures: slots come from kv_source.
//
// Windowed slots: a slot every reader of which is a sliding-window layer (ModelConfig::kv_windowed)
// needs only the last `sliding_window` positions, so with ring() > 0 its sections hold a ring of
// ring() positions, position p at index p % ring() (the other slots' sections stay n_ctx long).
// ring() is the window plus the rows of one batch (stored before its attention reads them):
// max_batch_rows() says how many rows a forward pass may store at once.
//
// A cache is either a root — a memfd (in memory) or a session file's K/V region, mapped
// MAP_SHARED — or a fork: the root's pages mapped MAP_PRIVATE, shared with the root until the
// fork writes them (copy-on-write by the kernel, page by page). A root keeps a list of its forks
// and, before it rewrites positions a fork still shares (after a truncate) or goes away, makes
// the fork take private copies of those pages first.
#pragma once

#include "core/dtype.h"
#include "formats/model_config.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace strata {

struct KvForkList;

class KvCache {
  public:
    // In memory (a memfd, so that it can be forked). `ring`: the windowed slots' capacity (0:
    // every slot n_ctx positions; else ring_for(...)'s value).
    KvCache(const ModelConfig& config, int n_ctx, DType type = DType::F16, int ring = 0);
    // Over a session file's K/V region, which its owner mapped MAP_SHARED at `base`; `fd` and
    // `offset` (page-aligned) locate the region so that forks can map it privately.
    KvCache(const ModelConfig& config, int n_ctx, DType type, int ring, uint8_t* base, int fd,
            uint64_t offset);
    static size_t bytes_for(const ModelConfig& config, int n_ctx, int ring, DType type);
    // The ring capacity for batches of up to `rows` rows: the window + rows, or 0 (no ring)
    // when the model has no windowed slot, rows < 1, or that would not be shorter than n_ctx.
    static int ring_for(const ModelConfig& config, int n_ctx, int rows);
    // Whether `ring` is a capacity this model's caches may have (0, or window < ring < n_ctx
    // for a model with windowed slots): a session file's header is checked against it.
    static bool valid_ring(const ModelConfig& config, int n_ctx, int ring);
    // Per slot (kv_source order), true when every layer reading it is a sliding layer.
    static std::vector<bool> windowed_slots(const ModelConfig& config);
    ~KvCache();
    KvCache(const KvCache&) = delete;
    KvCache& operator=(const KvCache&) = delete;

    // A cache holding this one's first n_tokens positions: copy-on-write when this is a root, a
    // copy into a new in-memory root when this is itself a fork.
    std::unique_ptr<KvCache> fork(const ModelConfig& config, int n_tokens);
    // Held by whoever reads or writes the rows (a session computing): a root making a fork copy
    // its shared pages takes the fork's lock, so it never touches rows the fork is using.
    std::mutex& use_mutex() { return use_mu_; }
    // Positions n.. are about to be rewritten: forks still sharing them copy them first.
    void before_rewrite(int n);
    // True for a copy-on-write fork (its pages are private copies or still the root's).
    bool is_fork() const { return parent_ != nullptr; } // (the list outlives its root)
    // Bytes of this cache the process holds privately (copied-on-write pages), from
    // /proc/self/smaps; for a root, 0. -1 when /proc is unavailable.
    int64_t private_bytes() const;

    int n_ctx() const { return n_ctx_; }
    DType type() const { return type_; }
    // The windowed slots' capacity in positions (0: no ring, every slot holds n_ctx).
    int ring() const { return ring_; }
    int window() const { return window_; }
    // Whether a slot's sections are a ring (position p at index p % ring()).
    bool windowed(int slot) const { return ring_ > 0 && windowed_[size_t(slot)]; }
    // Rows one forward pass may store before its attention reads them (ring - window).
    int max_batch_rows() const { return ring_ > 0 ? ring_ - window_ : 1 << 30; }
    // Positions a slot's sections hold (ring() or n_ctx).
    int slot_positions(int slot) const { return windowed(slot) ? ring_ : n_ctx_; }
    // The index of position `pos` in a slot's sections.
    int index(int slot, int pos) const { return windowed(slot) ? pos % ring_ : pos; }
    // Bytes of one position in one section (one KV head's K or V): head_dim values.
    size_t head_bytes() const { return head_bytes_; }
    // Bytes the cache occupies.
    size_t bytes() const { return bytes_; }
    // Bytes one more token adds: the slots that keep every position (all, without a ring).
    size_t bytes_per_token() const { return bytes_per_token_; }
    // Bytes the windowed slots occupy (fixed, whatever the tokens held; 0 without a ring).
    size_t ring_bytes() const { return ring_bytes_; }
    // Bytes n_tokens positions occupy: every growing slot's rows and the rings' rows in use.
    size_t bytes_used(int n_tokens) const {
        const size_t in_ring = ring_ > 0 ? size_t(std::min(n_tokens, ring_)) : 0;
        return size_t(n_tokens) * bytes_per_token_ +
               (ring_ > 0 ? ring_bytes_ / size_t(ring_) * in_ring : 0);
    }
    int n_sections() const { return n_sections_; } // slots x {K, V} x KV heads
    int slot_of_section(int i) const { return i / (2 * n_head_kv_); }
    // Start of one section (the slot's positions of one KV head's K or V).
    uint8_t* section(int i) { return base_ + section_offset_[size_t(i)]; }
    // Index 0 of KV head 0's K (which 0) or V (1) in a slot; head g is g * head_stride(slot) on.
    const uint8_t* heads(int slot, int which) { return section((slot * 2 + which) * n_head_kv_); }
    size_t head_stride(int slot) const { return size_t(slot_positions(slot)) * head_bytes_; }
    // Stores one position's K and V (n_kv_heads * head_dim floats each, heads side by side),
    // converting to the cache type.
    void store(int slot, int pos, const float* k, const float* v);
    // Copies positions [0, n) of every section from `src` (same model and type, any ring),
    // each to its index here; a windowed section copies only the positions both rings hold.
    void copy_from(KvCache& src, int n);

  private:
    KvCache(const ModelConfig& config, int n_ctx, DType type, int ring, int fd, uint64_t offset,
            const std::shared_ptr<KvForkList>& parent);
    void init(const ModelConfig& c);
    // Writes to every page of the full sections holding positions [lo, hi) (and, with `rings`,
    // to every page of the windowed sections) so each becomes this fork's own copy.
    void take_private_copies(int lo, int hi, bool rings = false);

    uint8_t* base_ = nullptr;
    bool owned_map_ = true; // munmap base_ on destruction
    int fd_ = -1;           // the root's file (memfd or session file) ...
    bool owned_fd_ = false; // ... closed on destruction when a memfd
    uint64_t offset_ = 0;
    int n_ctx_;
    DType type_;
    int ring_ = 0, window_ = 0;
    std::vector<bool> windowed_;         // per slot
    std::vector<size_t> section_offset_; // per section, bytes from base_
    int n_sections_ = 0, n_head_kv_ = 0, head_dim_ = 0;
    size_t head_bytes_, bytes_, bytes_per_token_, ring_bytes_ = 0;
    std::shared_ptr<KvForkList> forks_;  // a root's live forks
    std::shared_ptr<KvForkList> parent_; // a fork's root's list (to leave it)
    std::mutex use_mu_;
};

} // namespace strata
