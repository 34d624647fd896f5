// Hugging Face model directories: config.json (the architectures whose registry files take HF
// import, with the CLA sharing fields of Hunyuan, Hymba and Gemma 3n mapped to kv_source; a
// multimodal checkpoint's text_config read as the model's, its towers ignored), one or
// sharded *.safetensors (tensor names per family: the architecture's hf_names, matched in
// import_hf_names.cpp),
// tokenizer.json or tokenizer.model, tokenizer_config.json.
#include "core/error.h"
#include "core/quantize_ref.h"
#include "formats/arch.h"
#include "formats/import_hf_names.h"
#include "formats/model_source.h"
#include "formats/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

namespace strata {

using json = nlohmann::json;
namespace fs = std::filesystem;

std::vector<int32_t> kv_source_from_hf_config(const json& cfg, uint32_t n_layer);

namespace {

uint32_t get_u32(const json& cfg, const char* key, const std::string& where,
                 std::optional<uint32_t> dflt = {}) {
    if (!cfg.contains(key) || cfg[key].is_null()) {
        if (dflt) return *dflt;
        fail(where + ": " + key + " is missing");
    }
    const json& v = cfg[key];
    if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > (int64_t(1) << 24))
        fail(where + ": " + key + " is not a positive integer");
    return v.get<uint32_t>();
}

DType safetensors_type(const std::string& dtype, const std::string& what) {
    if (dtype == "F32") return DType::F32;
    if (dtype == "F16") return DType::F16;
    if (dtype == "BF16") return DType::BF16;
    fail(what + " has dtype " + dtype + " (F32, F16 and BF16 are supported)");
}

// A tensor the importer re-lays: values computed from source rows when the converter asks.
SourceTensor relaid(const std::string& name, DType type, std::vector<uint64_t> shape) {
    SourceTensor t;
    t.name = name;
    t.type = type;
    t.shape = std::move(shape);
    t.keep_type = true;
    return t;
}

// Converts `rows` rows of `cols` values of `from` at `src` into `to` at `dst`, adding `add`.
void copy_rows(DType from, const uint8_t* src, DType to, uint8_t* dst, uint64_t rows, uint64_t cols,
               float add) {
    if (from == to && add == 0) {
        std::memcpy(dst, src, rows * row_bytes(from, cols));
        return;
    }
    std::vector<float> buf(cols);
    for (uint64_t r = 0; r < rows; r++) {
        dequantize_row_ref(from, src + r * row_bytes(from, cols), buf.data(), int64_t(cols));
        for (float& v : buf) v += add;
        quantize_row_ref(to, buf.data(), dst + r * row_bytes(to, cols), int64_t(cols));
    }
}

} // namespace

// Which layer's K/V each layer uses, from the sharing fields models trained with CLA carry.
std::vector<int32_t> kv_source_from_hf_config(const json& cfg, uint32_t n_layer) {
    std::vector<int32_t> src = cla_kv_source(n_layer, 1);
    if (cfg.value("use_cla", false)) { // Hunyuan: producers are layers with index % factor == 0
        const uint32_t f = get_u32(cfg, "cla_share_factor", "config.json", 1);
        src = cla_kv_source(n_layer, f);
    }
    if (cfg.contains("kv_reuse_group") && cfg["kv_reuse_group"].is_array()) { // Hymba
        for (const json& group : cfg["kv_reuse_group"]) {
            if (!group.is_array() || group.empty())
                fail("config.json: kv_reuse_group holds a malformed group");
            int32_t producer = -1;
            for (const json& l : group) {
                if (!l.is_number_integer() || l.get<int64_t>() < 0 || l.get<int64_t>() >= n_layer)
                    fail("config.json: kv_reuse_group names a layer out of range");
                const int32_t layer = l.get<int32_t>();
                if (producer < 0)
                    producer = layer;
                else
                    src[size_t(layer)] = producer;
            }
        }
    }
    if (cfg.contains("num_kv_shared_layers") &&
        cfg["num_kv_shared_layers"].is_number_integer()) { // Gemma 3n/4
        const int64_t shared = cfg["num_kv_shared_layers"].get<int64_t>();
        if (shared < 0 || shared >= n_layer)
            fail("config.json: num_kv_shared_layers is out of range");
        std::vector<std::string> kinds(n_layer, "full_attention");
        if (cfg.contains("layer_types") && cfg["layer_types"].is_array() &&
            cfg["layer_types"].size() == n_layer)
            for (uint32_t l = 0; l < n_layer; l++)
                kinds[l] = cfg["layer_types"][l].get<std::string>();
        const int32_t first_shared = int32_t(n_layer - shared);
        for (int32_t l = first_shared; l < int32_t(n_layer); l++) {
            int32_t producer = -1;
            for (int32_t p = first_shared - 1; p >= 0 && producer < 0; p--)
                if (kinds[size_t(p)] == kinds[size_t(l)]) producer = p;
            if (producer < 0)
                fail("config.json: no earlier layer of type " + kinds[size_t(l)] +
                     " to share K/V with");
            src[size_t(l)] = src[size_t(producer)];
        }
    }
    return src;
}

namespace {
ModelSource import_hf_fields(const std::string& dir, std::vector<std::string>* missing);

// config.json's top-level fields.
class HfHparams : public HparamSource {
  public:
    HfHparams(const json& cfg, std::string path) : cfg_(cfg), path_(std::move(path)) {}
    bool has(const std::string& key) const override {
        return cfg_.contains(key) && !cfg_[key].is_null();
    }
    uint32_t u32(const std::string& key) const override {
        return get_u32(cfg_, key.c_str(), path_);
    }
    double number(const std::string& key) const override {
        if (!has(key) || !cfg_[key].is_number()) fail(path_ + ": " + key + " is not a number");
        return cfg_[key].get<double>();
    }
    bool flag(const std::string& key) const override {
        if (!has(key) || !cfg_[key].is_boolean()) fail(path_ + ": " + key + " is not a boolean");
        return cfg_[key].get<bool>();
    }
    std::string text(const std::string& key) const override {
        if (!has(key) || !cfg_[key].is_string()) fail(path_ + ": " + key + " is not a string");
        return cfg_[key].get<std::string>();
    }
    std::vector<int64_t> ints(const std::string& key) const override {
        std::vector<int64_t> out;
        if (!has(key)) return out;
        if (!cfg_[key].is_array()) fail(path_ + ": " + key + " is not a list");
        for (const json& v : cfg_[key]) {
            if (key == "layer_types" && v.is_string()) { // each layer's attention, as 1 / 0
                const std::string t = v.get<std::string>();
                if (t != "sliding_attention" && t != "full_attention")
                    fail(path_ + ": layer_types holds '" + t +
                         "' (sliding_attention and full_attention are supported)");
                out.push_back(t == "sliding_attention");
                continue;
            }
            if (!v.is_number_integer()) fail(path_ + ": " + key + " holds a non-integer");
            out.push_back(v.get<int64_t>());
        }
        return out;
    }
    std::vector<double> numbers(const std::string& key) const override {
        std::vector<double> out;
        if (!has(key)) return out;
        if (!cfg_[key].is_array()) fail(path_ + ": " + key + " is not a list");
        for (const json& v : cfg_[key]) {
            if (!v.is_number()) fail(path_ + ": " + key + " holds a non-number");
            out.push_back(v.get<double>());
        }
        return out;
    }
    std::string where() const override { return path_; }

  private:
    const json& cfg_;
    std::string path_;
};
} // namespace

// A config field of the wrong JSON type makes nlohmann throw its own exception; it becomes an
// Error naming the directory, as every other malformed input does.
ModelSource import_hf_source(const std::string& dir, std::vector<std::string>* missing) {
    try {
        return import_hf_fields(dir, missing);
    } catch (const json::exception& e) {
        fail(dir + ": a field of config.json or tokenizer_config.json has the wrong JSON type (" +
             e.what() + ")");
    }
}

ModelSource import_hf(const std::string& dir) { return import_hf_source(dir, nullptr); }

namespace {

// A multimodal checkpoint (Gemma 3n's Gemma3nForConditionalGeneration) keeps the language
// model's fields in text_config: they become the top-level ones (the top-level model_type and
// fields text_config lacks stay); vision_config and audio_config are not read.
json language_model_config(const json& cfg, std::vector<std::string>& notes) {
    if (!cfg.contains("text_config") || !cfg["text_config"].is_object()) return cfg;
    json out = cfg["text_config"];
    for (auto it = cfg.begin(); it != cfg.end(); ++it)
        if (it.key() != "text_config" && !out.contains(it.key())) out[it.key()] = it.value();
    if (cfg.contains("model_type")) out["model_type"] = cfg["model_type"];
    std::string towers;
    for (const char* k : {"vision_config", "audio_config"})
        if (cfg.contains(k) && !cfg[k].is_null())
            towers += std::string(towers.empty() ? "" : ", ") + k;
    notes.push_back("config.json: the language model's fields are text_config's" +
                    (towers.empty() ? std::string()
                                    : "; the towers it also describes (" + towers +
                                          ") are ignored: strata runs the text model"));
    return out;
}

// Newer transformers write RoPE bases as rope_parameters: {"full_attention": {...},
// "sliding_attention": {...}} or one {"rope_type", "rope_theta"}; they become rope_theta and
// rope_local_base_freq where those are absent. Only unscaled ("default") RoPE is read here.
void flatten_rope_parameters(json& cfg, const std::string& where) {
    if (!cfg.contains("rope_parameters") || !cfg["rope_parameters"].is_object()) return;
    const json& rp = cfg["rope_parameters"];
    auto take = [&](const json& p, const char* key, const std::string& what) {
        if (!p.is_object()) fail(where + ": rope_parameters" + what + " is not an object");
        const std::string type = p.value("rope_type", "default");
        if (type != "default")
            fail(where + ": rope_parameters" + what + " has rope_type '" + type +
                 "' (default is supported)");
        if (p.contains("rope_theta") && !cfg.contains(key)) cfg[key] = p["rope_theta"];
    };
    if (rp.contains("full_attention") || rp.contains("sliding_attention")) {
        if (rp.contains("full_attention"))
            take(rp["full_attention"], "rope_theta", ".full_attention");
        if (rp.contains("sliding_attention"))
            take(rp["sliding_attention"], "rope_local_base_freq", ".sliding_attention");
    } else {
        take(rp, "rope_theta", "");
    }
}

// intermediate_size may list every layer's FFN width (Gemma 3n's config.json does); strata runs
// one width, so the list must repeat one value.
void single_intermediate_size(json& cfg, const std::string& where) {
    if (!cfg.contains("intermediate_size") || !cfg["intermediate_size"].is_array()) return;
    const json list = cfg["intermediate_size"];
    if (list.empty()) fail(where + ": intermediate_size is an empty list");
    for (const json& v : list)
        if (v != list[0])
            fail(where + ": intermediate_size lists different FFN widths per layer (" +
                 list[0].dump() + " and " + v.dump() + "); strata runs one width for every layer");
    cfg["intermediate_size"] = list[0];
}

ModelSource import_hf_fields(const std::string& dir, std::vector<std::string>* missing) {
    ModelSource src;
    const std::string config_path = (fs::path(dir) / "config.json").string();
    if (!fs::exists(config_path))
        fail(dir + ": no config.json (is this a Hugging Face model directory?)");
    json cfg = json::parse(read_text_file(config_path), nullptr, false);
    if (!cfg.is_object()) fail(config_path + ": not valid JSON");
    cfg = language_model_config(cfg, src.notes);
    flatten_rope_parameters(cfg, config_path);
    single_intermediate_size(cfg, config_path);
    const std::string type = cfg.value("model_type", "");
    ModelConfig& c = src.config;
    const ArchFormat* arch = arch_for_hf(type);
    if (!arch && !missing)
        fail(config_path + ": model_type '" + type +
             "' is not supported (supported: " + hf_type_names() + ")");
    c.name = cfg.value("_name_or_path", type);
    c.n_embd = get_u32(cfg, "hidden_size", config_path);
    c.n_ff = get_u32(cfg, "intermediate_size", config_path);
    c.n_layer = get_u32(cfg, "num_hidden_layers", config_path);
    c.n_head = get_u32(cfg, "num_attention_heads", config_path);
    c.n_head_kv = get_u32(cfg, "num_key_value_heads", config_path, c.n_head);
    c.head_dim = get_u32(cfg, "head_dim", config_path, c.n_embd / c.n_head);
    c.n_vocab = get_u32(cfg, "vocab_size", config_path);
    c.n_ctx_train = get_u32(cfg, "max_position_embeddings", config_path, 4096);
    c.norm_eps = cfg.value("rms_norm_eps", 1e-6f);
    c.rope_theta = cfg.value("rope_theta", 10000.0f);
    c.rope_dim = uint32_t(c.head_dim * cfg.value("partial_rotary_factor", 1.0));
    c.rope_style = RopeStyle::NeoX; // HF checkpoints rotate halves (rotate_half)
    c.tied_output = cfg.value("tie_word_embeddings", false);
    c.arch = arch ? arch->name() : type;
    if (cfg.contains("rope_scaling") && cfg["rope_scaling"].is_object()) {
        const json& rs = cfg["rope_scaling"];
        const std::string kind = rs.value("rope_type", rs.value("type", "none"));
        if (kind != "default" && kind != "none") {
            if (kind != "linear" && kind != "llama3")
                fail(config_path + ": rope_scaling type '" + kind +
                     "' is not supported (linear, llama3 are)");
            c.rope_scaling.type = kind;
            c.rope_scaling.factor = rs.value("factor", 1.0f);
            c.rope_scaling.original_ctx = rs.value("original_max_position_embeddings", 0u);
            c.rope_scaling.low_freq_factor = rs.value("low_freq_factor", 1.0f);
            c.rope_scaling.high_freq_factor = rs.value("high_freq_factor", 4.0f);
        }
    }
    c.kv_source = kv_source_from_hf_config(cfg, c.n_layer);
    if (arch) {
        try {
            arch->read_hf(HfHparams(cfg, config_path), c);
        } catch (const Error& e) {
            if (!missing) throw;
            missing->push_back(e.what()); // the registry refuses HF import of this family yet
        }
        if (!missing) try {
                c.validate();
            } catch (const Error& e) {
                throw Error(config_path + ": " + e.what());
            }
    } else {
        *missing = {"model_type " + type + ": no registered architecture"};
    }
    // The family's tensor names, for the configuration read_hf filled (its experts...).
    const HfLayerNames names = hf_layer_names(arch, c);
    // What the architecture's schema has for this configuration (not checked with `missing`).
    std::map<std::string, std::vector<uint64_t>> wanted;
    if (!missing)
        for (const auto& spec : expected_tensors(c)) wanted[spec.name] = spec.shape;
    size_t ignored = 0;

    // Weights: the index names the shards; without one, every *.safetensors in the directory.
    std::vector<std::string> files;
    const fs::path index = fs::path(dir) / "model.safetensors.index.json";
    if (fs::exists(index)) {
        std::set<std::string> shards;
        for (auto& [tensor, file] :
             parse_safetensors_index(read_text_file(index.string()), index.string()))
            shards.insert(file);
        for (const auto& s : shards) files.push_back((fs::path(dir) / s).string());
    } else {
        for (const auto& e : fs::directory_iterator(dir))
            if (e.path().extension() == ".safetensors") files.push_back(e.path().string());
        std::sort(files.begin(), files.end());
    }
    if (files.empty()) fail(dir + ": no *.safetensors weights");
    bool have_lm_head = false;
    // One expert's 2-D slice of a 3-D expert tensor, gathered across shards.
    struct Piece {
        const uint8_t* data = nullptr;
        DType type = DType::F32;
        std::vector<uint64_t> shape;
    };
    std::map<std::string, std::vector<Piece>> expert_pieces;
    for (const auto& path : files) {
        SafetensorsFile st = SafetensorsFile::open(path);
        src.mappings.push_back(st.mapping());
        for (const auto& [hf_name, t] : st.tensors()) {
            if (hf_name.find("rotary_emb.inv_freq") != std::string::npos) continue; // recomputed
            if (hf_tensor_ignored(names, hf_name)) {
                ignored++;
                continue;
            }
            const HfTensorName mapped = hf_tensor_name(names, c, hf_name);
            const std::string& name = mapped.name;
            if (name.empty())
                fail(path + ": tensor " + hf_name + " is not part of a " + type +
                     " model strata understands");
            if (!missing && !wanted.count(name) && name != "output.weight")
                fail(dir + ": tensor " + hf_name + " (strata's " + name +
                     ") is not expected for this config (kv_source or shape mismatch?)");
            if (name == "output.weight") {
                have_lm_head = true;
                if (c.tied_output) continue; // tie_word_embeddings: the embedding serves
            }
            const DType dt = safetensors_type(t.dtype, path + ": tensor " + hf_name);
            if (mapped.expert >= 0) {
                auto& pieces = expert_pieces[name];
                pieces.resize(size_t(mapped.slices));
                if (t.shape.size() != 2) fail(path + ": tensor " + hf_name + " is not 2-D");
                if (pieces[size_t(mapped.expert)].data)
                    fail(dir + ": tensor " + hf_name + " appears more than once");
                pieces[size_t(mapped.expert)] = {t.data, dt, t.shape};
                continue;
            }
            if (src.find(name))
                fail(dir + ": tensor " + hf_name + " appears in more than one shard");
            const bool shift = names.norms_minus_one && name.size() > 11 &&
                               name.compare(name.size() - 11, 11, "norm.weight") == 0;
            if (shift) { // the RMSNorm multiplies by (1 + weight): store what multiplies
                SourceTensor s = relaid(name, DType::F32, t.shape);
                const uint8_t* data = t.data;
                const uint64_t n = t.shape.empty() ? 1 : t.shape.back(),
                               rows = t.bytes / row_bytes(dt, n);
                s.generate = [data, dt, n, rows](DType to, uint8_t* dst, uint64_t) {
                    copy_rows(dt, data, to, dst, rows, n, 1.0f);
                };
                src.tensors.push_back(std::move(s));
                continue;
            }
            const auto want = wanted.find(name);
            const bool pad =
                want != wanted.end() && t.shape.size() == 2 && want->second.size() == 2 &&
                t.shape[0] < want->second[0] &&
                std::find(names.pad_rows_with_first.begin(), names.pad_rows_with_first.end(),
                          name) != names.pad_rows_with_first.end();
            if (pad) { // fewer rows than the schema: the missing ones repeat row 0
                if (t.shape[0] == 0 || t.shape[1] != want->second[1])
                    fail(dir + ": tensor " + hf_name + " has shape [" + std::to_string(t.shape[0]) +
                         ", " + std::to_string(t.shape[1]) + "], not [up to " +
                         std::to_string(want->second[0]) + ", " + std::to_string(want->second[1]) +
                         "]");
                SourceTensor s = relaid(name, dt, want->second);
                const uint8_t* data = t.data;
                const uint64_t have = t.shape[0], rows = want->second[0], cols = t.shape[1];
                s.generate = [data, dt, have, rows, cols](DType to, uint8_t* dst, uint64_t) {
                    const size_t row = row_bytes(to, cols);
                    copy_rows(dt, data, to, dst, have, cols, 0);
                    for (uint64_t r = have; r < rows; r++) std::memcpy(dst + r * row, dst, row);
                };
                src.notes.push_back(hf_name + " has " + std::to_string(have) +
                                    " rows: tokens from " + std::to_string(have) + " to " +
                                    std::to_string(rows - 1) + " read row 0, as transformers does");
                src.tensors.push_back(std::move(s));
                continue;
            }
            src.tensors.push_back({name, dt, t.shape, t.data, t.bytes, {}});
        }
    }
    // A tensor the configuration needs and HF stores, named as HF names it (no lm_head: tied
    // below).
    if (!missing)
        for (const auto& [name, shape] : wanted)
            if (name != "output.weight" && !src.find(name) && !expert_pieces.count(name)) {
                const std::string hf = hf_name_of(names, name);
                if (!hf.empty())
                    fail(dir + ": no tensor " + hf + " (strata's " + name + ") in the weights");
            }
    if (ignored > 0) {
        std::string which;
        for (const auto& p : names.ignored) which += (which.empty() ? "" : ", ") + p + "*";
        src.notes.push_back(std::to_string(ignored) +
                            " tensors of the towers strata does not run (" + which +
                            ") are ignored");
    }
    for (auto& [name, pieces] : expert_pieces) { // experts (lists) stacked into one 3-D tensor
        for (size_t x = 0; x < pieces.size(); x++)
            if (!pieces[x].data) {
                std::string hf = hf_name_of(names, name);
                if (const size_t i = hf.find("{i}"); i != std::string::npos)
                    hf.replace(i, 3, std::to_string(x));
                fail(dir + ": " + name + " has no weights for " +
                     (hf.empty() ? "expert " + std::to_string(x) : hf));
            }
        for (const auto& p : pieces)
            if (p.shape != pieces[0].shape || p.type != pieces[0].type)
                fail(dir + ": the experts of " + name + " differ in shape or dtype");
        const std::vector<uint64_t> shape = {pieces.size(), pieces[0].shape[0], pieces[0].shape[1]};
        SourceTensor s = relaid(name, pieces[0].type, shape);
        s.generate = [pieces](DType to, uint8_t* dst, uint64_t) {
            const uint64_t rows = pieces[0].shape[0], cols = pieces[0].shape[1];
            for (const auto& p : pieces) {
                copy_rows(p.type, p.data, to, dst, rows, cols, 0);
                dst += rows * row_bytes(to, cols);
            }
        };
        src.tensors.push_back(std::move(s));
    }
    if (!have_lm_head && !c.tied_output) {
        c.tied_output = true; // no lm_head: the embedding is the output projection
        src.notes.push_back(
            "no lm_head.weight: using the tied token embedding as the output projection");
    }

    const fs::path tok_json = fs::path(dir) / "tokenizer.json";
    const fs::path tok_model = fs::path(dir) / "tokenizer.model";
    const fs::path tok_config = fs::path(dir) / "tokenizer_config.json";
    const std::string config_arg = fs::exists(tok_config) ? tok_config.string() : "";
    if (fs::exists(tok_json)) {
        src.tokenizer = read_hf_tokenizer_json(tok_json.string(), config_arg);
    } else if (fs::exists(tok_model)) {
        src.tokenizer = read_sentencepiece_model(tok_model.string());
        if (!config_arg.empty()) { // chat template and BOS/EOS flags still come from the config
            json tc = json::parse(read_text_file(config_arg), nullptr, false);
            if (tc.is_object() && tc.contains("chat_template") && tc["chat_template"].is_string())
                src.tokenizer.chat_template = tc["chat_template"].get<std::string>();
            if (tc.is_object() && tc.contains("add_bos_token") && tc["add_bos_token"].is_boolean())
                src.tokenizer.add_bos = tc["add_bos_token"].get<bool>();
        }
    } else {
        fail(dir + ": no tokenizer.json or tokenizer.model");
    }
    // Models often pad the embedding beyond the tokenizer's size; fill the gap with unused tokens.
    if (src.tokenizer.tokens.size() > c.n_vocab)
        fail(dir + ": the tokenizer has " + std::to_string(src.tokenizer.tokens.size()) +
             " tokens but config.json says vocab_size " + std::to_string(c.n_vocab));
    while (src.tokenizer.tokens.size() < c.n_vocab) {
        src.tokenizer.tokens.push_back("[PAD" + std::to_string(src.tokenizer.tokens.size()) + "]");
        if (!src.tokenizer.scores.empty()) src.tokenizer.scores.push_back(0);
        if (!src.tokenizer.types.empty()) src.tokenizer.types.push_back(int32_t(TokenType::Unused));
    }
    src.description = "Hugging Face directory " + dir;
    return src;
}

} // namespace

} // namespace strata
