// Graph builders, one per architecture family. Each returns a planned graph for a batch of n
// tokens whose output is the logits of the last token (or of all n when `all_logits`).
#pragma once

#include "runtime/graph.h"
#include "runtime/model.h"

namespace strata {

Graph build_llama_graph(const Model& m, int n, bool all_logits);

} // namespace strata
