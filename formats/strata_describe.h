// A .strata file described for a person (what `strata-convert --info` prints): architecture,
// hyperparameters, kv_source, tokenizer, tensor types and shapes, KV bytes per token.
#pragma once

#include <string>

namespace strata {

std::string describe_strata_file(const std::string& path);

} // namespace strata
