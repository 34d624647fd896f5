// What an importer hands the converter: the model's configuration and tokenizer, and its
// tensors under strata's names, either as bytes inside a mapped source file or as a generator
// (synthetic models).
#pragma once

#include "core/dtype.h"
#include "formats/gguf_reader.h"
#include "formats/mapped_file.h"
#include "formats/model_config.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace strata {

struct SourceTensor {
    std::string name;
    DType type = DType::F32;
    std::vector<uint64_t> shape;   // outermost first
    const uint8_t* data = nullptr; // `bytes` bytes of `type`, row-major (when not generated)
    uint64_t bytes = 0;
    // Synthetic tensors: fill `bytes` bytes of `target` type at `dst` directly.
    std::function<void(DType target, uint8_t* dst, uint64_t bytes)> generate;
    // A generated tensor an importer re-laid from source values of `type` (stacked experts,
    // shifted norms): kept in `type` when no target type is asked, not made F16 as synthetic
    // weights are.
    bool keep_type = false;
};

struct ModelSource {
    ModelConfig config;
    TokenizerData tokenizer;
    std::string description; // provenance: what was read
    std::vector<SourceTensor> tensors;
    std::vector<std::string> notes; // things the user should know (printed by the converter)
    std::vector<std::shared_ptr<MappedFile>> mappings; // keep the sources mapped

    const SourceTensor* find(const std::string& name) const {
        for (const auto& t : tensors)
            if (t.name == name) return &t;
        return nullptr;
    }
};

// llama2.c legacy (v0) checkpoint plus its tokenizer .bin.
ModelSource import_llama2c(const std::string& checkpoint, const std::string& tokenizer_bin);
// llama2.c tokenizer .bin, normalized to SentencePiece piece spelling.
TokenizerData read_llama2c_tokenizer(const std::string& path, uint32_t n_vocab);

// GGUF v2/v3 with llama or qwen2 architecture; tensors are referenced, not copied.
ModelSource import_gguf(const std::string& path);
// The tokenizer stored in a GGUF's metadata (vocab-only files too).
TokenizerData tokenizer_from_gguf(const GgufFile& gguf);

// Hugging Face model directory: config.json, *.safetensors (+ index), tokenizer.json or
// tokenizer.model, tokenizer_config.json.
ModelSource import_hf(const std::string& dir);
// tokenizer.json (+ optional tokenizer_config.json for BOS/EOS and the chat template).
TokenizerData read_hf_tokenizer_json(const std::string& tokenizer_json,
                                     const std::string& tokenizer_config);
// SentencePiece tokenizer.model (protobuf).
TokenizerData read_sentencepiece_model(const std::string& path);
// The same from bytes in memory (`name` for messages).
TokenizerData parse_hf_tokenizer_json(const std::string& json_text, const std::string& config_text,
                                      const std::string& name);
TokenizerData parse_sentencepiece_model(const uint8_t* data, size_t size, const std::string& name);

struct SyntheticOptions {
    std::string shape; // one of synthetic_shape_names(): tinyllama-1.1b, llama-3.2-1b, ...
    int layers = 0;    // overrides when > 0
    int kv_heads = 0;
    uint64_t seed = 1;
};
ModelSource make_synthetic(const SyntheticOptions& options);
std::vector<std::string> synthetic_shape_names();

// Picks the importer from what `source` is: a directory (HF), a GGUF (by magic), or a
// llama2.c checkpoint (needs `tokenizer_bin`).
ModelSource import_model(const std::string& source, const std::string& tokenizer_bin);

} // namespace strata
