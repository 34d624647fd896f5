// The Hugging Face importer's tensor naming: an HF tensor name -> strata's (GGUF's), from the
// layer names the model's architecture gives (ArchFormat::hf_names, formats/arch.h). Nothing
// here names a family: each architecture's file says what its checkpoints call their tensors.
#pragma once

#include "formats/arch.h"
#include "formats/model_source.h"

#include <string>
#include <vector>

namespace strata {

// An HF tensor name -> strata's name; `expert` is set for one expert's 2-D slice of a 3-D
// expert tensor. Empty when `names` (for configuration `c`) has no such tensor.
struct HfTensorName {
    std::string name;
    int expert = -1;
};
HfTensorName hf_tensor_name(const HfLayerNames& names, const ModelConfig& c, const std::string& hf);

// import_hf, except that with `missing` set a model_type without a registered architecture is
// listed there instead of refused, and the configuration is not validated: for inspecting the
// tensors of a family whose architecture has not landed (tests).
ModelSource import_hf_source(const std::string& dir, std::vector<std::string>* missing);

} // namespace strata
