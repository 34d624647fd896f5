#include "runtime/arch/block.h"

#include "core/error.h"

namespace strata {

void block_tensors(const ModelConfig& c, const BlockOptions& o, TensorSchema& s) {
    const uint64_t D = c.n_embd, F = c.n_ff, HD = c.head_dim;
    const uint64_t QD = uint64_t(c.n_head) * HD, KVD = uint64_t(c.n_head_kv) * HD;
    s.matrix("token_embd.weight", c.n_vocab, D);
    for (uint32_t l = 0; l < c.n_layer; l++) {
        const std::string p = "blk." + std::to_string(l) + ".";
        const bool kv = c.owns_kv(l);
        s.vec(p + "attn_norm.weight", D);
        if (o.fused_qkv) {
            if (!kv) fail(std::string(c.arch) + ": a fused QKV layer must own its K/V");
            s.matrix(p + "attn_qkv.weight", QD + 2 * KVD, D);
        } else {
            s.matrix(p + "attn_q.weight", QD, D);
            if (kv) {
                s.matrix(p + "attn_k.weight", KVD, D);
                s.matrix(p + "attn_v.weight", KVD, D);
            }
        }
        if (o.qkv_bias) {
            s.vec(p + "attn_q.bias", QD);
            if (kv) {
                s.vec(p + "attn_k.bias", KVD);
                s.vec(p + "attn_v.bias", KVD);
            }
        }
        if (o.qk_norm != QkNorm::None) {
            const bool full = o.qk_norm == QkNorm::FullWidth;
            s.vec(p + "attn_q_norm.weight", full ? QD : HD);
            if (kv) s.vec(p + "attn_k_norm.weight", full ? KVD : HD);
        }
        s.matrix(p + "attn_output.weight", D, QD);
        if (o.post_norms) s.vec(p + "post_attention_norm.weight", D);
        s.vec(p + "ffn_norm.weight", D);
        if (o.moe) {
            const uint64_t E = c.n_expert, FE = c.n_ff_expert;
            s.matrix(p + "ffn_gate_inp.weight", E, D);
            s.experts(p + "ffn_gate_exps.weight", E, FE, D);
            s.experts(p + "ffn_up_exps.weight", E, FE, D);
            s.experts(p + "ffn_down_exps.weight", E, D, FE);
        } else if (o.fused_gate_up) {
            s.matrix(p + "ffn_up.weight", 2 * F, D);
            s.matrix(p + "ffn_down.weight", D, F);
        } else {
            s.matrix(p + "ffn_gate.weight", F, D);
            s.matrix(p + "ffn_up.weight", F, D);
            s.matrix(p + "ffn_down.weight", D, F);
        }
        if (o.post_norms) s.vec(p + "post_ffw_norm.weight", D);
    }
    s.vec("output_norm.weight", D);
    if (c.rope_freqs) s.vec("rope_freqs.weight", c.rope_dim / 2);
    if (!c.tied_output) s.matrix("output.weight", c.n_vocab, D);
}

int attention_branch(GraphBuilder& b, const BlockOptions& o, int l, int xn) {
    const ModelConfig& c = b.config;
    const Model& m = b.model;
    const int HD = int(c.head_dim), QD = int(c.n_head) * HD, KVD = int(c.n_head_kv) * HD;
    const bool kv = c.owns_kv(uint32_t(l));
    int q, k = -1, v = -1;
    if (o.fused_qkv) {
        const int qkv = b.matmul(xn, m.matrix(l, "attn_qkv.weight"));
        q = b.cols(qkv, 0, QD);
        k = b.cols(qkv, QD, KVD);
        v = b.cols(qkv, QD + KVD, KVD);
    } else {
        // (a source layer's K and V projections right after Q: the executor runs the three
        // matmuls on one input together)
        q = b.matmul(xn, m.matrix(l, "attn_q.weight"));
        if (kv) {
            k = b.matmul(xn, m.matrix(l, "attn_k.weight"));
            v = b.matmul(xn, m.matrix(l, "attn_v.weight"));
        }
    }
    const RopeTable& rope = c.sliding(uint32_t(l)) ? m.rope_swa : m.rope;
    const bool use_rope = c.has_rope(uint32_t(l));
    const float* qn = o.qk_norm != QkNorm::None ? m.vec(l, "attn_q_norm.weight") : nullptr;
    const float* kn = o.qk_norm != QkNorm::None && kv ? m.vec(l, "attn_k_norm.weight") : nullptr;
    const int q_norm_heads = o.qk_norm == QkNorm::FullWidth ? 1 : int(c.n_head);
    const int k_norm_heads = o.qk_norm == QkNorm::FullWidth ? 1 : int(c.n_head_kv);
    const bool norm_before = o.qk_norm == QkNorm::BeforeRope || o.qk_norm == QkNorm::FullWidth;
    // the query
    b.add_bias(q, m.vec(l, "attn_q.bias"));
    if (norm_before) b.head_norm(q, qn, q_norm_heads);
    if (use_rope) b.rope(q, int(c.n_head), rope);
    if (o.qk_norm == QkNorm::AfterRope) b.head_norm(q, qn, q_norm_heads);
    if (kv) { // a source layer: finish and store its K/V
        b.add_bias(k, m.vec(l, "attn_k.bias"));
        b.add_bias(v, m.vec(l, "attn_v.bias"));
        if (norm_before) b.head_norm(k, kn, k_norm_heads);
        if (use_rope) b.rope(k, int(c.n_head_kv), rope);
        if (o.qk_norm == QkNorm::AfterRope) b.head_norm(k, kn, k_norm_heads);
        b.store_kv(k, v, m.kv_slot(l));
    }
    const int window = c.sliding(uint32_t(l)) ? int(c.sliding_window) : 0;
    const int att = b.attention(q, m.kv_slot(l), c.attn_scale, window, c.attn_softcap);
    int out = b.matmul(att, m.matrix(l, "attn_output.weight"));
    if (o.post_norms) out = b.rms_norm(out, m.vec(l, "post_attention_norm.weight"));
    return out;
}

int ffn_branch(GraphBuilder& b, const BlockOptions& o, int l, int xn) {
    const ModelConfig& c = b.config;
    const Model& m = b.model;
    if (o.moe) return b.moe(xn, m.matrix(l, "ffn_gate_inp.weight"), m.moe(l));
    int gate, up;
    if (o.fused_gate_up) {
        const int gu = b.matmul(xn, m.matrix(l, "ffn_up.weight"));
        gate = b.cols(gu, 0, int(c.n_ff));
        up = b.cols(gu, int(c.n_ff), int(c.n_ff));
    } else {
        gate = b.matmul(xn, m.matrix(l, "ffn_gate.weight"));
        up = b.matmul(xn, m.matrix(l, "ffn_up.weight"));
    }
    const int h = o.geglu ? b.geglu(gate, up) : b.swiglu(gate, up);
    int out = b.matmul(h, m.matrix(l, "ffn_down.weight"));
    if (o.post_norms) out = b.rms_norm(out, m.vec(l, "post_ffw_norm.weight"));
    return out;
}

int output_head(GraphBuilder& b, int x) {
    const ModelConfig& c = b.config;
    const int xo = b.rms_norm(b.logit_rows(x), b.model.vec("output_norm.weight"));
    const int logits = b.matmul(xo, b.model.output);
    b.scale(logits, 1.0f / c.logit_scale);
    b.softcap(logits, c.final_softcap);
    return logits;
}

int block_graph(GraphBuilder& b, const BlockOptions& o) {
    const ModelConfig& c = b.config;
    const int x = b.embed();
    for (int l = 0; l < int(c.n_layer); l++) {
        const int attn = attention_branch(b, o, l, b.rms_norm(x, b.model.vec(l, "attn_norm.weight")));
        b.scale(attn, c.residual_scale);
        b.add(x, attn);
        const int ffn = ffn_branch(b, o, l, b.rms_norm(x, b.model.vec(l, "ffn_norm.weight")));
        b.scale(ffn, c.residual_scale);
        b.add(x, ffn);
    }
    return output_head(b, x);
}

} // namespace strata
