// Tokenizer sources other than GGUF and llama2.c: Hugging Face tokenizer.json (+
// tokenizer_config.json) and SentencePiece's tokenizer.model protobuf.
#include "core/error.h"
#include "formats/byte_reader.h"
#include "formats/model_source.h"
#include "formats/pre_tokenizer_table.h"

#include <functional>

#include <nlohmann/json.hpp>
#include <unordered_map>

namespace strata {

using json = nlohmann::json;

namespace {

// Ids a tokenizer.json may leave unused between its tokens (padding up to a round size).
constexpr int64_t kMaxUnusedIds = 65536;

bool is_byte_piece(const std::string& s) {
    auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); };
    return s.size() == 6 && s.compare(0, 3, "<0x") == 0 && hex(s[3]) && hex(s[4]) && s[5] == '>';
}

// A token given as "text" or {"content": "text", ...} in tokenizer_config.json.
std::string token_text(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string())
        return v["content"].get<std::string>();
    return "";
}

// A literal string as a regex matching exactly it.
std::string regex_quote(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (std::string_view("\\^$.|?*+()[]{}-/").find(c) != std::string_view::npos) out += '\\';
        out += c;
    }
    return out;
}

// The split regexes of a tokenizer.json `pre_tokenizer` section, in our table's form (see
// formats/pre_tokenizer_table.h); sets *byte_level when a ByteLevel step maps bytes to
// characters. Steps that do not split by a regex into kept pieces are refused.
void pre_tokenizer_regexes(const json& p, std::vector<std::string>& out, bool* byte_level,
                           const std::function<void(const std::string&)>& bad) {
    if (p.is_null()) return;
    if (!p.is_object()) bad("pre_tokenizer is not an object");
    const std::string type = p.value("type", "");
    if (type == "Sequence") {
        if (!p.contains("pretokenizers") || !p["pretokenizers"].is_array())
            bad("pre_tokenizer Sequence has no pretokenizers array");
        for (const json& step : p["pretokenizers"])
            pre_tokenizer_regexes(step, out, byte_level, bad);
    } else if (type == "Split") {
        const json& pat = p.value("pattern", json());
        const std::string behavior = p.value("behavior", "");
        if (behavior != "Isolated" || p.value("invert", false))
            bad("pre_tokenizer Split with behavior '" + behavior +
                "' (or invert) is not supported (Isolated is)");
        if (pat.is_object() && pat.contains("Regex") && pat["Regex"].is_string())
            out.push_back(pat["Regex"].get<std::string>());
        else if (pat.is_object() && pat.contains("String") && pat["String"].is_string())
            out.push_back(regex_quote(pat["String"].get<std::string>()));
        else
            bad("pre_tokenizer Split has no Regex or String pattern");
    } else if (type == "Digits") {
        out.emplace_back(p.value("individual_digits", false) ? pre_regex::kDigit
                                                             : pre_regex::kDigits);
    } else if (type == "Punctuation") {
        const std::string behavior = p.value("behavior", "Isolated");
        if (behavior == "Isolated")
            out.emplace_back(pre_regex::kPunctuation);
        else if (behavior == "Contiguous")
            out.emplace_back(pre_regex::kPunctuationRun);
        else
            bad("pre_tokenizer Punctuation with behavior '" + behavior +
                "' is not supported (Isolated and Contiguous are)");
    } else if (type == "ByteLevel") {
        if (p.value("add_prefix_space", false))
            bad("pre_tokenizer ByteLevel with add_prefix_space is not supported");
        if (p.value("use_regex", true)) out.emplace_back(pre_regex::kGpt2);
        *byte_level = true;
    } else {
        bad("pre_tokenizer step '" + type +
            "' is not supported (Sequence, Split, Digits, Punctuation, ByteLevel are)");
    }
}

// Whether a SentencePiece-style tokenizer.json puts "▁" before the text: a Metaspace
// pre-tokenizer that prepends, or a Prepend("▁") normalizer (Llama 2); Gemma's normalizer only
// replaces spaces. A file with neither section gets SentencePiece's default (prefix).
bool spm_space_prefix(const json& j) {
    const json pre = j.value("pre_tokenizer", json());
    if (pre.is_object() && pre.value("type", "") == "Metaspace") {
        if (pre.contains("prepend_scheme") && pre["prepend_scheme"].is_string())
            return pre["prepend_scheme"].get<std::string>() != "never";
        return pre.value("add_prefix_space", true);
    }
    const json norm = j.value("normalizer", json());
    if (!norm.is_object()) return true;
    auto prepends = [](const json& n) {
        return n.is_object() && n.value("type", "") == "Prepend" &&
               n.value("prepend", "") == "\xE2\x96\x81";
    };
    if (prepends(norm)) return true;
    if (norm.value("type", "") == "Sequence" && norm.contains("normalizers") &&
        norm["normalizers"].is_array())
        for (const json& n : norm["normalizers"])
            if (prepends(n)) return true;
    return false;
}

} // namespace

TokenizerData read_hf_tokenizer_json(const std::string& tokenizer_json,
                                     const std::string& tokenizer_config) {
    return parse_hf_tokenizer_json(read_text_file(tokenizer_json),
                                   tokenizer_config.empty() ? std::string()
                                                            : read_text_file(tokenizer_config),
                                   tokenizer_json);
}

namespace {
TokenizerData parse_hf_tokenizer_json_fields(const std::string& json_text,
                                             const std::string& config_text,
                                             const std::string& tokenizer_json);
} // namespace

// A field of the wrong JSON type (a number where a string belongs, ...) makes nlohmann throw its
// own exception; it becomes an Error naming the file, as every other malformed input does.
TokenizerData parse_hf_tokenizer_json(const std::string& json_text, const std::string& config_text,
                                      const std::string& tokenizer_json) {
    try {
        return parse_hf_tokenizer_json_fields(json_text, config_text, tokenizer_json);
    } catch (const json::exception& e) {
        fail(tokenizer_json + ": a field has the wrong JSON type (" + e.what() + ")");
    }
}

namespace {
TokenizerData parse_hf_tokenizer_json_fields(const std::string& json_text,
                                             const std::string& config_text,
                                             const std::string& tokenizer_json) {
    const std::string tokenizer_config = tokenizer_json + " (tokenizer_config.json)";
    TokenizerData t;
    json j = json::parse(json_text, nullptr, false);
    auto bad = [&](const std::string& why) { fail(tokenizer_json + ": " + why); };
    if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
        bad("not a tokenizer.json (no model object)");
    const json& model = j["model"];
    const std::string type = model.value("type", "");
    if (type != "BPE") bad("tokenizer model type '" + type + "' is not supported (BPE is)");
    if (!model.contains("vocab") || !model["vocab"].is_object()) bad("model.vocab is missing");
    const bool byte_fallback = model.value("byte_fallback", false);
    t.model = byte_fallback ? "spm" : "bpe";
    std::vector<std::pair<int64_t, std::string>> entries;
    for (auto& [piece, id] : model["vocab"].items()) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= (1 << 24))
            bad("vocab id of '" + piece + "' is invalid");
        entries.push_back({id.get<int64_t>(), piece});
    }
    std::unordered_map<int64_t, bool> special;
    if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
        for (const json& a : j["added_tokens"]) {
            if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() ||
                !a.contains("content"))
                bad("malformed added_tokens entry");
            const int64_t id = a["id"].get<int64_t>();
            if (id < 0 || id >= (1 << 24))
                bad("added token id " + std::to_string(id) + " is invalid");
            entries.push_back({id, a["content"].get<std::string>()});
            special[id] = a.value("special", false);
            if (a.value("lstrip", false)) t.lstrip_ids.push_back(int32_t(id));
            if (a.value("rstrip", false)) t.rstrip_ids.push_back(int32_t(id));
        }
    }
    int64_t n = 0;
    for (auto& e : entries) n = std::max(n, e.first + 1);
    // Ids are (nearly) dense in real vocabularies; a few ids far above the rest would make us
    // allocate millions of unused tokens (found by fuzz_tokenizer_files: 2 GiB for 30 entries).
    if (n > int64_t(entries.size()) + kMaxUnusedIds)
        bad("token ids go up to " + std::to_string(n - 1) + " for only " +
            std::to_string(entries.size()) + " tokens; the vocabulary is not a dense id range");
    t.tokens.assign(size_t(n), "");
    t.types.assign(size_t(n), int32_t(TokenType::Unused));
    std::vector<bool> seen(size_t(n), false);
    for (auto& [id, piece] : entries) {
        t.tokens[size_t(id)] = piece;
        seen[size_t(id)] = true;
        auto sp = special.find(id);
        if (sp != special.end())
            t.types[size_t(id)] = int32_t(sp->second ? TokenType::Control : TokenType::UserDefined);
        else if (byte_fallback && is_byte_piece(piece))
            t.types[size_t(id)] = int32_t(TokenType::Byte);
        else
            t.types[size_t(id)] = int32_t(TokenType::Normal);
    }
    for (int64_t i = 0; i < n; i++)
        if (!seen[size_t(i)]) t.tokens[size_t(i)] = "[UNUSED_" + std::to_string(i) + "]";
    if (model.contains("merges") && model["merges"].is_array()) {
        for (const json& m : model["merges"]) {
            if (m.is_string())
                t.merges.push_back(m.get<std::string>());
            else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
                t.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
            else
                bad("malformed merges entry");
        }
    }
    const PreTokenizerSpec* spec = nullptr;
    if (!byte_fallback) { // byte-level BPE: its split, named by our table when it has it
        std::vector<std::string> regexes;
        bool byte_level = false;
        pre_tokenizer_regexes(j.value("pre_tokenizer", json()), regexes, &byte_level, bad);
        if (!byte_level)
            bad("BPE without byte_fallback and without a ByteLevel pre_tokenizer is not supported "
                "(strata's BPE vocabularies are byte-level or SentencePiece-style)");
        spec = find_pre_tokenizer(regexes);
        if (spec)
            t.pre = std::string(spec->names.front());
        else
            t.pre = "custom", t.pre_regexes = std::move(regexes);
        t.ignore_merges = model.value("ignore_merges", false);
    }

    if (byte_fallback) t.add_space_prefix = spm_space_prefix(j);
    std::unordered_map<std::string, int32_t> id_of;
    for (size_t i = 0; i < t.tokens.size(); i++) id_of.emplace(t.tokens[i], int32_t(i));
    auto find = [&](const std::string& s) {
        auto it = id_of.find(s);
        return it == id_of.end() ? -1 : it->second;
    };
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
        t.unk_id = find(model["unk_token"].get<std::string>());
        if (t.unk_id >= 0) t.types[size_t(t.unk_id)] = int32_t(TokenType::Unknown);
    }
    t.add_bos =
        byte_fallback; // SentencePiece-style models add BOS unless the config says otherwise
    t.add_eos = false;
    bool add_bos_explicit = false;
    if (!config_text.empty()) {
        json cfg = json::parse(config_text, nullptr, false);
        if (!cfg.is_object()) fail(tokenizer_config + ": not a JSON object");
        if (cfg.contains("bos_token")) t.bos_id = find(token_text(cfg["bos_token"]));
        if (cfg.contains("eos_token")) t.eos_id = find(token_text(cfg["eos_token"]));
        if (cfg.contains("pad_token")) t.pad_id = find(token_text(cfg["pad_token"]));
        if (cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean())
            t.add_bos = cfg["add_bos_token"].get<bool>(), add_bos_explicit = true;
        if (cfg.contains("add_eos_token") && cfg["add_eos_token"].is_boolean())
            t.add_eos = cfg["add_eos_token"].get<bool>();
        if (cfg.contains("chat_template")) {
            const json& ct = cfg["chat_template"];
            if (ct.is_string())
                t.chat_template = ct.get<std::string>();
            else if (ct.is_array()) // [{"name": "default", "template": "..."}, ...]
                for (const json& e : ct)
                    if (e.is_object() && e.value("name", "") == "default" && e.contains("template"))
                        t.chat_template = e["template"].get<std::string>();
        }
    }
    // A TemplateProcessing post-processor says which special tokens frame a sequence.
    auto template_processing = [&]() -> const json* {
        if (!j.contains("post_processor") || !j["post_processor"].is_object()) return nullptr;
        const json& pp = j["post_processor"];
        if (pp.value("type", "") == "TemplateProcessing") return &pp;
        if (pp.value("type", "") == "Sequence" && pp.contains("processors") &&
            pp["processors"].is_array())
            for (const json& p : pp["processors"])
                if (p.is_object() && p.value("type", "") == "TemplateProcessing") return &p;
        return nullptr;
    };
    if (const json* tp = template_processing();
        tp && tp->contains("single") && (*tp)["single"].is_array() && !(*tp)["single"].empty()) {
        const json& single = (*tp)["single"];
        auto special_id = [&](const json& item) -> int32_t {
            if (!item.is_object() || !item.contains("SpecialToken")) return -1;
            return find(item["SpecialToken"].value("id", ""));
        };
        if (int32_t b = special_id(single.front()); b >= 0) t.bos_id = b, t.add_bos = true;
        if (single.size() > 1)
            if (int32_t e = special_id(single.back()); e >= 0) t.eos_id = e, t.add_eos = true;
    } else if (spec && spec->add_bos && !add_bos_explicit && t.bos_id >= 0) {
        t.add_bos =
            true; // Llama 3 starts every sequence with <|begin_of_text|> (as llama.cpp does)
    }
    if (t.bos_id < 0 && find("<s>") >= 0 && byte_fallback) t.bos_id = find("<s>");
    if (t.eos_id < 0 && find("</s>") >= 0 && byte_fallback) t.eos_id = find("</s>");
    if (t.bos_id < 0) t.add_bos = false;
    t.validate(uint32_t(t.tokens.size()));
    return t;
}

// ---- SentencePiece protobuf --------------------------------------------------------------
// ModelProto { repeated SentencePiece pieces = 1; TrainerSpec trainer_spec = 2; ... }
// SentencePiece { string piece = 1; float score = 2; Type type = 3; }
// TrainerSpec { ... unk_id = 40; bos_id = 41; eos_id = 42; pad_id = 43; }

} // namespace

namespace {

uint64_t read_varint(ByteReader& r) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        const uint8_t b = r.read<uint8_t>("varint");
        v |= uint64_t(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    fail("varint longer than 10 bytes");
}

// Calls on_field(field number, wire type, reader positioned at the value) for each field;
// the callback must consume the value or return false to have it skipped.
template <typename F> void for_each_field(ByteReader& r, F&& on_field) {
    while (r.remaining() > 0) {
        const uint64_t key = read_varint(r);
        const uint32_t field = uint32_t(key >> 3), wire = uint32_t(key & 7);
        if (on_field(field, wire, r)) continue;
        switch (wire) {
        case 0:
            read_varint(r);
            break;
        case 1:
            r.skip(8, "fixed64");
            break;
        case 2:
            r.skip(read_varint(r), "length-delimited field");
            break;
        case 5:
            r.skip(4, "fixed32");
            break;
        default:
            fail("unsupported protobuf wire type " + std::to_string(wire));
        }
    }
}

} // namespace

TokenizerData read_sentencepiece_model(const std::string& path) {
    auto file = MappedFile::open(path);
    return parse_sentencepiece_model(file->data(), file->size(), path);
}

TokenizerData parse_sentencepiece_model(const uint8_t* data, size_t size, const std::string& path) {
    TokenizerData t;
    t.model = "spm";
    t.unk_id = 0, t.bos_id = 1, t.eos_id = 2, t.pad_id = -1;
    try {
        ByteReader r(data, size, "tokenizer.model");
        for_each_field(r, [&](uint32_t field, uint32_t wire, ByteReader& rr) {
            if (wire != 2 || (field != 1 && field != 2)) return false;
            const uint64_t len = read_varint(rr);
            ByteReader sub(rr.bytes(len, "message"), size_t(len), "tokenizer.model");
            if (field == 1) {
                std::string piece;
                float score = 0;
                int32_t type = 1;
                for_each_field(sub, [&](uint32_t f, uint32_t w, ByteReader& s) {
                    if (f == 1 && w == 2)
                        piece = std::string(s.string(read_varint(s), "piece"));
                    else if (f == 2 && w == 5)
                        score = s.read<float>("score");
                    else if (f == 3 && w == 0)
                        type = int32_t(read_varint(s));
                    else
                        return false;
                    return true;
                });
                if (type < 1 || type > 6)
                    fail("piece " + std::to_string(t.tokens.size()) + " has invalid type " +
                         std::to_string(type));
                t.tokens.push_back(std::move(piece));
                t.scores.push_back(score);
                t.types.push_back(type);
            } else {
                for_each_field(sub, [&](uint32_t f, uint32_t w, ByteReader& s) {
                    if (w != 0 || f < 40 || f > 43) return false;
                    const int32_t v = int32_t(read_varint(s));
                    (f == 40 ? t.unk_id : f == 41 ? t.bos_id : f == 42 ? t.eos_id : t.pad_id) = v;
                    return true;
                });
            }
            return true;
        });
        if (t.tokens.empty()) fail("holds no pieces (not a SentencePiece model?)");
        for (int32_t* id : {&t.unk_id, &t.bos_id, &t.eos_id, &t.pad_id})
            if (*id >= int32_t(t.tokens.size())) *id = -1;
        t.validate(uint32_t(t.tokens.size()));
    } catch (const Error& e) {
        throw Error(path + ": " + e.what());
    }
    return t;
}

} // namespace strata
