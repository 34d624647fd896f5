// The formats side of the architecture registry: what an importer, the converter and the
// `.strata` reader need to know of an architecture — its hyperparameters (GGUF metadata keys,
// HF config.json fields) and its tensor schema, written once. Each architecture is one file
// under runtime/arch/ that implements this (and its graph builder) and registers itself;
// nothing in formats/ names an architecture.
#pragma once

#include "formats/model_config.h"

#include <map>
#include <string>
#include <vector>

namespace strata {

class GgufFile;

// Hyperparameters as an importer sees them: a GGUF file's `<arch>.<key>` metadata, or an HF
// config.json's top-level fields. Missing or malformed required values fail naming the key.
class HparamSource {
  public:
    virtual ~HparamSource() = default;
    virtual bool has(const std::string& key) const = 0;
    virtual uint32_t u32(const std::string& key) const = 0; // positive integer
    virtual double number(const std::string& key) const = 0;
    virtual bool flag(const std::string& key) const = 0;
    // A string value (HF config.json's "hidden_activation"...); the default fails naming the
    // key, for sources whose architectures read no strings.
    virtual std::string text(const std::string& key) const;
    // Integer array (GGUF array, JSON list); empty when absent.
    virtual std::vector<int64_t> ints(const std::string& key) const = 0;
    // Number array (HF config.json's activation_sparsity_pattern...); empty when absent. The
    // default fails naming the key, for sources whose architectures read none.
    virtual std::vector<double> numbers(const std::string& key) const;
    virtual std::string where() const = 0; // file name for messages
    uint32_t u32_or(const std::string& key, uint32_t d) const { return has(key) ? u32(key) : d; }
    float f32_or(const std::string& key, float d) const {
        return has(key) ? float(number(key)) : d;
    }
    bool flag_or(const std::string& key, bool d) const { return has(key) ? flag(key) : d; }
    std::string text_or(const std::string& key, const std::string& d) const {
        return has(key) ? text(key) : d;
    }
};

// The tensors of a model, in file order (see expected_tensors).
class TensorSchema {
  public:
    void matrix(const std::string& name, uint64_t rows, uint64_t cols) {
        specs.push_back({name, {rows, cols}, true});
    }
    // Experts stored as one 3-D tensor [n_expert, rows, cols] (GGUF *_exps), quantizable.
    void experts(const std::string& name, uint64_t n, uint64_t rows, uint64_t cols) {
        specs.push_back({name, {n, rows, cols}, true});
    }
    // A 1-D f32 tensor (norm weight, bias, frequency factors).
    void vec(const std::string& name, uint64_t n) { specs.push_back({name, {n}, false}); }
    std::vector<TensorSpec> specs;
};

// How a family's Hugging Face checkpoints name the tensors of a layer
// ("model.layers.{l}.<part>"), in strata's (GGUF's) terms. hf_layer_names() starts from the
// llama names the families share; an architecture's hf_names() changes only what differs.
struct HfLayerNames {
    // HF part -> strata's part of the layer: "self_attn.q_proj.weight" -> "attn_q.weight".
    std::map<std::string, std::string> parts;
    // Experts, when the config has them: "<expert_prefix>{e}.<expert_gate|up|down>.weight",
    // each a 2-D slice the importer stacks into ffn_{gate,up,down}_exps.weight. (The router is
    // one of `parts`: "mlp.gate.weight" -> "ffn_gate_inp.weight".)
    std::string expert_prefix = "mlp.experts.";
    std::string expert_gate = "gate_proj", expert_up = "up_proj", expert_down = "down_proj";
    // HF stores the weight w of an RMSNorm that multiplies by (1 + w): the importer adds the one
    // (strata, like GGUF, stores what multiplies).
    bool norms_minus_one = false;
    // Where the language model's tensors are, tried in order: "model." (…ForCausalLM); a
    // multimodal checkpoint nests it ("model.language_model.").
    std::vector<std::string> model_prefixes = {"model."};
    // Top-level tensors beside embed_tokens and norm: the HF name after the prefix -> strata's.
    std::map<std::string, std::string> top;
    // Top-level lists of matrices strata keeps as one 3-D tensor: "<key>{i}.weight" (after the
    // prefix) is slice i of `name`, which has `count` slices.
    struct Stack {
        std::string name;
        uint32_t count = 0;
    };
    std::map<std::string, Stack> stacked;
    // Tensors of a multimodal checkpoint's other towers, by name prefix: skipped (with a note).
    std::vector<std::string> ignored;
    // strata's tensors HF may store with fewer rows than the schema's (embedding tables of a
    // smaller vocabulary): the importer fills the missing rows with copies of row 0.
    std::vector<std::string> pad_rows_with_first;
    // Norms after each branch as well: post_attention_layernorm is the attention's post-norm
    // and pre_/post_feedforward_layernorm the FFN's (llama's post_attention_layernorm is the
    // FFN's pre-norm).
    void sandwich_norms();
};

class ArchFormat {
  public:
    virtual ~ArchFormat() = default;
    // `general.architecture` in a .strata file.
    virtual const char* name() const = 0;
    // GGUF `general.architecture` values and HF `model_type`s this architecture imports.
    virtual std::vector<std::string> gguf_names() const { return {name()}; }
    virtual std::vector<std::string> hf_types() const { return {}; }
    // After the common fields are read (widths, heads, eps, rope base/dim, tied output,
    // context): the architecture's own. `g` is the whole file (tensor presence, e.g. biases).
    virtual void read_gguf(const HparamSource& keys, const GgufFile& g, ModelConfig& c) const = 0;
    virtual void read_hf(const HparamSource& cfg, ModelConfig& c) const;
    // The HF tensor names of a model of this configuration (as read_hf filled it): `n` holds
    // the shared llama names (hf_layer_names); override to change what this family names
    // differently (fused matrices, other norm or expert names, norms stored minus one).
    virtual void hf_names(const ModelConfig&, HfLayerNames&) const {}
    // The facts of this architecture a configuration built from scratch (a synthetic model)
    // takes: RoPE style, biases, norms' placement... (importers get them in read_*).
    virtual void defaults(ModelConfig&) const {}
    // Every tensor a model of this configuration has, names and shapes.
    virtual void tensors(const ModelConfig& c, TensorSchema& s) const = 0;
    // Checks what this architecture requires of a configuration (throws naming the field).
    virtual void validate(const ModelConfig&) const {}
};

// Architecture files register themselves (runtime/arch/registry.cpp lists them).
void register_arch(const ArchFormat& a);
// By `.strata` name; fails naming the architecture and listing the supported ones.
const ArchFormat& arch_format(const std::string& name);
// By GGUF general.architecture / HF model_type, nullptr when none imports it.
const ArchFormat* arch_for_gguf(const std::string& gguf_arch);
const ArchFormat* arch_for_hf(const std::string& model_type);
// "llama, qwen2, ..." for messages.
std::string arch_names();
// The HF model_types the registered architectures import, "llama, mistral, ..." for messages.
std::string hf_type_names();
// The HF layer tensor names of a model of `a` (nullptr: only the shared llama names) with
// configuration `c`.
HfLayerNames hf_layer_names(const ArchFormat* a, const ModelConfig& c);

} // namespace strata
