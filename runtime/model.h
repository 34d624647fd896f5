// A loaded model: the mapped `.strata` file and typed views of its weights. Nothing is copied:
// every weight points into the read-only mapping. One Model may be shared by many sessions.
#pragma once

#include "formats/strata_reader.h"
#include "ops/matmul.h"
#include "ops/rope.h"

#include <memory>
#include <string>
#include <vector>

namespace strata {

struct LayerWeights {
    const float* attn_norm;    // (n_embd)
    MatrixRef wq;              // (n_head*head_dim, n_embd)
    MatrixRef wk, wv;          // (n_head_kv*head_dim, n_embd); source layers only
    const float *bq, *bk, *bv; // biases or nullptr
    MatrixRef wo;              // (n_embd, n_head*head_dim)
    const float* ffn_norm;     // (n_embd)
    MatrixRef w_gate, w_up;    // (n_ff, n_embd)
    MatrixRef w_down;          // (n_embd, n_ff)
    int kv_slot;               // cache slot of this layer's K/V source
};

class Model {
  public:
    // Maps and validates `path`; throws strata::Error naming the problem.
    static std::shared_ptr<const Model> load(const std::string& path);

    const ModelConfig& config() const { return file_.config(); }
    const TokenizerData& tokenizer() const { return file_.tokenizer(); }
    const StrataFile& file() const { return file_; }

    MatrixRef token_embd; // (n_vocab, n_embd)
    MatrixRef output;     // (n_vocab, n_embd); token_embd when tied
    const float* output_norm = nullptr;
    std::vector<LayerWeights> layers;
    int n_kv_slots = 0; // layers that own K/V
    RopeParams rope;
    std::vector<float> rope_inv_freq;

  private:
    StrataFile file_;
};

// Bytes of weights a forward pass of one token reads: every matrix, and one embedding row (not
// counted: it is a few KiB). The numerator of generation's bandwidth bound.
uint64_t weight_bytes_per_token(const Model& m);

} // namespace strata
