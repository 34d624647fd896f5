#include "runtime/model.h"

#include "core/error.h"

#include <cmath>

namespace strata {

std::shared_ptr<const Model> Model::load(const std::string& path) {
    auto m = std::make_shared<Model>();
    m->file_ = StrataFile::open(path);
    const ModelConfig& c = m->file_.config();
    const StrataFile& f = m->file_;
    auto matrix = [&](const std::string& name) {
        const TensorEntry* t = f.find(name);
        if (!t) fail(path + ": tensor " + name + " is missing");
        return MatrixRef{t->type, f.data(*t), int(t->shape[0]), int(t->shape[1]), t->layout};
    };
    auto vec = [&](const std::string& name) -> const float* {
        const TensorEntry* t = f.find(name);
        return t ? reinterpret_cast<const float*>(f.data(*t)) : nullptr;
    };
    m->token_embd = matrix("token_embd.weight");
    if (m->token_embd.layout != TensorLayout::RowMajor) // rows are looked up one at a time
        fail(path + ": token_embd.weight must be row-major, not " +
             layout_name(m->token_embd.layout));
    m->output = c.tied_output ? m->token_embd : matrix("output.weight");
    m->output_norm = vec("output_norm.weight");
    std::vector<int> slot_of(c.n_layer, -1);
    for (uint32_t l = 0; l < c.n_layer; l++) {
        const std::string p = "blk." + std::to_string(l) + ".";
        LayerWeights w{};
        w.attn_norm = vec(p + "attn_norm.weight");
        w.wq = matrix(p + "attn_q.weight");
        w.bq = vec(p + "attn_q.bias");
        if (c.owns_kv(l)) {
            w.wk = matrix(p + "attn_k.weight");
            w.wv = matrix(p + "attn_v.weight");
            w.bk = vec(p + "attn_k.bias");
            w.bv = vec(p + "attn_v.bias");
            slot_of[l] = m->n_kv_slots++;
        }
        w.kv_slot = slot_of[size_t(c.kv_source[l])];
        w.wo = matrix(p + "attn_output.weight");
        w.ffn_norm = vec(p + "ffn_norm.weight");
        w.w_gate = matrix(p + "ffn_gate.weight");
        w.w_up = matrix(p + "ffn_up.weight");
        w.w_down = matrix(p + "ffn_down.weight");
        m->layers.push_back(w);
    }
    // Activation rows must fill the blocks of each matrix's activation type.
    for (const MatrixRef* mr : {&m->token_embd, &m->output})
        if (activation_row_bytes(mr->type, mr->cols) == 0)
            fail(path + ": output/embedding rows do not fit their type's blocks");
    m->rope.head_dim = int(c.head_dim);
    m->rope.rope_dim = int(c.rope_dim);
    m->rope.neox = c.rope_style == RopeStyle::NeoX;
    m->rope.theta = c.rope_theta;
    m->rope.scaling = c.rope_scaling.type;
    m->rope.factor = c.rope_scaling.factor;
    m->rope.original_ctx = int(c.rope_scaling.original_ctx);
    m->rope.low_freq_factor = c.rope_scaling.low_freq_factor;
    m->rope.high_freq_factor = c.rope_scaling.high_freq_factor;
    m->rope_inv_freq = strata::rope_inv_freq(m->rope);
    if (c.rope_freqs) { // Llama 3 frequency divisors (GGUF rope_freqs.weight)
        const float* f = vec("rope_freqs.weight");
        for (size_t i = 0; i < m->rope_inv_freq.size(); i++) {
            if (!(f[i] > 0) || !std::isfinite(f[i]))
                fail(path + ": rope_freqs.weight[" + std::to_string(i) + "] = " +
                     std::to_string(f[i]) + " is not a positive frequency divisor");
            m->rope_inv_freq[i] /= f[i];
        }
    }
    return m;
}

uint64_t weight_bytes_per_token(const Model& m) {
    uint64_t b = 0;
    auto add = [&](const MatrixRef& w) {
        if (w.data) b += uint64_t(row_bytes(w.type, uint64_t(w.cols))) * uint64_t(w.rows);
    };
    for (const auto& l : m.layers)
        for (const MatrixRef* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down})
            add(*w);
    add(m.output);
    return b;
}

} // namespace strata
