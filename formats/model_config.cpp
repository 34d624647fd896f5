#include "formats/model_config.h"
#include "formats/pre_tokenizer_table.h"

#include "core/error.h"
#include "formats/arch.h"

#include <cmath>
#include <set>

namespace strata {

namespace {
constexpr uint32_t kMaxDim = 1u << 20; // embedding / FFN width
constexpr uint32_t kMaxLayers = 4096;
constexpr uint32_t kMaxHeads = 4096;
constexpr uint32_t kMaxVocab = 1u << 24;
constexpr uint32_t kMaxCtx = 1u << 24;

void check_range(const char* field, uint64_t v, uint64_t lo, uint64_t hi) {
    if (v < lo || v > hi)
        fail(std::string("hyperparameter ") + field + " = " + std::to_string(v) +
             " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}
} // namespace

uint32_t ModelConfig::n_kv_layers() const {
    uint32_t n = 0;
    for (uint32_t l = 0; l < kv_source.size(); l++) n += owns_kv(l);
    return n;
}

bool ModelConfig::kv_windowed(uint32_t layer) const {
    if (sliding_window == 0 || layer >= kv_source.size() || !owns_kv(layer)) return false;
    for (uint32_t l = 0; l < kv_source.size(); l++)
        if (kv_source[l] == int32_t(layer) && !sliding(l)) return false;
    return true;
}

uint32_t ModelConfig::n_kv_windowed_layers() const {
    uint32_t n = 0;
    for (uint32_t l = 0; l < kv_source.size(); l++) n += kv_windowed(l);
    return n;
}

uint64_t ModelConfig::kv_bytes_per_token(double elem_bytes) const {
    return uint64_t(double(n_kv_layers() - n_kv_windowed_layers()) * n_head_kv * head_dim * 2 *
                    elem_bytes);
}

uint64_t ModelConfig::kv_window_bytes(double elem_bytes) const {
    return uint64_t(double(n_kv_windowed_layers()) * sliding_window * n_head_kv * head_dim * 2 *
                    elem_bytes);
}

void ModelConfig::validate() const {
    const ArchFormat& a = arch_format(arch); // fails naming an unknown architecture
    check_range("n_vocab", n_vocab, 1, kMaxVocab);
    check_range("n_embd", n_embd, 1, kMaxDim);
    check_range("n_layer", n_layer, 1, kMaxLayers);
    check_range("n_head", n_head, 1, kMaxHeads);
    check_range("n_head_kv", n_head_kv, 1, n_head);
    check_range("head_dim", head_dim, 2, 4096);
    check_range("n_ff", n_ff, 1, kMaxDim);
    check_range("n_ctx_train", n_ctx_train, 1, kMaxCtx);
    check_range("rope_dim", rope_dim, 2, head_dim);
    if (n_head % n_head_kv != 0)
        fail("n_head = " + std::to_string(n_head) +
             " is not a multiple of n_head_kv = " + std::to_string(n_head_kv));
    if (head_dim % 2 || rope_dim % 2) fail("head_dim and rope_dim must be even");
    if (!(norm_eps > 0 && norm_eps < 1))
        fail("norm_eps = " + std::to_string(norm_eps) + " is out of range");
    if (!(rope_theta > 0 && std::isfinite(rope_theta)))
        fail("rope_theta = " + std::to_string(rope_theta) + " is out of range");
    if (!(rope_scaling.factor > 0 && std::isfinite(rope_scaling.factor)))
        fail("rope scaling factor is out of range");
    if (kv_source.size() != n_layer)
        fail("kv_source has " + std::to_string(kv_source.size()) + " entries for " +
             std::to_string(n_layer) + " layers");
    for (uint32_t l = 0; l < n_layer; l++) {
        const int32_t s = kv_source[l];
        if (s < 0 || s > int32_t(l))
            fail("kv_source[" + std::to_string(l) + "] = " + std::to_string(s) +
                 " must name this layer or an earlier one");
        if (kv_source[size_t(s)] != s)
            fail("kv_source[" + std::to_string(l) + "] = " + std::to_string(s) +
                 " names a layer that does not own K/V itself");
    }
    for (const auto* v : {&layer_sliding, &layer_rope})
        if (!v->empty() && v->size() != n_layer)
            fail("a per-layer list has " + std::to_string(v->size()) + " entries for " +
                 std::to_string(n_layer) + " layers");
    if (!ffn_sparsity.empty() && ffn_sparsity.size() != n_layer)
        fail("ffn_sparsity has " + std::to_string(ffn_sparsity.size()) + " entries for " +
             std::to_string(n_layer) + " layers");
    for (float v : ffn_sparsity)
        if (!(v >= 0 && std::isfinite(v))) fail("an ffn_sparsity cutoff is out of range");
    if (altup_streams > 8)
        fail("altup_streams = " + std::to_string(altup_streams) + " (at most 8)");
    if (per_layer_width > kMaxDim || laurel_rank > kMaxDim)
        fail("per_layer_width or laurel_rank is out of range");
    if (!layer_sliding.empty() && sliding_window == 0)
        fail("sliding layers are set but sliding_window is 0");
    for (float v : {embd_scale, residual_scale, logit_scale})
        if (!(v > 0 && std::isfinite(v))) fail("a scale hyperparameter is out of range");
    if (!(attn_scale >= 0 && std::isfinite(attn_scale))) fail("attn_scale is out of range");
    if (!(attn_softcap >= 0 && final_softcap >= 0 && rope_theta_swa >= 0))
        fail("soft-cap and rope_theta_swa must not be negative");
    if (n_expert > 0) {
        check_range("n_expert", n_expert, 1, 4096);
        check_range("n_expert_used", n_expert_used, 1, n_expert);
        check_range("n_ff_expert", n_ff_expert, 1, kMaxDim);
    }
    a.validate(*this);
}

void TokenizerData::validate(uint32_t n_vocab) const {
    if (model != "spm" && model != "bpe") fail("unknown tokenizer model '" + model + "'");
    if (tokens.size() != n_vocab)
        fail("tokenizer has " + std::to_string(tokens.size()) +
             " tokens but the model's vocabulary is " + std::to_string(n_vocab));
    if (!scores.empty() && scores.size() != tokens.size())
        fail("tokenizer has " + std::to_string(scores.size()) + " scores for " +
             std::to_string(tokens.size()) + " tokens");
    if (!types.empty() && types.size() != tokens.size())
        fail("tokenizer has " + std::to_string(types.size()) + " token types for " +
             std::to_string(tokens.size()) + " tokens");
    for (int32_t t : types)
        if (t < 1 || t > 6) fail("tokenizer has an invalid token type " + std::to_string(t));
    for (auto [name, id] :
         {std::pair{"bos", bos_id}, {"eos", eos_id}, {"unk", unk_id}, {"pad", pad_id}})
        if (id < -1 || id >= int32_t(tokens.size()))
            fail(std::string("tokenizer ") + name + " id " + std::to_string(id) +
                 " is out of range");
    for (const auto* ids : {&lstrip_ids, &rstrip_ids})
        for (int32_t id : *ids)
            if (id < 0 || id >= int32_t(tokens.size()))
                fail("tokenizer strip id " + std::to_string(id) + " is out of range");
    if (model == "bpe" && pre == "custom" && pre_regexes.empty())
        fail("tokenizer pre-tokenizer is 'custom' but no regexes are given");
}

std::vector<TensorSpec> expected_tensors(const ModelConfig& c) {
    TensorSchema s; // the architecture's schema, written once in its file
    arch_format(c.arch).tensors(c, s);
    return std::move(s.specs);
}

bool is_embedding_table(const std::string& name) {
    const std::string suffix = "token_embd.weight";
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

uint64_t parameter_count(const ModelConfig& c) {
    uint64_t n = 0;
    for (const auto& t : expected_tensors(c)) {
        uint64_t e = 1;
        for (uint64_t d : t.shape) e *= d;
        n += e;
    }
    return n;
}

uint64_t active_parameter_count(const ModelConfig& c) {
    uint64_t n = 0;
    for (const auto& t : expected_tensors(c)) {
        uint64_t e = 1;
        for (uint64_t d : t.shape) e *= d;
        // experts [n_expert, rows, cols]: a token runs n_expert_used of them
        if (t.shape.size() == 3 && c.n_expert > 0) e = e / c.n_expert * c.n_expert_used;
        n += e;
    }
    return n;
}

std::vector<int32_t> cla_kv_source(uint32_t n_layer, uint32_t group) {
    std::vector<int32_t> src(n_layer);
    for (uint32_t l = 0; l < n_layer; l++) src[l] = int32_t(group > 1 ? l - l % group : l);
    return src;
}

// ---- metadata keys (docs/format.md lists them) --------------------------------------------

void write_metadata(Metadata& m, const ModelConfig& c, const TokenizerData& t,
                    const Provenance& p) {
    m.set("general.architecture", c.arch);
    m.set("general.name", c.name);
    m.set("general.source", p.source);
    m.set("general.converter_version", p.converter_version);
    m.set("general.synthetic", uint32_t(c.synthetic));
    m.set("model.n_vocab", c.n_vocab);
    m.set("model.n_embd", c.n_embd);
    m.set("model.n_layer", c.n_layer);
    m.set("model.n_head", c.n_head);
    m.set("model.n_head_kv", c.n_head_kv);
    m.set("model.head_dim", c.head_dim);
    m.set("model.n_ff", c.n_ff);
    m.set("model.n_ctx_train", c.n_ctx_train);
    m.set("model.norm_eps", c.norm_eps);
    m.set("model.tied_output", uint32_t(c.tied_output));
    m.set("model.attn_bias", uint32_t(c.attn_bias));
    m.set("model.kv_source", c.kv_source);
    m.set("model.embd_scale", c.embd_scale);
    m.set("model.residual_scale", c.residual_scale);
    m.set("model.attn_scale", c.attn_scale);
    m.set("model.logit_scale", c.logit_scale);
    m.set("model.attn_softcap", c.attn_softcap);
    m.set("model.final_softcap", c.final_softcap);
    m.set("model.sliding_window", c.sliding_window);
    m.set("model.layer_sliding", c.layer_sliding);
    m.set("model.layer_rope", c.layer_rope);
    m.set("rope.theta_swa", c.rope_theta_swa);
    m.set("moe.n_expert", c.n_expert);
    m.set("moe.n_expert_used", c.n_expert_used);
    m.set("moe.n_ff_expert", c.n_ff_expert);
    m.set("moe.norm_topk", uint32_t(c.expert_norm_topk));
    if (c.altup_streams) m.set("model.altup_streams", c.altup_streams);
    if (c.per_layer_width) m.set("model.per_layer_width", c.per_layer_width);
    if (c.laurel_rank) m.set("model.laurel_rank", c.laurel_rank);
    if (!c.ffn_sparsity.empty()) m.set("model.ffn_sparsity", c.ffn_sparsity);
    m.set("rope.theta", c.rope_theta);
    m.set("rope.dim", c.rope_dim);
    m.set("rope.style", uint32_t(c.rope_style));
    m.set("rope.freq_factors", uint32_t(c.rope_freqs));
    m.set("rope.scaling.type", c.rope_scaling.type);
    m.set("rope.scaling.factor", c.rope_scaling.factor);
    m.set("rope.scaling.original_ctx", c.rope_scaling.original_ctx);
    m.set("rope.scaling.low_freq_factor", c.rope_scaling.low_freq_factor);
    m.set("rope.scaling.high_freq_factor", c.rope_scaling.high_freq_factor);
    m.set("tokenizer.model", t.model);
    m.set("tokenizer.pre", t.pre);
    m.set("tokenizer.tokens", t.tokens);
    m.set("tokenizer.scores", t.scores);
    m.set("tokenizer.token_type", t.types);
    m.set("tokenizer.merges", t.merges);
    m.set("tokenizer.bos_id", t.bos_id);
    m.set("tokenizer.eos_id", t.eos_id);
    m.set("tokenizer.unk_id", t.unk_id);
    m.set("tokenizer.pad_id", t.pad_id);
    m.set("tokenizer.add_bos", uint32_t(t.add_bos));
    m.set("tokenizer.add_eos", uint32_t(t.add_eos));
    m.set("tokenizer.chat_template", t.chat_template);
    if (!t.pre_regexes.empty()) m.set("tokenizer.pre_regexes", t.pre_regexes);
    m.set("tokenizer.ignore_merges", uint32_t(t.ignore_merges));
    m.set("tokenizer.add_space_prefix", uint32_t(t.add_space_prefix));
    m.set("tokenizer.remove_extra_whitespaces", uint32_t(t.remove_extra_whitespaces));
    if (!t.lstrip_ids.empty()) m.set("tokenizer.lstrip_ids", t.lstrip_ids);
    if (!t.rstrip_ids.empty()) m.set("tokenizer.rstrip_ids", t.rstrip_ids);
}

ModelConfig config_from_metadata(const Metadata& m) {
    ModelConfig c;
    c.arch = m.str("general.architecture");
    c.name = m.str_or("general.name", "");
    c.synthetic = m.u32_or("general.synthetic", 0) != 0;
    c.n_vocab = m.u32("model.n_vocab");
    c.n_embd = m.u32("model.n_embd");
    c.n_layer = m.u32("model.n_layer");
    c.n_head = m.u32("model.n_head");
    c.n_head_kv = m.u32("model.n_head_kv");
    c.head_dim = m.u32("model.head_dim");
    c.n_ff = m.u32("model.n_ff");
    c.n_ctx_train = m.u32("model.n_ctx_train");
    c.norm_eps = m.f32("model.norm_eps");
    c.tied_output = m.u32("model.tied_output") != 0;
    c.attn_bias = m.u32_or("model.attn_bias", 0) != 0;
    c.kv_source = m.i32s("model.kv_source");
    c.embd_scale = m.f32_or("model.embd_scale", 1.0f);
    c.residual_scale = m.f32_or("model.residual_scale", 1.0f);
    c.attn_scale = m.f32_or("model.attn_scale", 0.0f);
    c.logit_scale = m.f32_or("model.logit_scale", 1.0f);
    c.attn_softcap = m.f32_or("model.attn_softcap", 0.0f);
    c.final_softcap = m.f32_or("model.final_softcap", 0.0f);
    c.sliding_window = m.u32_or("model.sliding_window", 0);
    if (m.has("model.layer_sliding")) c.layer_sliding = m.i32s("model.layer_sliding");
    if (m.has("model.layer_rope")) c.layer_rope = m.i32s("model.layer_rope");
    c.rope_theta_swa = m.f32_or("rope.theta_swa", 0.0f);
    c.n_expert = m.u32_or("moe.n_expert", 0);
    c.n_expert_used = m.u32_or("moe.n_expert_used", 0);
    c.n_ff_expert = m.u32_or("moe.n_ff_expert", 0);
    c.expert_norm_topk = m.u32_or("moe.norm_topk", 0) != 0;
    c.altup_streams = m.u32_or("model.altup_streams", 0);
    c.per_layer_width = m.u32_or("model.per_layer_width", 0);
    c.laurel_rank = m.u32_or("model.laurel_rank", 0);
    if (m.has("model.ffn_sparsity")) c.ffn_sparsity = m.f32s("model.ffn_sparsity");
    c.rope_theta = m.f32("rope.theta");
    c.rope_dim = m.u32("rope.dim");
    const uint32_t style = m.u32("rope.style");
    if (style > 1) fail("rope.style = " + std::to_string(style) + " is unknown");
    c.rope_style = RopeStyle(style);
    c.rope_freqs = m.u32_or("rope.freq_factors", 0) != 0;
    c.rope_scaling.type = m.str_or("rope.scaling.type", "none");
    c.rope_scaling.factor = m.f32_or("rope.scaling.factor", 1.0f);
    c.rope_scaling.original_ctx = m.u32_or("rope.scaling.original_ctx", 0);
    c.rope_scaling.low_freq_factor = m.f32_or("rope.scaling.low_freq_factor", 1.0f);
    c.rope_scaling.high_freq_factor = m.f32_or("rope.scaling.high_freq_factor", 4.0f);
    c.validate();
    return c;
}

TokenizerData tokenizer_from_metadata(const Metadata& m) {
    TokenizerData t;
    t.model = m.str("tokenizer.model");
    t.pre = m.str_or("tokenizer.pre", "default");
    t.tokens = m.strs("tokenizer.tokens");
    t.scores = m.f32s("tokenizer.scores");
    t.types = m.i32s("tokenizer.token_type");
    t.merges = m.strs("tokenizer.merges");
    t.bos_id = m.i32("tokenizer.bos_id");
    t.eos_id = m.i32("tokenizer.eos_id");
    t.unk_id = m.i32("tokenizer.unk_id");
    t.pad_id = m.i32("tokenizer.pad_id");
    t.add_bos = m.u32("tokenizer.add_bos") != 0;
    t.add_eos = m.u32("tokenizer.add_eos") != 0;
    t.chat_template = m.str_or("tokenizer.chat_template", "");
    // Files written before these keys existed: the table's default for the pre-tokenizer.
    if (m.has("tokenizer.pre_regexes")) t.pre_regexes = m.strs("tokenizer.pre_regexes");
    const PreTokenizerSpec* spec = find_pre_tokenizer(t.pre);
    t.ignore_merges = m.u32_or("tokenizer.ignore_merges", spec && spec->ignore_merges) != 0;
    t.add_space_prefix = m.u32_or("tokenizer.add_space_prefix", 1) != 0;
    t.remove_extra_whitespaces = m.u32_or("tokenizer.remove_extra_whitespaces", 0) != 0;
    if (m.has("tokenizer.lstrip_ids")) t.lstrip_ids = m.i32s("tokenizer.lstrip_ids");
    if (m.has("tokenizer.rstrip_ids")) t.rstrip_ids = m.i32s("tokenizer.rstrip_ids");
    t.validate(uint32_t(t.tokens.size()));
    return t;
}

Provenance provenance_from_metadata(const Metadata& m) {
    return {m.str_or("general.source", ""), m.str_or("general.converter_version", "")};
}

} // namespace strata
