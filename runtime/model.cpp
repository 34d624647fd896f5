#include "runtime/model.h"

#include "core/error.h"

#include <cmath>

namespace strata {

namespace {
RopeTable make_rope(const ModelConfig& c, float theta, const float* factors,
                    const std::string& path, bool scaled = true) {
    RopeTable r;
    RopeParams& p = r.params;
    p.head_dim = int(c.head_dim);
    p.rope_dim = int(c.rope_dim);
    p.neox = c.rope_style == RopeStyle::NeoX;
    p.theta = theta;
    if (scaled) {
        p.scaling = c.rope_scaling.type;
        p.factor = c.rope_scaling.factor;
        p.original_ctx = int(c.rope_scaling.original_ctx);
        p.low_freq_factor = c.rope_scaling.low_freq_factor;
        p.high_freq_factor = c.rope_scaling.high_freq_factor;
    }
    r.inv_freq = rope_inv_freq(p);
    if (factors) { // Llama 3 frequency divisors (GGUF rope_freqs.weight)
        for (size_t i = 0; i < r.inv_freq.size(); i++) {
            if (!(factors[i] > 0) || !std::isfinite(factors[i]))
                fail(path + ": rope_freqs.weight[" + std::to_string(i) +
                     "] = " + std::to_string(factors[i]) + " is not a positive frequency divisor");
            r.inv_freq[i] /= factors[i];
        }
    }
    return r;
}
} // namespace

std::shared_ptr<const Model> Model::load(const std::string& path) {
    auto m = std::make_shared<Model>();
    m->path_ = path;
    m->file_ = StrataFile::open(path); // validated against the architecture's schema
    const ModelConfig& c = m->file_.config();
    const StrataFile& f = m->file_;
    for (const TensorEntry& t : f.tensors()) {
        if (t.shape.size() == 2) {
            m->matrices_[t.name] =
                MatrixRef{t.type, f.data(t), int(t.shape[0]), int(t.shape[1]), t.layout};
        } else if (t.shape.size() == 3) { // experts: [n_expert, rows, cols]
            const size_t per = size_t(t.bytes / t.shape[0]);
            auto& list = m->experts_[t.name];
            for (uint64_t e = 0; e < t.shape[0]; e++)
                list.push_back(MatrixRef{t.type, f.data(t) + e * per, int(t.shape[1]),
                                         int(t.shape[2]), t.layout});
        }
    }
    m->token_embd = m->matrix("token_embd.weight");
    if (m->token_embd.layout != TensorLayout::RowMajor) // rows are looked up one at a time
        fail(path + ": token_embd.weight must be row-major, not " +
             layout_name(m->token_embd.layout));
    m->output = c.tied_output ? m->token_embd : m->matrix("output.weight");
    m->kv_slot_.assign(c.n_layer, -1);
    std::vector<int> slot_of(c.n_layer, -1);
    for (uint32_t l = 0; l < c.n_layer; l++) {
        if (c.owns_kv(l)) slot_of[l] = m->n_kv_slots_++;
        m->kv_slot_[l] = slot_of[size_t(c.kv_source[l])];
    }
    // Activation rows must fill the blocks of each matrix's activation type.
    for (const MatrixRef* mr : {&m->token_embd, &m->output})
        if (activation_row_bytes(mr->type, mr->cols) == 0)
            fail(path + ": output/embedding rows do not fit their type's blocks");
    if (c.n_expert > 0) {
        if (c.n_expert_used > 64) fail(path + ": more than 64 experts per token");
        for (uint32_t l = 0; l < c.n_layer; l++) {
            MoeWeights w;
            w.gate = &m->expert(layer_name(int(l), "ffn_gate_exps.weight"), 0);
            w.up = &m->expert(layer_name(int(l), "ffn_up_exps.weight"), 0);
            w.down = &m->expert(layer_name(int(l), "ffn_down_exps.weight"), 0);
            w.n_expert = int(c.n_expert);
            w.n_used = int(c.n_expert_used);
            w.norm_topk = c.expert_norm_topk;
            m->moe_.push_back(w);
        }
    }
    const float* factors = c.rope_freqs ? m->vec("rope_freqs.weight") : nullptr;
    m->rope = make_rope(c, c.rope_theta, factors, path);
    // Sliding layers with a base of their own are not scaled (gemma3: rope_scaling is the
    // global layers', llama.cpp's rope_freq_scale_train_swa 1); without one they are the same.
    m->rope_swa =
        c.rope_theta_swa > 0 ? make_rope(c, c.rope_theta_swa, factors, path, false) : m->rope;
    return m;
}

const MatrixRef* Model::find_matrix(const std::string& name) const {
    auto it = matrices_.find(name);
    return it == matrices_.end() ? nullptr : &it->second;
}

const MatrixRef& Model::matrix(const std::string& name) const {
    const MatrixRef* m = find_matrix(name);
    if (!m) fail(path_ + ": tensor " + name + " is missing");
    return *m;
}

const MatrixRef& Model::expert(const std::string& name, int e) const {
    auto it = experts_.find(name);
    if (it == experts_.end() || e < 0 || size_t(e) >= it->second.size())
        fail(path_ + ": expert " + std::to_string(e) + " of " + name + " is missing");
    return it->second[size_t(e)];
}

const MoeWeights& Model::moe(int layer) const {
    if (size_t(layer) >= moe_.size())
        fail(path_ + ": layer " + std::to_string(layer) + " has no experts");
    return moe_[size_t(layer)];
}

const float* Model::vec(const std::string& name) const {
    const TensorEntry* t = file_.find(name);
    return t && t->shape.size() == 1 ? reinterpret_cast<const float*>(file_.data(*t)) : nullptr;
}

uint64_t weight_bytes_per_token(const Model& m) {
    const ModelConfig& c = m.config();
    uint64_t b = 0;
    for (const TensorEntry& t : m.file().tensors()) {
        if (t.shape.size() < 2 || is_embedding_table(t.name)) continue; // (one row a token)
        uint64_t bytes = t.bytes;
        if (t.shape.size() == 3 && c.n_expert > 0) bytes = bytes / c.n_expert * c.n_expert_used;
        b += bytes;
    }
    if (c.tied_output)
        b += row_bytes(m.output.type, uint64_t(m.output.cols)) * uint64_t(m.output.rows);
    return b;
}

bool Model::has_float_matrix() const {
    auto is_float = [](const MatrixRef& w) {
        return w.data && (w.type == DType::F32 || w.type == DType::F16 || w.type == DType::BF16);
    };
    bool any = is_float(output);
    for (const auto& [name, w] : matrices_) any |= is_float(w);
    for (const auto& [name, ws] : experts_)
        for (const MatrixRef& w : ws) any |= is_float(w);
    return any;
}

} // namespace strata
