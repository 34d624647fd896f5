// The mixture-of-experts op (Op::Moe): per token, a softmax over the router logits picks the
// n_used most probable experts, whose SwiGLU FFNs are weighted and summed. Decode (one token)
// runs the chosen experts in one parallel region; prefill gathers each expert's tokens into one
// tile so that every expert's weights are read once per batch.
#pragma once

#include "runtime/graph.h"

#include <cstdint>

namespace strata {

// The op's rows: n_tokens rows of `cols` inputs, of router logits (n_expert each) and of
// outputs (`cols` each), each with its stride in floats; `probs` holds n_expert floats of
// scratch.
struct MoeIo {
    const float* x = nullptr;
    const float* logits = nullptr;
    float* y = nullptr;
    float* probs = nullptr;
    int x_stride = 0, logits_stride = 0, y_stride = 0;
    int n_tokens = 0, cols = 0;
};

// Runs the op with c's kernels and threads; `act` holds the graph's activation bytes
// (Graph::activation_bytes()).
void moe_forward(const GraphContext& c, const MoeWeights& w, const MoeIo& io, uint8_t* act);

} // namespace strata
