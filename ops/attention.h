// Fused causal attention of one token's query heads over a KV cache, with streaming (online)
// softmax. All query heads that share a KV head are processed together, so each K and V row is
// read once per group (GQA/MQA).
#pragma once

#include "formats/dtype.h"

#include <cstddef>
#include <cstdint>

namespace strata {

struct AttentionArgs {
    const float* q;      // n_head * head_dim, this token's queries (after RoPE)
    DType kv_type;       // F16, F32 or Q8_0 (head_dim a multiple of 32)
    const uint8_t* k;    // K rows: row j at k + j * kv_row_bytes, head g at value g * head_dim
    const uint8_t* v;    // V rows, same layout
    size_t kv_row_bytes; // bytes between consecutive positions
    int n_pos;           // attend to positions 0 .. n_pos-1
    int n_head, n_head_kv, head_dim;
    float scale;    // 1/sqrt(head_dim)
    float* out;     // n_head * head_dim
    float* scratch; // attention_scratch_floats(...) floats
};

size_t attention_scratch_floats(int n_head, int n_head_kv, int head_dim);

// Computes KV heads [g0, g1) (so callers can split heads across threads).
void attention_ref(const AttentionArgs& a, int g0, int g1);

} // namespace strata
