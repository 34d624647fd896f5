// A loaded model: the mapped `.strata` file and typed views of its weights. Nothing is copied:
// every weight points into the read-only mapping. One Model may be shared by many sessions.
// Weights are looked up by name (the architecture's schema, formats/arch.h, says which exist);
// the architecture's graph builder asks for them.
#pragma once

#include "formats/strata_reader.h"
#include "ops/matmul.h"
#include "ops/rope.h"
#include "runtime/graph.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace strata {

class Model {
  public:
    // Maps and validates `path`; throws strata::Error naming the problem.
    static std::shared_ptr<const Model> load(const std::string& path);

    const ModelConfig& config() const { return file_.config(); }
    const TokenizerData& tokenizer() const { return file_.tokenizer(); }
    const StrataFile& file() const { return file_; }

    // A 2-D weight (fails naming it when absent); find_matrix: nullptr when absent.
    const MatrixRef& matrix(const std::string& name) const;
    const MatrixRef* find_matrix(const std::string& name) const;
    // Expert e of a 3-D [n_expert, rows, cols] tensor, as a matrix.
    const MatrixRef& expert(const std::string& name, int e) const;
    // A 1-D f32 weight, nullptr when absent.
    const float* vec(const std::string& name) const;
    // Same, per layer: "blk.<layer>.<name>".
    const MatrixRef& matrix(int layer, const std::string& name) const {
        return matrix(layer_name(layer, name));
    }
    const MatrixRef* find_matrix(int layer, const std::string& name) const {
        return find_matrix(layer_name(layer, name));
    }
    const float* vec(int layer, const std::string& name) const {
        return vec(layer_name(layer, name));
    }
    static std::string layer_name(int layer, const std::string& name) {
        return "blk." + std::to_string(layer) + "." + name;
    }
    // Cache slot of layer l's K/V source.
    int kv_slot(int layer) const { return kv_slot_[size_t(layer)]; }
    int n_kv_slots() const { return n_kv_slots_; }
    // Whether any matrix the graph multiplies by is F32/F16/BF16 (those go to a BLAS GEMM from
    // a few rows on, whose sums are ordered differently from one-row products).
    bool has_float_matrix() const;
    // Layer l's experts (mixture-of-experts models).
    const MoeWeights& moe(int layer) const;

    MatrixRef token_embd; // (n_vocab, n_embd)
    MatrixRef output;     // (n_vocab, n_embd); token_embd when tied
    RopeTable rope;       // every layer's RoPE (rope_theta), frequency factors applied
    RopeTable rope_swa;   // sliding layers' (rope_theta_swa when set, else == rope)

  private:
    StrataFile file_;
    std::string path_;
    std::map<std::string, MatrixRef> matrices_; // (a map: Nodes point at the values)
    std::map<std::string, std::vector<MatrixRef>> experts_;
    std::vector<int> kv_slot_;
    std::vector<MoeWeights> moe_;
    int n_kv_slots_ = 0;
};

// Bytes of weights a forward pass of one token reads: every matrix (for a mixture of experts,
// the chosen experts' share), not the embedding (one row). The numerator of generation's
// bandwidth bound.
uint64_t weight_bytes_per_token(const Model& m);

} // namespace strata
