// A session: one conversation's state on a shared Model — its KV cache, the tokens it holds,
// and the activation buffers, allocated once per batch size (no allocation per token).
#pragma once

#include "ops/kernels.h"
#include "runtime/kv_cache.h"
#include "runtime/model.h"

#include <memory>
#include <vector>

namespace strata {

struct SessionOptions {
    int n_ctx = 0; // 0: the model's training context
    int n_threads = 1;
    int n_batch = 256; // tokens per forward pass during prefill
    DType kv_type = DType::F16;
    const Kernels* kernels = nullptr; // nullptr: strata::kernels() (best, or STRATA_ISA)
};

// Buffers of one forward pass for up to `capacity` tokens.
struct Workspace {
    int capacity = 0;
    std::vector<float> x, xn, q, k, v, att, gate, up, logits;
    std::vector<uint8_t> act;        // quantized activations, the largest any matrix needs
    std::vector<float> attn_scratch; // per thread
    void reserve(const Model& m, int n_tokens, int n_threads, bool all_logits);
};

class Session {
  public:
    Session(std::shared_ptr<const Model> model, const SessionOptions& options);

    // Feeds `tokens` at the next positions (prefill in batches of n_batch). Returns the logits
    // of the last token, or of every fed token (n x n_vocab) when `all_logits`.
    const float* decode(const int32_t* tokens, int n, bool all_logits = false);

    int n_past() const { return int(history_.size()); }
    int n_ctx() const { return cache_.n_ctx(); }
    const std::vector<int32_t>& history() const { return history_; }
    void reset() { history_.clear(); }
    const Model& model() const { return *model_; }
    const KvCache& cache() const { return cache_; }
    const Kernels& kernels() const { return *kernels_; }

  private:
    std::shared_ptr<const Model> model_;
    SessionOptions options_;
    const Kernels* kernels_;
    KvCache cache_;
    Workspace ws_;
    std::vector<float> all_logits_;
    std::vector<int32_t> history_;
};

// The llama-family forward pass (forward_llama.cpp): n tokens at positions pos0.., their K/V
// stored in the cache; logits for the last token or for all of them.
void forward_llama(const Model& m, KvCache& cache, Workspace& ws, const Kernels& k, int n_threads,
                   const int32_t* tokens, int n, int pos0, bool all_logits);

} // namespace strata
