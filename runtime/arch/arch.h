// An architecture: its hyperparameters and tensor schema (formats/arch.h) and its graph. One
// file per architecture in this directory defines one, and registry.cpp lists them. The
// session asks the registry by name (build_graph); nothing outside an architecture's file
// names it. Shared pieces of the usual pre-norm transformer block are in block.h.
#pragma once

#include "formats/arch.h"
#include "runtime/graph_builder.h"

namespace strata {

class Architecture : public ArchFormat {
  public:
    // The batch's graph, embeddings to logits; returns the logits tensor.
    virtual int build(GraphBuilder& b) const = 0;
};

// The registered architecture `name` (fails naming it).
const Architecture& architecture(const std::string& name);

// A planned graph for a batch of n tokens of model m: logits of the last token, or of all n.
Graph build_graph(const Model& m, int n, bool all_logits);

} // namespace strata
