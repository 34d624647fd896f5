// The Hugging Face importer's tensor naming: an HF tensor name -> strata's (GGUF's), from the
// layer names the model's architecture gives (ArchFormat::hf_names, formats/arch.h). Nothing
// here names a family: each architecture's file says what its checkpoints call their tensors.
#pragma once

#include "formats/arch.h"
#include "formats/model_source.h"

#include <string>
#include <vector>

namespace strata {

// An HF tensor name -> strata's name; `expert` is set for one 2-D slice of a 3-D tensor (an
// expert's matrix, one of a stacked list), `slices` to how many that tensor has. Empty when
// `names` (for configuration `c`) has no such tensor.
struct HfTensorName {
    std::string name;
    int expert = -1;
    int slices = 0;
};
HfTensorName hf_tensor_name(const HfLayerNames& names, const ModelConfig& c, const std::string& hf);

// The HF name a checkpoint of `names` stores strata's tensor `name` under (for a message: the
// first model prefix; "{i}" for a stacked list's index); empty when HF stores no such tensor.
std::string hf_name_of(const HfLayerNames& names, const std::string& name);

// Whether `hf` belongs to a part of the checkpoint strata does not run (names.ignored: a
// multimodal model's vision or audio tower).
bool hf_tensor_ignored(const HfLayerNames& names, const std::string& hf);

// import_hf, except that with `missing` set a model_type without a registered architecture is
// listed there instead of refused, and the configuration is not validated: for inspecting the
// tensors of a family whose architecture has not landed (tests).
ModelSource import_hf_source(const std::string& dir, std::vector<std::string>* missing);

} // namespace strata
