// Test helper: writes a GGUF model back out as a Hugging Face model directory (model.safetensors,
// config.json, tokenizer.model, tokenizer_config.json) with each family's HF field names, tensor
// names and layouts, so that importing the directory and importing the GGUF can be required to
// give the same logits.
#pragma once

#include "core/dtype.h"

#include <string>
#include <vector>

namespace strata::test {

// Llama 3 RoPE scaling: a GGUF stores it only as the rope_freqs.weight tensor of frequency
// divisors, so the parameters are given here; the writer checks the tensor against them.
struct Llama3RopeParams {
    float factor = 8.0f;
    float low_freq_factor = 1.0f;
    float high_freq_factor = 4.0f;
    uint32_t original_ctx = 8192;
};

struct HfWriteOptions {
    DType dequantize_to = DType::F32; // F32 or F16: what quantized GGUF tensors become
    Llama3RopeParams llama3;
    // Negative control: Q/K rows left in GGUF's normal-RoPE pair order (a test shows the round
    // trip catches it).
    bool keep_gguf_qk_order = false;
    // Negative control: phi3's fused gate_up_proj written with the up rows first (a test shows
    // the round trip catches it).
    bool swap_phi3_gate_up = false;
    // Gemma 3n: vocab_size_per_layer_input (0: the vocabulary's size) and only that many rows
    // of embed_tokens_per_layer written, as the released checkpoints store fewer than vocab_size.
    uint32_t gemma3n_per_layer_vocab = 0;
    // Negative control: Gemma 3n's altup_projections.{i} and altup_unembed_projections.{i}
    // written in reverse order (a test shows the round trip catches it).
    bool swap_gemma3n_altup_proj = false;
};

struct HfWriteResult {
    std::string model_type; // config.json's model_type
    std::vector<std::string> notes;
};

// Writes `gguf_path` as an HF directory into the existing directory `dir`. Throws strata::Error
// naming what it cannot write (an architecture it does not know, a tensor it cannot place).
HfWriteResult write_hf_from_gguf(const std::string& gguf_path, const std::string& dir,
                                 const HfWriteOptions& options = {});

// The same values GGUF's llama converter stores in rope_freqs.weight for these parameters.
std::vector<float> llama3_rope_divisors(const Llama3RopeParams& p, uint32_t rope_dim,
                                        float rope_theta);

} // namespace strata::test
