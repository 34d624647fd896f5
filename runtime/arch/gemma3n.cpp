// gemma3n (text): Gemma 3's attention (per-head Q/K RMSNorm, NeoX RoPE, sliding layers with
// their own base, embeddings x sqrt(n_embd)) with
// - AltUp: the hidden state is carried in S streams (altup_streams, 4); stream 0 is the
//   embedding, stream i its projection altup_proj[i-1] rescaled to stream 0's L2 norm. Each
//   layer predicts every stream as a mix of all of them (coefficients from a tanh router on
//   stream 0), runs the block on the prediction of stream 0 and corrects every prediction by
//   the block's innovation; at the end streams 1.. are projected back (altup_unembd_proj),
//   rescaled to stream 0's norm and the S streams averaged;
// - LAuReL: a rank-laurel_rank branch beside attention, (attention + laurel) / sqrt(2);
// - per-layer inputs: per_layer_token_embd[token] x sqrt(W) plus the embedding's projection
//   per_layer_model_proj / sqrt(n_embd), RMS-normed per layer slice, the sum / sqrt(2); each
//   layer gates its slice by gelu(inp_gate(stream 0)), projects it (proj, post_norm) and adds
//   it to streams 1..;
// - V RMS-normed without a weight, attention scale 1, GeGLU FFN whose gate on the first
//   layers keeps only what exceeds mean + 1.6449 std of its row (the 0.95 Gaussian quantile);
// - KV sharing: layers from n_layer - shared_kv_layers on compute no K/V and read the last
//   earlier layer of their kind (sliding or global);
// - a final logit soft-cap (30 unless the file says), tied output.
//
// llama.cpp (the reference: src/models/gemma3n-iswa.cpp) hard-codes the sliding pattern (4
// local + 1 global), the sparsity (first 10 layers, 1.6448533535) and the attention scale; so
// does this file for GGUF. Its GGUF files carry K/V projections on the sharing layers that
// nothing reads: the schema lists them so the file imports as it is.
//
// Hugging Face (transformers' modeling_gemma3n.py): Gemma3nForConditionalGeneration's
// config.json nests the text model in text_config (import_hf reads it; the vision and audio
// towers are ignored) and its tensors under model.language_model.; Gemma3nForCausalLM's are under
// model.. Its RMSNorm multiplies by the weight itself (not 1 + weight: no shift, as llama.cpp's
// converter does); embeddings are stored unscaled; altup_projections.{i} and
// altup_unembed_projections.{i} are stacked into altup_proj / altup_unembd_proj; the per-layer
// embedding covers vocab_size_per_layer_input tokens, the rest read row 0. The config gives the
// layer types, the sparsity per layer (activation_sparsity_pattern: the Gaussian quantile whose
// std multiple is the cut), the K/V sharing and the RoPE bases; the attention scale is 1
// whatever query_pre_attn_scalar says (Gemma3nTextAttention's scaling).
#include "formats/gguf_reader.h"
#include "runtime/arch/gemma_shared.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace strata {

namespace {
constexpr uint32_t kPeriod = 5;               // 4 sliding layers, then a global one
constexpr uint32_t kSparseLayers = 10;        // layers whose FFN gate is sparse
constexpr float kSparsityStd = 1.6448533535f; // the 0.95 quantile of a standard Gaussian
constexpr float kDefaultFinalSoftcap = 30.0f; // llama.cpp's default
constexpr uint32_t kHfDefaultSharedKv = 15;   // transformers' Gemma3nTextConfig default

void common(ModelConfig& c) {
    c.rope_style = RopeStyle::NeoX;
    c.embd_scale = std::sqrt(float(c.n_embd));
    c.attn_scale = 1.0f;
    c.attn_softcap = 0;
    c.tied_output = true;
    c.ffn_sparsity.assign(c.n_layer, 0.0f);
    for (uint32_t l = 0; l < std::min(c.n_layer, kSparseLayers); l++)
        c.ffn_sparsity[l] = kSparsityStd;
}

// Layers from `first` on read the K/V of the last layer before `first` of their own kind.
void share_kv(ModelConfig& c, uint32_t first, const std::string& where) {
    c.kv_source = cla_kv_source(c.n_layer, 1);
    for (uint32_t l = first; l < c.n_layer; l++) {
        int32_t src = -1;
        for (uint32_t j = 0; j < first; j++)
            if (c.sliding(j) == c.sliding(l)) src = int32_t(j);
        if (src < 0)
            fail(where + ": layer " + std::to_string(l) +
                 " shares K/V but no earlier layer of its kind owns any");
        c.kv_source[l] = src;
    }
}

// x with P(N(0, 1) < x) = p, for 0.5 < p < 1 (Newton's method on the normal CDF, in double).
double normal_quantile(double p) {
    double x = 0;
    for (int i = 0; i < 100; i++) {
        const double cdf = 0.5 * std::erfc(-x / std::sqrt(2.0));
        const double pdf = std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
        const double step = (cdf - p) / pdf;
        x -= step;
        if (std::fabs(step) < 1e-12) break;
    }
    return x;
}

// activation_sparsity_pattern: per layer the fraction of the FFN gate cut (0: dense), as the
// std multiple of its quantile; HF's default is 0.95 on the first 10 layers of models with more.
void read_hf_sparsity(const HparamSource& k, ModelConfig& c) {
    std::vector<double> p = k.numbers("activation_sparsity_pattern");
    if (p.empty()) {
        p.assign(c.n_layer, 0.0);
        if (c.n_layer > kSparseLayers) std::fill(p.begin(), p.begin() + kSparseLayers, 0.95);
    }
    if (p.size() != c.n_layer)
        fail(k.where() + ": activation_sparsity_pattern has " + std::to_string(p.size()) +
             " entries for " + std::to_string(c.n_layer) + " layers");
    c.ffn_sparsity.assign(c.n_layer, 0.0f);
    for (uint32_t l = 0; l < c.n_layer; l++) {
        if (p[l] == 0) continue;
        if (!(p[l] > 0.5 && p[l] < 1))
            fail(k.where() + ": activation_sparsity_pattern[" + std::to_string(l) + "] is " +
                 std::to_string(p[l]) + " (0, or above 0.5 and below 1, is supported)");
        c.ffn_sparsity[l] = float(normal_quantile(p[l]));
    }
}

class Gemma3n : public Architecture {
  public:
    const char* name() const override { return "gemma3n"; }
    std::vector<std::string> hf_types() const override { return {"gemma3n", "gemma3n_text"}; }
    // (Gemma 3n E2B's shape, without KV sharing)
    void defaults(ModelConfig& c) const override {
        common(c);
        c.sliding_window = 512;
        gemma::slide_by_period(c, kPeriod, "gemma3n");
        c.rope_theta_swa = 10000.0f;
        c.final_softcap = kDefaultFinalSoftcap;
        c.altup_streams = 4;
        c.per_layer_width = 256;
        c.laurel_rank = 64;
    }
    void read_gguf(const HparamSource& k, const GgufFile& g, ModelConfig& c) const override {
        common(c);
        c.sliding_window = k.u32("attention.sliding_window");
        gemma::slide_by_period(c, kPeriod, k.where());
        c.rope_theta_swa = k.f32_or("rope.freq_base_swa", 10000.0f);
        c.final_softcap = k.f32_or("final_logit_softcapping", kDefaultFinalSoftcap);
        c.altup_streams = k.u32_or("altup.num_inputs", 4);
        if (k.has("altup.active_idx") && k.number("altup.active_idx") != 0)
            fail(k.where() + ": gemma3n: altup.active_idx other than 0 is not supported");
        c.per_layer_width = k.u32_or("embedding_length_per_layer_input", 256);
        const GgufTensor* laurel = g.find("blk.0.laurel_l.weight");
        if (!laurel || laurel->shape.size() != 2)
            fail(k.where() + ": gemma3n: blk.0.laurel_l.weight is missing or not a matrix");
        c.laurel_rank = uint32_t(laurel->shape[0]);
        const uint32_t shared =
            k.has("attention.shared_kv_layers") ? k.u32("attention.shared_kv_layers") : 0;
        if (shared >= c.n_layer)
            fail(k.where() + ": gemma3n: attention.shared_kv_layers must be below block_count");
        share_kv(c, c.n_layer - shared, k.where());
    }
    void read_hf(const HparamSource& k, ModelConfig& c) const override {
        common(c);
        gemma::check_hf_activation(k);
        c.tied_output = k.flag_or("tie_word_embeddings", true);
        c.sliding_window = k.u32_or("sliding_window", 512);
        gemma::slide_by_period(c, kPeriod, k.where()); // (HF's default layer_types)
        gemma::read_hf_layer_types(k, c);
        c.rope_theta = k.f32_or("rope_theta", 1000000.0f);
        c.rope_theta_swa = k.f32_or("rope_local_base_freq", 10000.0f);
        c.final_softcap = k.f32_or("final_logit_softcapping", kDefaultFinalSoftcap);
        if (k.f32_or("attn_logit_softcapping", 0.0f) != 0.0f)
            fail(k.where() + ": gemma3n: attn_logit_softcapping is not supported");
        c.altup_streams = k.u32_or("altup_num_inputs", 4);
        if (c.altup_streams < 2 || c.altup_streams > 8)
            fail(k.where() + ": gemma3n: altup_num_inputs must be 2 to 8");
        if (k.f32_or("altup_active_idx", 0.0f) != 0.0f)
            fail(k.where() + ": gemma3n: altup_active_idx other than 0 is not supported");
        if (!k.flag_or("altup_correct_scale", true))
            fail(k.where() + ": gemma3n: altup_correct_scale false is not supported");
        // (altup_coef_clip clamps the coefficients while training only)
        c.per_layer_width = k.u32_or("hidden_size_per_layer_input", 256);
        const uint32_t per_layer_vocab = k.u32_or("vocab_size_per_layer_input", c.n_vocab);
        if (per_layer_vocab > c.n_vocab)
            fail(k.where() + ": gemma3n: vocab_size_per_layer_input " +
                 std::to_string(per_layer_vocab) + " exceeds vocab_size " +
                 std::to_string(c.n_vocab));
        c.laurel_rank = k.u32_or("laurel_rank", 64);
        read_hf_sparsity(k, c);
        const double shared = k.has("num_kv_shared_layers") ? k.number("num_kv_shared_layers")
                                                            : double(kHfDefaultSharedKv);
        if (shared < 0 || shared >= c.n_layer || shared != std::floor(shared))
            fail(k.where() + ": gemma3n: num_kv_shared_layers must be a whole number below "
                             "num_hidden_layers");
        share_kv(c, c.n_layer - uint32_t(shared), k.where());
    }
    void hf_names(const ModelConfig& c, HfLayerNames& n) const override {
        n.sandwich_norms(); // (norms stored as they multiply: no shift)
        n.model_prefixes = {"model.language_model.", "model."};
        n.top = {{"embed_tokens_per_layer.weight", "per_layer_token_embd.weight"},
                 {"per_layer_model_projection.weight", "per_layer_model_proj.weight"},
                 {"per_layer_projection_norm.weight", "per_layer_proj_norm.weight"}};
        const uint32_t others = c.altup_streams > 0 ? c.altup_streams - 1 : 0;
        n.stacked = {{"altup_projections.", {"altup_proj.weight", others}},
                     {"altup_unembed_projections.", {"altup_unembd_proj.weight", others}}};
        n.ignored = {"model.vision_tower.", "model.audio_tower.", "model.embed_vision.",
                     "model.embed_audio."};
        n.pad_rows_with_first = {"per_layer_token_embd.weight"};
        const std::map<std::string, std::string> parts = {
            {"altup.modality_router.weight", "altup_router.weight"},
            {"altup.router_norm.weight", "altup_router_norm.weight"},
            {"altup.prediction_coefs.weight", "altup_predict_coef.weight"},
            {"altup.correction_coefs.weight", "altup_correct_coef.weight"},
            {"altup.correct_output_scale", "altup_correct_scale.weight"}, // (a bare Parameter)
            {"laurel.linear_left.weight", "laurel_l.weight"},
            {"laurel.linear_right.weight", "laurel_r.weight"},
            {"laurel.post_laurel_norm.weight", "laurel_post_norm.weight"},
            {"per_layer_input_gate.weight", "inp_gate.weight"},
            {"per_layer_projection.weight", "proj.weight"},
            {"post_per_layer_input_norm.weight", "post_norm.weight"},
        };
        n.parts.insert(parts.begin(), parts.end());
    }
    void validate(const ModelConfig& c) const override {
        if (c.altup_streams < 2) fail("gemma3n: altup_streams must be 2 to 8");
        if (c.per_layer_width == 0 || c.laurel_rank == 0)
            fail("gemma3n: per_layer_width and laurel_rank must be positive");
        if (!c.tied_output) fail("gemma3n: the output must be tied to the embedding");
    }
    void tensors(const ModelConfig& c, TensorSchema& s) const override {
        const uint64_t D = c.n_embd, F = c.n_ff, HD = c.head_dim, S = c.altup_streams;
        const uint64_t QD = uint64_t(c.n_head) * HD, KVD = uint64_t(c.n_head_kv) * HD;
        const uint64_t W = c.per_layer_width, R = c.laurel_rank, L = c.n_layer;
        s.matrix("token_embd.weight", c.n_vocab, D);
        s.matrix("per_layer_token_embd.weight", c.n_vocab, L * W);
        s.matrix("per_layer_model_proj.weight", L * W, D);
        s.vec("per_layer_proj_norm.weight", W);
        s.experts("altup_proj.weight", S - 1, D, D);
        s.experts("altup_unembd_proj.weight", S - 1, D, D);
        for (uint32_t l = 0; l < c.n_layer; l++) {
            const std::string p = "blk." + std::to_string(l) + ".";
            s.vec(p + "attn_norm.weight", D);
            s.matrix(p + "attn_q.weight", QD, D);
            s.matrix(p + "attn_k.weight", KVD, D); // (read only where the layer owns K/V)
            s.matrix(p + "attn_v.weight", KVD, D);
            s.vec(p + "attn_q_norm.weight", HD);
            s.vec(p + "attn_k_norm.weight", HD);
            s.matrix(p + "attn_output.weight", D, QD);
            s.vec(p + "post_attention_norm.weight", D);
            s.vec(p + "ffn_norm.weight", D);
            s.matrix(p + "ffn_gate.weight", F, D);
            s.matrix(p + "ffn_up.weight", F, D);
            s.matrix(p + "ffn_down.weight", D, F);
            s.vec(p + "post_ffw_norm.weight", D);
            s.matrix(p + "altup_router.weight", S, D);
            s.vec(p + "altup_router_norm.weight", D);
            s.matrix(p + "altup_predict_coef.weight", S * S, S);
            s.matrix(p + "altup_correct_coef.weight", S, S);
            s.vec(p + "altup_correct_scale.weight", D);
            s.matrix(p + "laurel_l.weight", R, D);
            s.matrix(p + "laurel_r.weight", D, R);
            s.vec(p + "laurel_post_norm.weight", D);
            s.matrix(p + "inp_gate.weight", W, D);
            s.matrix(p + "proj.weight", D, W);
            s.vec(p + "post_norm.weight", D);
        }
        s.vec("output_norm.weight", D);
    }
    int build(GraphBuilder& b) const override;
};

// tanh(router(rmsnorm(x) / n_embd)): the S mixing weights of a token.
int modalities(GraphBuilder& b, int l, int x) {
    const int xn = b.rms_norm(x, b.model.vec(l, "altup_router_norm.weight"));
    b.scale(xn, 1.0f / float(b.config.n_embd));
    const int m = b.matmul(xn, b.model.matrix(l, "altup_router.weight"));
    b.tanh(m);
    return m;
}

int attention(GraphBuilder& b, int l, int xn) {
    const ModelConfig& c = b.config;
    const Model& m = b.model;
    const RopeTable& rope = c.sliding(uint32_t(l)) ? m.rope_swa : m.rope;
    const int q = b.matmul(xn, m.matrix(l, "attn_q.weight"));
    if (c.owns_kv(uint32_t(l))) {
        const int k = b.matmul(xn, m.matrix(l, "attn_k.weight"));
        const int v = b.matmul(xn, m.matrix(l, "attn_v.weight"));
        b.head_norm(k, m.vec(l, "attn_k_norm.weight"), int(c.n_head_kv));
        b.head_rms(v, int(c.n_head_kv));
        b.rope(k, int(c.n_head_kv), rope);
        b.store_kv(k, v, m.kv_slot(l));
    }
    b.head_norm(q, m.vec(l, "attn_q_norm.weight"), int(c.n_head));
    b.rope(q, int(c.n_head), rope);
    const int window = c.sliding(uint32_t(l)) ? int(c.sliding_window) : 0;
    const int att = b.attention(q, m.kv_slot(l), c.attn_scale, window);
    const int out = b.matmul(att, m.matrix(l, "attn_output.weight"));
    return b.rms_norm(out, m.vec(l, "post_attention_norm.weight"));
}

// One layer on the streams; returns the next layer's streams.
int layer(GraphBuilder& b, int l, int streams, int per_layer) {
    const ModelConfig& c = b.config;
    const Model& m = b.model;
    const int S = int(c.altup_streams), D = int(c.n_embd), W = int(c.per_layer_width);
    // predict
    const int coefs =
        b.matmul(modalities(b, l, b.cols(streams, 0, D)), m.matrix(l, "altup_predict_coef.weight"));
    const int pred = b.stream_mix(streams, coefs, S);
    const int active = b.cols(pred, 0, D);
    // attention and LAuReL on the active prediction
    const int xn = b.rms_norm(active, m.vec(l, "attn_norm.weight"));
    const int lr =
        b.matmul(b.matmul(xn, m.matrix(l, "laurel_l.weight")), m.matrix(l, "laurel_r.weight"));
    const int laurel = b.rms_norm(lr, m.vec(l, "laurel_post_norm.weight"));
    b.add(laurel, xn);
    const int h = attention(b, l, xn);
    b.add(h, active);
    b.add(h, laurel);
    b.scale(h, 1.0f / std::sqrt(2.0f));
    // FFN
    const int fn = b.rms_norm(h, m.vec(l, "ffn_norm.weight"));
    const int gate = b.matmul(fn, m.matrix(l, "ffn_gate.weight"));
    const int up = b.matmul(fn, m.matrix(l, "ffn_up.weight"));
    if (!c.ffn_sparsity.empty() && c.ffn_sparsity[size_t(l)] > 0)
        b.gaussian_topk(gate, c.ffn_sparsity[size_t(l)]);
    const int down = b.matmul(b.geglu(gate, up), m.matrix(l, "ffn_down.weight"));
    const int out = b.rms_norm(down, m.vec(l, "post_ffw_norm.weight"));
    b.add(out, h);
    // correct every stream by the innovation
    const int corr = b.matmul(modalities(b, l, out), m.matrix(l, "altup_correct_coef.weight"));
    b.stream_correct(pred, out, corr, S);
    // the per-layer input, gated by stream 0, into streams 1..
    const int first = b.mul_vec(b.cols(pred, 0, D), m.vec(l, "altup_correct_scale.weight"));
    const int gi = b.matmul(first, m.matrix(l, "inp_gate.weight"));
    const int gated = b.geglu(gi, b.cols(per_layer, l * W, W));
    const int pj =
        b.rms_norm(b.matmul(gated, m.matrix(l, "proj.weight")), m.vec(l, "post_norm.weight"));
    for (int i = 1; i < S; i++) b.add(b.cols(pred, i * D, D), pj);
    return pred;
}

int Gemma3n::build(GraphBuilder& b) const {
    const ModelConfig& c = b.config;
    const Model& m = b.model;
    const int S = int(c.altup_streams), D = int(c.n_embd), W = int(c.per_layer_width);
    const int L = int(c.n_layer);
    const int x = b.embed();
    // per-layer inputs [n, L * W]
    const int tok = b.get_rows(m.matrix("per_layer_token_embd.weight"));
    b.scale(tok, std::sqrt(float(W)));
    const int per_layer = b.matmul(x, m.matrix("per_layer_model_proj.weight"));
    b.scale(per_layer, 1.0f / std::sqrt(float(D)));
    b.head_norm(per_layer, m.vec("per_layer_proj_norm.weight"), L);
    b.add(per_layer, tok);
    b.scale(per_layer, 1.0f / std::sqrt(2.0f));
    // the streams
    int streams = b.tensor(S * D);
    b.copy_into(b.cols(streams, 0, D), x);
    for (int i = 1; i < S; i++)
        b.match_norm_into(b.cols(streams, i * D, D),
                          b.matmul(x, m.expert("altup_proj.weight", i - 1)), x);
    for (int l = 0; l < L; l++) streams = layer(b, l, streams, per_layer);
    // back to one stream: the mean of stream 0 and the others projected back
    const int s0 = b.cols(streams, 0, D);
    std::vector<int> back;
    for (int i = 1; i < S; i++) {
        back.push_back(
            b.matmul(b.cols(streams, i * D, D), m.expert("altup_unembd_proj.weight", i - 1)));
        b.match_norm(back.back(), s0);
    }
    for (int u : back) b.add(s0, u);
    b.scale(s0, 1.0f / float(S));
    return output_head(b, s0);
}
} // namespace

const Architecture& gemma3n_architecture() {
    static const Gemma3n a;
    return a;
}

} // namespace strata
