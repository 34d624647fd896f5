// Fused causal attention of one token's query heads over a KV cache, with streaming (online)
// softmax. All query heads that share a KV head are processed together, so each K and V row is
// read once per group (GQA/MQA).
#pragma once

#include "core/dtype.h"

#include <cstddef>
#include <cstdint>

namespace strata {

struct AttentionArgs {
    const float* q;      // n_head * head_dim, this token's queries (after RoPE)
    DType kv_type;       // F16, F32 or Q8_0 (head_dim a multiple of 32)
    const uint8_t* k;    // K: position j of KV head g at k + g * kv_head_stride + j * kv_row_bytes
    const uint8_t* v;    // V, same layout
    size_t kv_row_bytes; // bytes between consecutive positions of a head
    int n_pos;           // attend to positions pos_begin .. n_pos-1
    int n_head, n_head_kv, head_dim;
    float scale;    // 1/sqrt(head_dim)
    float* out;     // n_head * head_dim
    float* scratch; // attention_scratch_floats(...) floats
    // Non-null: a partial result over [pos_begin, n_pos): `out` is left unnormalized and each
    // head h of KV head g's group stores its running max and sum at
    // partial_stats[2 (g - g0) group + 2h], [... + 1], for attention_merge.
    float* partial_stats = nullptr;
    int pos_begin = 0;
    // Several consecutive query tokens in one call (prefill), each K/V block converted once for
    // all: token u's queries at q + u * q_stride, its output at out + u * out_stride, and it
    // attends to positions pos_begin .. n_pos + u - 1. At most kAttentionTokens; one token
    // with partial_stats.
    int n_tok = 1;
    size_t q_stride = 0, out_stride = 0;
    // Bytes between KV heads; 0: the heads of a position side by side in one row (head g at
    // value g * head_dim). The KV cache keeps each head's positions together (KvCache).
    size_t kv_head_stride = 0;
    // > 0: sliding-window attention. A query at position p sees positions p - window + 1 .. p
    // (exactly `window` positions, llama.cpp's standard SWA mask), intersected with
    // [pos_begin, p].
    int window = 0;
    // > 0: the K/V heads are rings of `ring` positions (a KV cache's windowed slot), position
    // j at index j % ring. The positions read, [max(pos_begin, n_pos - window), n_pos + n_tok
    // - 1), must span at most `ring`.
    int ring = 0;
    // > 0: scores soft-capped before the softmax, s = softcap tanh(s / softcap), s being the
    // scaled score (gemma2's attn_logit_softcapping).
    float softcap = 0;
};

// Query tokens per call at most (the scratch holds their scores).
constexpr int kAttentionTokens = 8;

// Positions per chunk when one token's attention is split over its context (so threads share
// long contexts even when there are fewer KV heads than threads). Fixed, so that the result
// does not depend on the thread count.
constexpr int kAttentionChunk = 256;

// Combines n_chunks partial results of one KV group (group = n_head / n_head_kv query heads):
// chunk c's unnormalized outputs (group x head_dim) at outs + c * out_stride, its stats
// (max, sum per head) at stats + c * stat_stride.
void attention_merge(int n_chunks, int group, int head_dim, const float* outs, size_t out_stride,
                     const float* stats, size_t stat_stride, float* out);

size_t attention_scratch_floats(int n_head, int n_head_kv, int head_dim);

// Computes KV heads [g0, g1) (so callers can split heads across threads).
void attention_ref(const AttentionArgs& a, int g0, int g1);

} // namespace strata
