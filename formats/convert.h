// The conversion pipeline behind strata-convert: an imported ModelSource, an optional target
// type and CLA grouping in, a `.strata` file out.
#pragma once

#include "formats/model_source.h"
#include "formats/strata_writer.h"

#include <optional>
#include <string>
#include <vector>

namespace strata {

struct ConvertOptions {
    std::optional<DType> type; // matrices; nullopt keeps each source type (synthetic: f16)
    uint32_t cla = 0;          // >1: make the CLA-N layout, dropping consumers' K/V projections
    // A K-quant mix (formats/quant_mix.h: q3_k_s ... q5_k_m; `type` must be its base type):
    // larger types for the tensors llama.cpp's mix of that name gives more bits. Empty: none.
    std::string mix = {};
    // Matrices that can_interleave8 (core/interleave.h: a type with the layout, a multiple of 8
    // rows; all but token_embd, whose rows are looked up one by one) are stored in the interleave8
    // layout the kernels read fastest; false keeps every tensor row-major (byte for byte the GGUF
    // blocks).
    bool interleave = true;
    // Plan everything and report it (file_bytes included), but write nothing.
    bool dry_run = false;
};

// The Q4_K_M mix: whether matrix `name` of an n_layer model is Q6_K (else Q4_K).
bool q4_k_m_wants_q6_k(const std::string& name, uint32_t n_layer);

// The weight types and mixes strata-convert's --type takes ("f32 ... iq4_xs q3_k_s ... q5_k_m").
std::string convert_type_names();

struct ConvertedTensor {
    std::string name;
    DType from, to;
    std::vector<uint64_t> shape;
    bool fallback = false; // wanted the target type but rows don't fill its blocks (`to` says
                           // what it got: the type's 32-value fallback where rows fill 32, else
                           // a float type)
    TensorLayout layout = TensorLayout::RowMajor;
};

struct ConvertReport {
    std::vector<ConvertedTensor> tensors;
    std::vector<std::string> notes;
    uint64_t parameters = 0;
    uint64_t file_bytes = 0; // of the file written (or, dry run, that would be written)
    ModelConfig config;
};

// Checks the source against its configuration, applies the options and writes `out`.
ConvertReport convert_model(ModelSource& source, const std::string& out,
                            const ConvertOptions& options,
                            const StrataWriter::Progress& progress = {});

// The version written into files' provenance.
const char* strata_version();

} // namespace strata
