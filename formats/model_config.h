// What a model is: architecture, hyperparameters, which layers own K/V (kv_source), its
// tokenizer and chat template. Stored in a `.strata` metadata block; filled by the importers.
#pragma once

#include "formats/metadata.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strata {

enum class RopeStyle : uint32_t {
    Normal = 0, // rotate adjacent pairs (x[2i], x[2i+1]): llama2.c, GGUF llama
    NeoX = 1,   // rotate halves (x[i], x[i + d/2]): HF llama/qwen2 weights as shipped
};

struct RopeScaling {
    std::string type = "none"; // none | linear | llama3 | yarn
    float factor = 1.0f;
    uint32_t original_ctx = 0;
    float low_freq_factor = 1.0f;  // llama3
    float high_freq_factor = 4.0f; // llama3
};

struct ModelConfig {
    std::string arch = "llama"; // a registered architecture (formats/arch.h, runtime/arch/)
    std::string name;
    uint32_t n_vocab = 0;
    uint32_t n_embd = 0;
    uint32_t n_layer = 0;
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;
    uint32_t head_dim = 0;
    uint32_t n_ff = 0;
    uint32_t n_ctx_train = 0;
    float norm_eps = 1e-5f;
    float rope_theta = 10000.0f;
    uint32_t rope_dim = 0; // rotated dimensions per head (== head_dim unless partial RoPE)
    RopeStyle rope_style = RopeStyle::Normal;
    RopeScaling rope_scaling;
    // rope_freqs.weight holds rope_dim/2 F32 frequency divisors (Llama 3 GGUFs: the tensor is
    // the scaling): inv_freq[i] /= rope_freqs[i].
    bool rope_freqs = false;
    bool tied_output = false; // output projection reuses token_embd.weight
    bool attn_bias = false;   // Q/K/V projections have biases (qwen2)
    // Architecture-specific hyperparameters: each architecture file reads and uses those it
    // has; the defaults mean "absent" (docs/format.md lists the keys).
    float embd_scale = 1.0f;     // token embeddings multiplied by this (gemma, granite)
    float residual_scale = 1.0f; // each branch's output x this before its residual add (granite)
    float attn_scale = 0.0f;     // attention score scale; 0 = 1/sqrt(head_dim)
    float logit_scale = 1.0f;    // logits divided by this (granite)
    float attn_softcap = 0.0f;   // when > 0: scores = cap tanh(scores / cap) (gemma2)
    float final_softcap = 0.0f;  // when > 0: logits likewise (gemma2)
    uint32_t sliding_window = 0; // positions a sliding layer attends to (itself included)
    std::vector<int32_t> layer_sliding; // per layer, 1: sliding-window attention; empty: none
    std::vector<int32_t> layer_rope;    // per layer, 0: no RoPE; empty: RoPE everywhere
    // RoPE base of the sliding layers, which then get no rope_scaling (gemma3); 0: rope_theta
    // and the global layers' scaling
    float rope_theta_swa = 0.0f;
    uint32_t n_expert = 0;         // mixture of experts: experts per layer (0: dense)
    uint32_t n_expert_used = 0;    // experts chosen per token
    uint32_t n_ff_expert = 0;      // one expert's FFN width
    bool expert_norm_topk = false; // chosen experts' weights renormalized to sum 1
    // Gemma 3n: AltUp streams the hidden state is carried in (0: none), the width of each
    // layer's per-layer input (0: none) and, per layer, the FFN gate's Gaussian top-k cutoff in
    // standard deviations above the row's mean (0 or empty: a dense gate); the rank of LAuReL's
    // low-rank branch (0: none)
    uint32_t altup_streams = 0;
    uint32_t per_layer_width = 0;
    uint32_t laurel_rank = 0;
    std::vector<float> ffn_sparsity;
    // kv_source[l] is the layer whose K/V layer l attends to; == l for layers that own K/V.
    std::vector<int32_t> kv_source;
    bool synthetic = false;

    bool owns_kv(uint32_t layer) const { return kv_source[layer] == int32_t(layer); }
    bool sliding(uint32_t layer) const {
        return layer < layer_sliding.size() && layer_sliding[layer] != 0;
    }
    bool has_rope(uint32_t layer) const { return layer >= layer_rope.size() || layer_rope[layer]; }
    uint32_t n_kv_layers() const;
    // Whether source layer `layer`'s K/V are read by sliding layers only: a KV cache then needs
    // only its last sliding_window positions (runtime/kv_cache.h keeps them in a ring).
    bool kv_windowed(uint32_t layer) const;
    uint32_t n_kv_windowed_layers() const;
    // K and V bytes each further token adds, for a cache with `elem_bytes` per value: those of
    // the source layers that keep every position (the windowed ones' do not grow).
    uint64_t kv_bytes_per_token(double elem_bytes) const;
    // K and V bytes the windowed source layers hold for their window (fixed, whatever the
    // context; a cache adds a batch's rows to it).
    uint64_t kv_window_bytes(double elem_bytes) const;
    // Throws strata::Error naming the first inconsistent field.
    void validate() const;
};

// Token kinds, numbered as SentencePiece and GGUF number them.
enum class TokenType : int32_t {
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
};

struct TokenizerData {
    std::string model = "spm"; // spm (SentencePiece-style, scores) | bpe (byte-level, merges)
    // bpe: the pre-tokenizer, a name from formats/pre_tokenizer_table.h; "custom" when
    // pre_regexes spell it out (a tokenizer.json whose split the table doesn't name).
    std::string pre = "default";
    std::vector<std::string> pre_regexes;  // bpe: the split regexes when pre is "custom"
    bool ignore_merges = false;            // bpe: a word that is a token is taken whole
    bool add_space_prefix = true;          // spm: a space before the text and after specials
    bool remove_extra_whitespaces = false; // spm: strip and collapse spaces (SentencePiece)
    // Special/added tokens that swallow the whitespace before (lstrip) / after (rstrip) them
    // when matched in text.
    std::vector<int32_t> lstrip_ids, rstrip_ids;
    std::vector<std::string> tokens;
    std::vector<float> scores;       // spm: piece scores; may be empty for bpe
    std::vector<int32_t> types;      // TokenType per token
    std::vector<std::string> merges; // bpe: "left right", in priority order
    int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;
    bool add_bos = true, add_eos = false;
    std::string chat_template;

    void validate(uint32_t n_vocab) const;
};

struct Provenance {
    std::string source;            // what was converted ("llama2.c checkpoint x.bin", ...)
    std::string converter_version; // strata version that wrote the file
};

// The names and shapes (outermost dimension first) of every tensor a model of this
// configuration has. Consumer layers (kv_source[l] != l) have no K/V projections.
struct TensorSpec {
    std::string name;
    std::vector<uint64_t> shape;
    bool is_matrix; // a 2-D weight a matmul reads (quantizable)
};
std::vector<TensorSpec> expected_tensors(const ModelConfig& config);

// Tables whose rows are looked up one token at a time, never multiplied whole: token_embd and
// gemma3n's per_layer_token_embd (any name ending in "token_embd.weight"). The converter keeps
// them row-major; a token's forward pass reads one row of each.
bool is_embedding_table(const std::string& name);

// Parameters in the model (token embedding and output counted once when tied).
uint64_t parameter_count(const ModelConfig& config);
// The parameters one token's forward pass uses: all but the experts a mixture-of-experts layer
// does not choose (== parameter_count for dense models).
uint64_t active_parameter_count(const ModelConfig& config);

void write_metadata(Metadata& meta, const ModelConfig& config, const TokenizerData& tokenizer,
                    const Provenance& provenance);
ModelConfig config_from_metadata(const Metadata& meta);
TokenizerData tokenizer_from_metadata(const Metadata& meta);
Provenance provenance_from_metadata(const Metadata& meta);

// The CLA-N layout of the paper: the first layer of each group of N owns K/V.
std::vector<int32_t> cla_kv_source(uint32_t n_layer, uint32_t group);

} // namespace strata
