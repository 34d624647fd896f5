// A session: one conversation's state on a shared Model — its KV cache, the tokens it holds,
// and the compute graphs with their arenas, built and planned once per batch size (running a
// token allocates nothing).
#pragma once

#include "ops/kernels.h"
#include "runtime/graph.h"
#include "runtime/kv_cache.h"
#include "runtime/model.h"
#include "runtime/session_file.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace strata {

struct SessionOptions {
    int n_ctx = 0; // 0: the model's training context
    int n_threads = 1;
    int n_batch = 256; // tokens per forward pass during prefill
    DType kv_type = DType::F16;
    std::string kv_file; // persistent session file (created if absent, resumed if present)
    // Sliding-window layers' K/V kept in a ring of window + n_batch positions (KvCache) when
    // that is shorter than the context; false: every layer keeps n_ctx positions.
    bool kv_window_ring = true;
    const Kernels* kernels = nullptr; // nullptr: strata::kernels() (best, or STRATA_ISA)
};

class Session {
  public:
    Session(std::shared_ptr<const Model> model, const SessionOptions& options);

    // Feeds `tokens` at the next positions (prefill in batches of n_batch). Returns the logits
    // of the last token, or of every fed token (n x n_vocab) when `all_logits`. With an abort
    // check set, it is asked before each batch; when it says stop, decode throws an Error with
    // Status::aborted, keeping the batches already computed (history, K/V rows and session file
    // agree; last_logits() is nullptr).
    const float* decode(const int32_t* tokens, int n, bool all_logits = false);
    // Installs (or, with an empty function, removes) the abort check. While one is set, prefill
    // batches are sized from the measured time per token to take about kAbortBatchSeconds.
    void set_abort_check(std::function<bool()> should_abort) { abort_ = std::move(should_abort); }
    static constexpr double kAbortBatchSeconds = 0.1;

    // One token for each of n sessions on one model, computed in one forward pass (the weights
    // are read once for all rows; each row at its own session's next position, in its own KV
    // cache): tokens[i] goes to sessions[i]. Each session's last_logits() is then its row's.
    // The sessions must be distinct. n == 1 is decode().
    static void decode_batch(Session* const* sessions, const int32_t* tokens, int n);

    int n_past() const { return int(history_.size()); }
    int n_ctx() const { return cache_->n_ctx(); }
    const std::vector<int32_t>& history() const { return history_; }
    void reset() { truncate(0); }
    // Logits of the last decoded token (nullptr before any decode, or after a truncate).
    const float* last_logits() const { return last_logits_; }
    // A branch holding the same tokens, in memory, that continues independently: its K/V pages
    // are this session's, shared copy-on-write until either side rewrites them.
    std::unique_ptr<Session> fork();
    // Writes the tokens and K/V rows to a new session file at `path` (via a temporary file and
    // rename: an existing file is replaced only by a complete one).
    void save(const std::string& path) const;
    // Replaces this session's state with a session file's (same model and KV type; it must fit
    // the context); the last token is recomputed so that its logits are available.
    void restore(const std::string& path);
    // Forgets every token from position n on (their K/V rows are simply overwritten later).
    // With a KV ring (sliding layers), decoding at n needs the window before n still in the
    // ring; when later tokens overwrote it, truncate recomputes positions 0..n-1 (a prefill;
    // it can stop with Status::aborted like decode, keeping what it computed).
    void truncate(int n);
    // Whether truncate(n) has to recompute (the ring no longer holds the window before n).
    bool truncate_recomputes(int n) const;
    const Model& model() const { return *model_; }
    const KvCache& cache() const { return *cache_; }
    // The session file, or nullptr for an in-memory session.
    const SessionFile* file() const { return file_.get(); }
    const Kernels& kernels() const { return *kernels_; }

  private:
    Session(std::shared_ptr<const Model> model, const SessionOptions& options,
            std::unique_ptr<KvCache> cache, std::vector<int32_t> history, const float* last_logits);
    std::shared_ptr<const Model> model_;
    SessionOptions options_;
    const Kernels* kernels_;
    std::unique_ptr<SessionFile> file_;
    std::unique_ptr<KvCache> cache_;
    // Graphs by (batch size, all logits), and the buffers they run in (grown, never shrunk).
    std::map<std::pair<int, bool>, Graph> graphs_;
    std::vector<float> arena_, attn_scratch_, attn_partials_;
    std::vector<uint8_t> act_;
    std::vector<float> all_logits_;
    const float* last_logits_ = nullptr;
    std::vector<float> forked_logits_; // a fork's logits until its first decode
    std::vector<float> batch_logits_;  // this session's row of the last decode_batch
    std::vector<int32_t> history_;
    // With a KV ring: positions below this one may have been overwritten in the ring (by
    // later positions before a truncate, or by a batch a killed writer never committed).
    int ring_floor_ = 0;
    int ring_held_from() const;
    std::function<bool()> abort_;
    double seconds_per_token_ = 0; // measured over the last batch (0: not yet)
};

} // namespace strata
