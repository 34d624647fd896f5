// GGUF -> Hugging Face directory, for round-trip tests of the HF importer. The facts used (each
// family's config.json fields, tensor names and layouts) are those of transformers' modeling
// files and of llama.cpp's convert_hf_to_gguf.py, inverted:
// - llama.cpp's llama converter permutes the Q/K rows of each head from HF's rotate-half order
//   (pairs i, i + d/2) to adjacent pairs (2i, 2i + 1) for its "normal" RoPE; the architectures it
//   runs with normal RoPE (llama, granite, smollm3) get the inverse permutation here.
// - Gemma's RMSNorm multiplies by (1 + weight); GGUF stores weight + 1, so HF gets stored - 1.
// - GGUF's 3-D expert tensors become one 2-D tensor per expert.
// - Gemma 3n is written as a real checkpoint is (Gemma3nForConditionalGeneration): config.json's
//   text fields in text_config beside vision_config / audio_config, the text model's tensors
//   under model.language_model. (norms as they multiply: no shift; altup_proj and
//   altup_unembd_proj as lists of matrices; intermediate_size listed per layer), and a few
//   vision and audio tower tensors the importer must skip.
#include "tests/hf_writer.h"

#include "core/error.h"
#include "core/quantize_ref.h"
#include "formats/gguf_reader.h"
#include "formats/model_source.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

namespace strata::test {

using json = nlohmann::json;

namespace {

enum class Family {
    Llama,
    Mixtral,
    Qwen2,
    Qwen3,
    Qwen3Moe,
    Olmoe,
    Gemma2,
    Gemma3,
    Phi3,
    Granite,
    Smollm3,
    Hunyuan,
    Gemma3n
};

struct FamilyInfo {
    Family family;
    const char* model_type;
    const char* architecture; // config.json "architectures"
};

FamilyInfo family_of(const GgufFile& g) {
    const std::string arch = g.get_string("general.architecture").value_or("");
    const bool moe = g.get_int(arch + ".expert_count").value_or(0) > 0;
    if (arch == "llama")
        return moe ? FamilyInfo{Family::Mixtral, "mixtral", "MixtralForCausalLM"}
                   : FamilyInfo{Family::Llama, "llama", "LlamaForCausalLM"};
    if (arch == "qwen2") return {Family::Qwen2, "qwen2", "Qwen2ForCausalLM"};
    if (arch == "qwen3") return {Family::Qwen3, "qwen3", "Qwen3ForCausalLM"};
    if (arch == "qwen3moe") return {Family::Qwen3Moe, "qwen3_moe", "Qwen3MoeForCausalLM"};
    if (arch == "olmoe") return {Family::Olmoe, "olmoe", "OlmoeForCausalLM"};
    if (arch == "gemma2") return {Family::Gemma2, "gemma2", "Gemma2ForCausalLM"};
    if (arch == "gemma3") return {Family::Gemma3, "gemma3_text", "Gemma3ForCausalLM"};
    if (arch == "phi3") return {Family::Phi3, "phi3", "Phi3ForCausalLM"};
    if (arch == "granite") return {Family::Granite, "granite", "GraniteForCausalLM"};
    if (arch == "smollm3") return {Family::Smollm3, "smollm3", "SmolLM3ForCausalLM"};
    if (arch == "gemma3n") return {Family::Gemma3n, "gemma3n", "Gemma3nForConditionalGeneration"};
    if (arch == "hunyuan-dense")
        return {Family::Hunyuan, "hunyuan_v1_dense", "HunYuanDenseV1ForCausalLM"};
    fail(g.name() + ": the HF writer does not know architecture '" + arch + "'");
}

bool normal_rope(Family f) {
    return f == Family::Llama || f == Family::Mixtral || f == Family::Granite ||
           f == Family::Smollm3;
}
bool is_gemma(Family f) { return f == Family::Gemma2 || f == Family::Gemma3; }

struct OutTensor {
    std::string name;
    DType type;
    std::vector<uint64_t> shape;
    std::vector<uint8_t> data;
};

const char* safetensors_dtype(DType t) {
    switch (t) {
    case DType::F32:
        return "F32";
    case DType::F16:
        return "F16";
    case DType::BF16:
        return "BF16";
    default:
        fail(std::string("safetensors cannot hold ") + dtype_name(t));
    }
}

bool is_float(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// Rows [row0, row0 + n) of a GGUF tensor (row = its innermost dimension) as `out` values;
// `src_row(r)` picks the source row for output row r (a permutation); `add` is added to every
// value (Gemma's norm shift).
std::vector<uint8_t> take_rows(const GgufFile& g, const GgufTensor& t, uint64_t row0, uint64_t n,
                               DType out, const std::function<uint64_t(uint64_t)>& src_row,
                               float add) {
    const uint64_t cols = t.shape.back();
    const size_t in_row = row_bytes(t.type, cols), out_row = row_bytes(out, cols);
    if (in_row == 0 || out_row == 0) fail(t.name + ": rows do not fill whole blocks");
    std::vector<uint8_t> bytes(out_row * n);
    std::vector<float> buf(cols);
    for (uint64_t r = 0; r < n; r++) {
        const uint64_t from = row0 + (src_row ? src_row(r) : r);
        dequantize_row_ref(t.type, g.data(t) + from * in_row, buf.data(), int64_t(cols));
        if (add != 0)
            for (float& v : buf) v += add;
        quantize_row_ref(out, buf.data(), bytes.data() + r * out_row, int64_t(cols));
    }
    return bytes;
}

void write_safetensors(const std::string& path, const std::vector<OutTensor>& tensors) {
    json header = json::object();
    uint64_t off = 0;
    for (const auto& t : tensors) {
        header[t.name] = {{"dtype", safetensors_dtype(t.type)},
                          {"shape", t.shape},
                          {"data_offsets", {off, off + t.data.size()}}};
        off += t.data.size();
    }
    header["__metadata__"] = {{"format", "pt"}};
    std::string h = header.dump();
    while ((8 + h.size()) % 8) h.push_back(' '); // data 8-byte aligned, as safetensors writes it
    std::ofstream f(path, std::ios::binary);
    const uint64_t n = h.size();
    f.write(reinterpret_cast<const char*>(&n), 8);
    f.write(h.data(), std::streamsize(h.size()));
    for (const auto& t : tensors)
        f.write(reinterpret_cast<const char*>(t.data.data()), std::streamsize(t.data.size()));
    if (!f) fail(path + ": write failed");
}

// ---- SentencePiece tokenizer.model (protobuf) ---------------------------------------------
void put_varint(std::string& out, uint64_t v) {
    while (v >= 0x80) {
        out.push_back(char(uint8_t(v) | 0x80));
        v >>= 7;
    }
    out.push_back(char(v));
}
void put_key(std::string& out, uint32_t field, uint32_t wire) {
    put_varint(out, field << 3 | wire);
}
void put_bytes(std::string& out, uint32_t field, const std::string& s) {
    put_key(out, field, 2);
    put_varint(out, s.size());
    out += s;
}

// ModelProto { repeated SentencePiece pieces = 1; TrainerSpec trainer_spec = 2; }
// SentencePiece { string piece = 1; float score = 2; Type type = 3; }
// TrainerSpec { model_type = 3 (1 = UNIGRAM); unk_id = 40; bos_id = 41; eos_id = 42; }
std::string sentencepiece_model(const TokenizerData& t) {
    std::string out;
    for (size_t i = 0; i < t.tokens.size(); i++) {
        std::string piece;
        put_bytes(piece, 1, t.tokens[i]);
        put_key(piece, 2, 5);
        const float score = i < t.scores.size() ? t.scores[i] : 0.0f;
        char b[4];
        std::memcpy(b, &score, 4);
        piece.append(b, 4);
        put_key(piece, 3, 0);
        put_varint(piece, uint64_t(i < t.types.size() ? t.types[i] : 1));
        put_bytes(out, 1, piece);
    }
    std::string spec;
    put_key(spec, 3, 0);
    put_varint(spec, 1);
    const std::pair<uint32_t, int32_t> ids[] = {{40, t.unk_id}, {41, t.bos_id}, {42, t.eos_id}};
    for (auto [field, id] : ids) {
        put_key(spec, field, 0);
        put_varint(spec, uint64_t(int64_t(id))); // -1 is ten bytes of two's complement
    }
    put_bytes(out, 2, spec);
    return out;
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary);
    f << text;
    if (!f) fail(path + ": write failed");
}

} // namespace

std::vector<float> llama3_rope_divisors(const Llama3RopeParams& p, uint32_t rope_dim,
                                        float rope_theta) {
    std::vector<float> out;
    const double low_wavelen = p.original_ctx / p.low_freq_factor;
    const double high_wavelen = p.original_ctx / p.high_freq_factor;
    for (uint32_t i = 0; i < rope_dim; i += 2) {
        const double freq = 1.0 / std::pow(double(rope_theta), double(i) / rope_dim);
        const double wavelen = 2 * M_PI / freq;
        if (wavelen < high_wavelen)
            out.push_back(1.0f);
        else if (wavelen > low_wavelen)
            out.push_back(p.factor);
        else {
            const double smooth = (p.original_ctx / wavelen - p.low_freq_factor) /
                                  (p.high_freq_factor - p.low_freq_factor);
            out.push_back(float(1.0 / ((1 - smooth) / p.factor + smooth)));
        }
    }
    return out;
}

HfWriteResult write_hf_from_gguf(const std::string& gguf_path, const std::string& dir,
                                 const HfWriteOptions& opt) {
    if (!is_float(opt.dequantize_to)) fail("the HF writer dequantizes to F32, F16 or BF16 only");
    GgufFile g = GgufFile::open(gguf_path);
    const FamilyInfo fi = family_of(g);
    const Family fam = fi.family;
    const std::string arch = *g.get_string("general.architecture");
    HfWriteResult result;
    result.model_type = fi.model_type;

    auto need_int = [&](const std::string& key) {
        auto v = g.get_int(arch + "." + key);
        if (!v) fail(gguf_path + ": metadata key " + arch + "." + key + " is missing");
        return *v;
    };
    auto opt_int = [&](const std::string& key) { return g.get_int(arch + "." + key); };
    auto opt_float = [&](const std::string& key) { return g.get_float(arch + "." + key); };

    const TokenizerData tok = tokenizer_from_gguf(g);
    const int64_t n_embd = need_int("embedding_length"), n_layer = need_int("block_count");
    const int64_t n_head = need_int("attention.head_count");
    const int64_t n_head_kv = opt_int("attention.head_count_kv").value_or(n_head);
    const int64_t head_dim = opt_int("attention.key_length").value_or(n_embd / n_head);
    const int64_t n_ff = need_int("feed_forward_length");
    const double rope_theta = opt_float("rope.freq_base").value_or(10000.0);
    const bool tied = g.find("output.weight") == nullptr;

    // ---- config.json ----
    json c = {{"model_type", fi.model_type},
              {"architectures", {fi.architecture}},
              {"vocab_size", tok.tokens.size()},
              {"hidden_size", n_embd},
              {"intermediate_size", n_ff},
              {"num_hidden_layers", n_layer},
              {"num_attention_heads", n_head},
              {"num_key_value_heads", n_head_kv},
              {"head_dim", head_dim},
              {"max_position_embeddings", need_int("context_length")},
              {"rms_norm_eps", opt_float("attention.layer_norm_rms_epsilon").value_or(1e-5)},
              {"rope_theta", rope_theta},
              {"rope_scaling", nullptr},
              {"tie_word_embeddings", tied},
              {"hidden_act", "silu"},
              {"torch_dtype", opt.dequantize_to == DType::F32 ? "float32" : "float16"}};
    if (tok.bos_id >= 0) c["bos_token_id"] = tok.bos_id;
    if (tok.eos_id >= 0) c["eos_token_id"] = tok.eos_id;
    if (opt_int("rope.dimension_count").value_or(head_dim) != head_dim)
        c["partial_rotary_factor"] = double(*opt_int("rope.dimension_count")) / double(head_dim);
    auto sliding_layers = [&](int64_t period) {
        json types = json::array();
        for (int64_t l = 0; l < n_layer; l++)
            types.push_back(l % period < period - 1 ? "sliding_attention" : "full_attention");
        return types;
    };
    if (const GgufTensor* rf = g.find("rope_freqs.weight")) {
        const auto want = llama3_rope_divisors(
            opt.llama3, uint32_t(opt_int("rope.dimension_count").value_or(head_dim)),
            float(rope_theta));
        if (rf->type != DType::F32 || rf->shape.size() != 1 || rf->shape[0] != want.size())
            fail(gguf_path + ": rope_freqs.weight is not " + std::to_string(want.size()) +
                 " F32 values");
        const float* have = reinterpret_cast<const float*>(g.data(*rf));
        for (size_t i = 0; i < want.size(); i++)
            if (std::fabs(have[i] - want[i]) > 1e-5f * want[i])
                fail(gguf_path + ": rope_freqs.weight[" + std::to_string(i) +
                     "] = " + std::to_string(have[i]) +
                     " is not Llama 3 scaling with the given "
                     "parameters (" +
                     std::to_string(want[i]) + ")");
        c["rope_scaling"] = {{"rope_type", "llama3"},
                             {"factor", opt.llama3.factor},
                             {"low_freq_factor", opt.llama3.low_freq_factor},
                             {"high_freq_factor", opt.llama3.high_freq_factor},
                             {"original_max_position_embeddings", opt.llama3.original_ctx}};
    }
    const int64_t n_expert = opt_int("expert_count").value_or(0);
    const int64_t n_expert_used = opt_int("expert_used_count").value_or(0);
    switch (fam) {
    case Family::Llama:
    case Family::Qwen3:
    case Family::Hunyuan:
        c["attention_bias"] = false;
        if (fam == Family::Hunyuan) c["use_qk_norm"] = true;
        break;
    case Family::Qwen2:
        c["use_sliding_window"] = false;
        break;
    case Family::Mixtral:
        c["num_local_experts"] = n_expert;
        c["num_experts_per_tok"] = n_expert_used;
        c["sliding_window"] = nullptr;
        break;
    case Family::Qwen3Moe:
        c["num_experts"] = n_expert;
        c["num_experts_per_tok"] = n_expert_used;
        c["norm_topk_prob"] = true; // llama.cpp renormalizes qwen3moe's top-k weights
        c["moe_intermediate_size"] = need_int("expert_feed_forward_length");
        c["decoder_sparse_step"] = 1;
        c["mlp_only_layers"] = json::array();
        break;
    case Family::Olmoe:
        c["num_experts"] = n_expert;
        c["num_experts_per_tok"] = n_expert_used;
        c["norm_topk_prob"] = false;
        c["clip_qkv"] = nullptr;
        break;
    case Family::Gemma2:
    case Family::Gemma3: {
        c.erase("hidden_act");
        c["hidden_activation"] = "gelu_pytorch_tanh";
        c["query_pre_attn_scalar"] = head_dim; // llama.cpp scales by 1/sqrt(head_dim)
        c["attn_logit_softcapping"] = nullptr;
        c["final_logit_softcapping"] = nullptr;
        if (auto v = opt_float("attn_logit_softcapping")) c["attn_logit_softcapping"] = *v;
        if (auto v = opt_float("final_logit_softcapping")) c["final_logit_softcapping"] = *v;
        // llama.cpp's default pattern: gemma2 period 2; gemma3 from the key (else 6).
        const int64_t period =
            fam == Family::Gemma2 ? 2 : opt_int("attention.sliding_window_pattern").value_or(6);
        if (auto w = opt_int("attention.sliding_window")) {
            c["sliding_window"] = *w;
            c["layer_types"] = sliding_layers(period);
            if (fam == Family::Gemma3) c["sliding_window_pattern"] = period;
        }
        if (fam == Family::Gemma3)
            c["rope_local_base_freq"] = opt_float("rope.freq_base_swa").value_or(10000.0);
        break;
    }
    case Family::Phi3:
        c["original_max_position_embeddings"] = need_int("context_length");
        c["sliding_window"] = nullptr;
        if (auto w = opt_int("attention.sliding_window")) c["sliding_window"] = *w;
        break;
    case Family::Granite:
        c["embedding_multiplier"] = opt_float("embedding_scale").value_or(1.0);
        c["residual_multiplier"] = opt_float("residual_scale").value_or(1.0);
        c["attention_multiplier"] =
            opt_float("attention.scale").value_or(1.0 / std::sqrt(double(head_dim)));
        c["logits_scaling"] = opt_float("logit_scale").value_or(1.0);
        break;
    case Family::Gemma3n: {
        c.erase("hidden_act");
        c["hidden_activation"] = "gelu_pytorch_tanh";
        c["model_type"] = "gemma3n_text"; // (text_config's; the top level says gemma3n)
        c.erase("architectures");
        c["intermediate_size"] = json::array();
        for (int64_t l = 0; l < n_layer; l++) c["intermediate_size"].push_back(n_ff);
        c["query_pre_attn_scalar"] = head_dim; // (unused: Gemma 3n's attention scale is 1)
        c["attn_logit_softcapping"] = nullptr;
        c["final_logit_softcapping"] = opt_float("final_logit_softcapping").value_or(30.0);
        c["sliding_window"] = need_int("attention.sliding_window");
        c["rope_local_base_freq"] = opt_float("rope.freq_base_swa").value_or(10000.0);
        const GgufValue* pattern = g.get(arch + ".attention.sliding_window_pattern");
        if (!pattern || pattern->nums.size() != size_t(n_layer))
            fail(gguf_path + ": " + arch + ".attention.sliding_window_pattern is not a list of " +
                 std::to_string(n_layer));
        c["layer_types"] = json::array();
        for (double sliding : pattern->nums)
            c["layer_types"].push_back(sliding != 0 ? "sliding_attention" : "full_attention");
        // activation_sparsity_scale holds the std multiples (float32); HF the Gaussian quantiles
        // (0.95), here to six decimals.
        const GgufValue* scale = g.get(arch + ".activation_sparsity_scale");
        if (!scale || scale->nums.size() != size_t(n_layer))
            fail(gguf_path + ": " + arch + ".activation_sparsity_scale is not a list of " +
                 std::to_string(n_layer));
        c["activation_sparsity_pattern"] = json::array();
        for (double x : scale->nums)
            c["activation_sparsity_pattern"].push_back(
                x > 0 ? std::round(0.5 * std::erfc(-x / std::sqrt(2.0)) * 1e6) / 1e6 : 0.0);
        c["altup_num_inputs"] = opt_int("altup.num_inputs").value_or(4);
        c["altup_active_idx"] = opt_int("altup.active_idx").value_or(0);
        c["altup_coef_clip"] = 120.0;
        c["altup_correct_scale"] = true;
        c["hidden_size_per_layer_input"] =
            opt_int("embedding_length_per_layer_input").value_or(256);
        c["vocab_size_per_layer_input"] = opt.gemma3n_per_layer_vocab > 0
                                              ? int64_t(opt.gemma3n_per_layer_vocab)
                                              : int64_t(tok.tokens.size());
        const GgufTensor* laurel = g.find("blk.0.laurel_l.weight");
        if (!laurel) fail(gguf_path + ": no blk.0.laurel_l.weight");
        c["laurel_rank"] = laurel->shape[0];
        c["num_kv_shared_layers"] = opt_int("attention.shared_kv_layers").value_or(0);
        break;
    }
    case Family::Smollm3: {
        // llama.cpp hard-codes every 4th layer without RoPE; HF lists 1 where RoPE is used.
        json no_rope = json::array();
        for (int64_t l = 0; l < n_layer; l++) no_rope.push_back((l + 1) % 4 != 0 ? 1 : 0);
        c["no_rope_layers"] = no_rope;
        c["no_rope_layer_interval"] = 4;
        break;
    }
    }
    if (fam == Family::Gemma3n) { // the text model's fields nest in text_config
        json top = {{"model_type", fi.model_type},
                    {"architectures", {fi.architecture}},
                    {"text_config", c},
                    {"vision_config", {{"model_type", "gemma3n_vision"}, {"hidden_size", 16}}},
                    {"audio_config", {{"model_type", "gemma3n_audio"}, {"hidden_size", 16}}},
                    {"torch_dtype", c["torch_dtype"]}};
        c = top;
    }
    write_text(dir + "/config.json", c.dump(2));

    // ---- tensors ----
    static const std::map<std::string, std::string> top = {
        {"token_embd.weight", "model.embed_tokens.weight"},
        {"output_norm.weight", "model.norm.weight"},
        {"output.weight", "lm_head.weight"},
    };
    std::map<std::string, std::string> layer = {
        {"attn_norm.weight", "input_layernorm.weight"},
        {"attn_q.weight", "self_attn.q_proj.weight"},
        {"attn_k.weight", "self_attn.k_proj.weight"},
        {"attn_v.weight", "self_attn.v_proj.weight"},
        {"attn_q.bias", "self_attn.q_proj.bias"},
        {"attn_k.bias", "self_attn.k_proj.bias"},
        {"attn_v.bias", "self_attn.v_proj.bias"},
        {"attn_output.weight", "self_attn.o_proj.weight"},
        {"attn_qkv.weight", "self_attn.qkv_proj.weight"},
        {"attn_q_norm.weight", "self_attn.q_norm.weight"},
        {"attn_k_norm.weight", "self_attn.k_norm.weight"},
        {"ffn_norm.weight", "post_attention_layernorm.weight"},
        {"ffn_gate.weight", "mlp.gate_proj.weight"},
        {"ffn_up.weight", "mlp.up_proj.weight"},
        {"ffn_down.weight", "mlp.down_proj.weight"},
        {"ffn_gate_inp.weight", "mlp.gate.weight"},
    };
    std::map<std::string, std::string> experts = {
        {"ffn_gate_exps.weight", "mlp.experts.{}.gate_proj.weight"},
        {"ffn_up_exps.weight", "mlp.experts.{}.up_proj.weight"},
        {"ffn_down_exps.weight", "mlp.experts.{}.down_proj.weight"},
    };
    if (fam == Family::Hunyuan) {
        layer["attn_q_norm.weight"] = "self_attn.query_layernorm.weight";
        layer["attn_k_norm.weight"] = "self_attn.key_layernorm.weight";
    }
    if (is_gemma(fam)) {
        layer["ffn_norm.weight"] = "pre_feedforward_layernorm.weight";
        layer["post_attention_norm.weight"] = "post_attention_layernorm.weight";
        layer["post_ffw_norm.weight"] = "post_feedforward_layernorm.weight";
    }
    if (fam == Family::Phi3) layer["ffn_up.weight"] = "mlp.gate_up_proj.weight"; // gate rows first
    std::map<std::string, std::string> top_names = top;
    std::string model_prefix = "model.";
    if (fam == Family::Gemma3n) {
        model_prefix = "model.language_model.";
        for (auto& [gguf_name, hf_name] : top_names)
            if (hf_name.rfind("model.", 0) == 0)
                hf_name = model_prefix + hf_name.substr(std::string("model.").size());
        top_names["per_layer_token_embd.weight"] = model_prefix + "embed_tokens_per_layer.weight";
        top_names["per_layer_model_proj.weight"] =
            model_prefix + "per_layer_model_projection.weight";
        top_names["per_layer_proj_norm.weight"] = model_prefix + "per_layer_projection_norm.weight";
        layer["ffn_norm.weight"] = "pre_feedforward_layernorm.weight";
        layer["post_attention_norm.weight"] = "post_attention_layernorm.weight";
        layer["post_ffw_norm.weight"] = "post_feedforward_layernorm.weight";
        const std::map<std::string, std::string> more = {
            {"altup_router.weight", "altup.modality_router.weight"},
            {"altup_router_norm.weight", "altup.router_norm.weight"},
            {"altup_predict_coef.weight", "altup.prediction_coefs.weight"},
            {"altup_correct_coef.weight", "altup.correction_coefs.weight"},
            {"altup_correct_scale.weight", "altup.correct_output_scale"},
            {"laurel_l.weight", "laurel.linear_left.weight"},
            {"laurel_r.weight", "laurel.linear_right.weight"},
            {"laurel_post_norm.weight", "laurel.post_laurel_norm.weight"},
            {"inp_gate.weight", "per_layer_input_gate.weight"},
            {"proj.weight", "per_layer_projection.weight"},
            {"post_norm.weight", "post_per_layer_input_norm.weight"},
        };
        layer.insert(more.begin(), more.end());
    }
    // Top-level lists of matrices (GGUF keeps them as one 3-D tensor).
    std::map<std::string, std::string> stacked;
    if (fam == Family::Gemma3n)
        stacked = {
            {"altup_proj.weight", model_prefix + "altup_projections.{}.weight"},
            {"altup_unembd_proj.weight", model_prefix + "altup_unembed_projections.{}.weight"}};
    if (fam == Family::Mixtral) {
        layer["ffn_gate_inp.weight"] = "block_sparse_moe.gate.weight";
        experts = {{"ffn_gate_exps.weight", "block_sparse_moe.experts.{}.w1.weight"},
                   {"ffn_down_exps.weight", "block_sparse_moe.experts.{}.w2.weight"},
                   {"ffn_up_exps.weight", "block_sparse_moe.experts.{}.w3.weight"}};
    }

    std::vector<OutTensor> out;
    for (const GgufTensor& t : g.tensors()) {
        if (t.name == "rope_freqs.weight") continue; // config.json's rope_scaling says it
        if (!t.supported)
            fail(gguf_path + ": tensor " + t.name + " has a type the writer cannot read");
        const DType to = is_float(t.type) ? t.type : opt.dequantize_to;
        const bool norm = t.name.size() > 11 && t.name.rfind("norm.weight") == t.name.size() - 11;
        const float shift = is_gemma(fam) && norm ? -1.0f : 0.0f;
        const DType to_shifted = shift != 0 ? DType::F32 : to;
        std::string hf;
        if (auto st = stacked.find(t.name); st != stacked.end()) {
            if (t.shape.size() != 3) fail(gguf_path + ": " + t.name + " is not a 3-D tensor");
            const uint64_t rows = t.shape[1];
            for (uint64_t x = 0; x < t.shape[0]; x++) {
                std::string name = st->second;
                name.replace(name.find("{}"), 2, std::to_string(x));
                const uint64_t from = opt.swap_gemma3n_altup_proj ? t.shape[0] - 1 - x : x;
                out.push_back({name,
                               to,
                               {t.shape[1], t.shape[2]},
                               take_rows(g, t, from * rows, rows, to, nullptr, 0)});
            }
            continue;
        }
        if (auto it = top_names.find(t.name); it != top_names.end()) {
            hf = it->second;
            if (fam == Family::Gemma3n && opt.gemma3n_per_layer_vocab > 0 &&
                t.name == "per_layer_token_embd.weight") { // only the first rows
                const uint64_t n = opt.gemma3n_per_layer_vocab;
                out.push_back({hf, to, {n, t.shape[1]}, take_rows(g, t, 0, n, to, nullptr, 0)});
                continue;
            }
        } else if (t.name.rfind("blk.", 0) == 0) {
            const size_t dot = t.name.find('.', 4);
            const std::string idx = t.name.substr(4, dot - 4), part = t.name.substr(dot + 1);
            const std::string prefix = model_prefix + "layers." + idx + ".";
            if (auto e = experts.find(part); e != experts.end()) {
                if (t.shape.size() != 3)
                    fail(gguf_path + ": " + t.name + " is not a 3-D expert tensor");
                const uint64_t rows = t.shape[1];
                for (uint64_t x = 0; x < t.shape[0]; x++) {
                    std::string name = e->second;
                    name.replace(name.find("{}"), 2, std::to_string(x));
                    out.push_back({prefix + name,
                                   to,
                                   {t.shape[1], t.shape[2]},
                                   take_rows(g, t, x * rows, rows, to, nullptr, 0)});
                }
                continue;
            }
            auto it = layer.find(part);
            if (it == layer.end())
                fail(gguf_path + ": the HF writer has no " + fi.model_type + " name for " + t.name);
            hf = prefix + it->second;
        } else {
            fail(gguf_path + ": the HF writer has no name for " + t.name);
        }
        // Rows: GGUF's normal-RoPE Q/K rows back into HF's rotate-half order, per head:
        // GGUF row 2i + j of a head is HF row j * d/2 + i.
        std::function<uint64_t(uint64_t)> perm;
        const bool q = t.name.find(".attn_q.") != std::string::npos,
                   k = t.name.find(".attn_k.") != std::string::npos;
        if (normal_rope(fam) && (q || k) && !opt.keep_gguf_qk_order) {
            if (t.shape.size() != 2)
                fail(gguf_path + ": " + t.name + ": permuting a normal-RoPE bias is not written");
            const uint64_t d = uint64_t(head_dim);
            perm = [d](uint64_t hf_row) {
                const uint64_t head = hf_row / d, r = hf_row % d, j = r / (d / 2), i = r % (d / 2);
                return head * d + 2 * i + j;
            };
        }
        const uint64_t rows = t.shape.size() == 1 ? 1 : t.bytes / row_bytes(t.type, t.shape.back());
        if (fam == Family::Phi3 && opt.swap_phi3_gate_up &&
            t.name.find(".ffn_up.") != std::string::npos)
            perm = [half = rows / 2](uint64_t r) { return (r + half) % (2 * half); };
        out.push_back({hf, to_shifted, t.shape, take_rows(g, t, 0, rows, to_shifted, perm, shift)});
    }
    if (fam == Family::Gemma3n) { // a few tensors of the towers a text import skips
        for (const char* name : {"model.vision_tower.timm_model.conv_stem.conv.weight",
                                 "model.embed_vision.embedding.weight",
                                 "model.audio_tower.subsample_conv_projection.conv_0.conv.weight",
                                 "model.embed_audio.embedding_projection.weight"}) {
            std::vector<float> v(16 * 16, 0.5f);
            std::vector<uint8_t> bytes(v.size() * 4);
            std::memcpy(bytes.data(), v.data(), bytes.size());
            out.push_back({name, DType::F32, {16, 16}, bytes});
        }
    }
    write_safetensors(dir + "/model.safetensors", out);

    // ---- tokenizer ----
    if (tok.model != "spm")
        fail(gguf_path + ": the HF writer writes SentencePiece vocabularies only (this is " +
             tok.model + ")");
    write_text(dir + "/tokenizer.model", sentencepiece_model(tok));
    json tc = {{"add_bos_token", tok.add_bos}, {"add_eos_token", tok.add_eos}};
    auto piece = [&](int32_t id) { return id >= 0 ? json(tok.tokens[size_t(id)]) : json(nullptr); };
    tc["bos_token"] = piece(tok.bos_id);
    tc["eos_token"] = piece(tok.eos_id);
    tc["unk_token"] = piece(tok.unk_id);
    if (!tok.chat_template.empty()) tc["chat_template"] = tok.chat_template;
    write_text(dir + "/tokenizer_config.json", tc.dump(2));
    return result;
}

} // namespace strata::test
