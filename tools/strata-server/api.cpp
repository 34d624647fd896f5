#include "tools/strata-server/api.h"

#include "tools/capi_helpers.h"

#include <cmath>

using json = nlohmann::json;

namespace {

const json* field(const json& j, const char* key) {
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
}

bool get_bool(const json& j, const char* key, bool fallback) {
    const json* v = field(j, key);
    if (!v) return fallback;
    if (!v->is_boolean()) throw ApiError(400, std::string("'") + key + "' must be a boolean", key);
    return v->get<bool>();
}

double get_number(const json& j, const char* key, double fallback, double lo, double hi) {
    const json* v = field(j, key);
    if (!v) return fallback;
    if (!v->is_number() || !(v->get<double>() >= lo && v->get<double>() <= hi))
        throw ApiError(400,
                       std::string("'") + key + "' must be a number from " + json(lo).dump() +
                           " to " + json(hi).dump(),
                       key);
    return v->get<double>();
}

long long get_int(const json& j, const char* key, long long fallback, long long lo, long long hi) {
    const json* v = field(j, key);
    if (!v) return fallback;
    const bool integral =
        v->is_number_integer() ||
        (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>());
    if (!integral || !(v->get<double>() >= double(lo) && v->get<double>() <= double(hi)))
        throw ApiError(400,
                       std::string("'") + key + "' must be an integer from " + std::to_string(lo) +
                           " to " + std::to_string(hi),
                       key);
    return v->is_number_integer() ? v->get<long long>() : (long long)v->get<double>();
}

// A message's content: a string, or an array of parts of which the text ones count.
std::string message_text(const json& content, size_t index) {
    const std::string param = "messages[" + std::to_string(index) + "].content";
    if (content.is_null()) return "";
    if (content.is_string()) return content.get<std::string>();
    if (!content.is_array())
        throw ApiError(400, param + " must be a string or an array of content parts", param);
    std::string text;
    for (const json& part : content) {
        if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
            throw ApiError(400, param + ": each part must be an object with a 'type'", param);
        if (part["type"] != "text")
            throw ApiError(400,
                           param + ": content parts of type '" + part["type"].get<std::string>() +
                               "' are not supported (text only)",
                           param);
        if (!part.contains("text") || !part["text"].is_string())
            throw ApiError(400, param + ": a text part needs a string 'text'", param);
        text += part["text"].get<std::string>();
    }
    return text;
}

std::vector<int32_t> chat_prompt(const json& j, const ModelText& m) {
    const json* messages = field(j, "messages");
    if (!messages) throw ApiError(400, "'messages' is required", "messages");
    if (!messages->is_array() || messages->empty())
        throw ApiError(400, "'messages' must be a non-empty array", "messages");
    std::vector<std::string> roles, contents;
    for (size_t i = 0; i < messages->size(); i++) {
        const json& msg = (*messages)[i];
        const std::string at = "messages[" + std::to_string(i) + "]";
        if (!msg.is_object()) throw ApiError(400, at + " must be an object", at);
        if (!msg.contains("role") || !msg["role"].is_string())
            throw ApiError(400, at + ".role must be a string", at + ".role");
        std::string role = msg["role"].get<std::string>();
        if (role == "developer") role = "system";
        if (role != "system" && role != "user" && role != "assistant")
            throw ApiError(
                400, at + ".role '" + role + "' is not one of system, developer, user, assistant",
                at + ".role");
        roles.push_back(role);
        contents.push_back(message_text(msg.contains("content") ? msg["content"] : json(), i));
    }
    if (m.tmpl.empty()) { // a base model: the messages' text, one after another
        std::string text;
        for (size_t i = 0; i < contents.size(); i++) text += (i ? "\n" : "") + contents[i];
        return tokenize(m.model, text, STRATA_TOKENIZE_ADD_SPECIAL | STRATA_TOKENIZE_PARSE_SPECIAL);
    }
    std::vector<strata_chat_message> all;
    for (size_t i = 0; i < roles.size(); i++)
        all.push_back({roles[i].c_str(), contents[i].c_str()});
    std::string text(4096, '\0');
    int length = 0;
    int status = strata_chat_apply(m.model, m.tmpl.c_str(), all.data(), int(all.size()), 1,
                                   text.data(), int(text.size()), &length);
    if (status == STRATA_BUFFER_TOO_SMALL) {
        text.resize(size_t(length) + 1);
        status = strata_chat_apply(m.model, m.tmpl.c_str(), all.data(), int(all.size()), 1,
                                   text.data(), int(text.size()), &length);
    }
    if (status != STRATA_OK) throw ApiError(400, strata_errmsg(), "messages");
    text.resize(size_t(length));
    return tokenize(m.model, text, STRATA_TOKENIZE_PARSE_SPECIAL); // the template writes BOS
}

std::vector<int32_t> completion_prompt(const json& j, const ModelText& m) {
    const json* prompt = field(j, "prompt");
    if (!prompt) throw ApiError(400, "'prompt' is required", "prompt");
    const int flags = STRATA_TOKENIZE_ADD_SPECIAL | STRATA_TOKENIZE_PARSE_SPECIAL;
    if (prompt->is_string()) return tokenize(m.model, prompt->get<std::string>(), flags);
    if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string())
        return tokenize(m.model, (*prompt)[0].get<std::string>(), flags);
    if (prompt->is_array() && !prompt->empty() && (*prompt)[0].is_number_integer()) {
        strata_model_info info;
        strata_model_info_get(m.model, &info);
        std::vector<int32_t> ids;
        for (const json& t : *prompt) {
            if (!t.is_number_integer() || t.get<long long>() < 0 ||
                t.get<long long>() >= info.n_vocab)
                throw ApiError(400,
                               "'prompt' as token ids must hold integers from 0 to " +
                                   std::to_string(info.n_vocab - 1),
                               "prompt");
            ids.push_back(int32_t(t.get<long long>()));
        }
        return ids;
    }
    throw ApiError(400,
                   "'prompt' must be a string, an array of one string, or an array of token ids "
                   "(several prompts in one request are not supported)",
                   "prompt");
}

} // namespace

ParsedRequest parse_request(const std::string& body, bool chat, const ModelText& m) {
    json j;
    try {
        j = json::parse(body);
    } catch (const json::parse_error& e) {
        throw ApiError(400, std::string("the request body is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object");
    ParsedRequest r;
    r.chat = chat;
    if (const json* model = field(j, "model")) {
        if (!model->is_string()) throw ApiError(400, "'model' must be a string", "model");
        if (model->get<std::string>() != m.id)
            throw ApiError(404,
                           "The model '" + model->get<std::string>() +
                               "' does not exist; this server serves '" + m.id + "'",
                           "model", "model_not_found");
    }
    if (get_int(j, "n", 1, 1, 1) != 1) throw ApiError(400, "'n' must be 1", "n");
    r.stream = get_bool(j, "stream", false);
    if (const json* so = field(j, "stream_options")) {
        if (!so->is_object())
            throw ApiError(400, "'stream_options' must be an object", "stream_options");
        r.include_usage = get_bool(*so, "include_usage", false);
    }
    GenParams& p = r.params;
    p.temperature = float(get_number(j, "temperature", 1.0, 0, 100));
    p.top_p = float(get_number(j, "top_p", 1.0, 0, 1));
    if (p.top_p <= 0) p.top_p = 1e-6f; // 0: only the most likely token
    p.min_p = float(get_number(j, "min_p", 0.0, 0, 1));
    p.top_k = int(get_int(j, "top_k", 0, 0, 1 << 30));
    p.seed = field(j, "seed")
                 ? uint64_t(get_int(j, "seed", 0, INT64_MIN, INT64_MAX))
                 : uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
    long long max_tokens = get_int(j, "max_tokens", -1, 0, 1 << 30);
    max_tokens = get_int(j, "max_completion_tokens", max_tokens, 0, 1 << 30);
    if (field(j, "n_predict")) max_tokens = get_int(j, "n_predict", -1, -1, 1 << 30);
    p.max_tokens = int(max_tokens);
    if (const json* stop = field(j, "stop")) {
        if (stop->is_string()) {
            p.stop.push_back(stop->get<std::string>());
        } else if (stop->is_array() && stop->size() <= 4) {
            for (const json& s : *stop) {
                if (!s.is_string()) throw ApiError(400, "'stop' must hold strings", "stop");
                p.stop.push_back(s.get<std::string>());
            }
        } else {
            throw ApiError(400, "'stop' must be a string or an array of up to 4 strings", "stop");
        }
        std::erase_if(p.stop, [](const std::string& s) { return s.empty(); });
    }
    if (chat) {
        if (get_bool(j, "logprobs", false))
            p.n_probs = int(get_int(j, "top_logprobs", 0, 0, 20));
        else if (field(j, "top_logprobs"))
            throw ApiError(400, "'top_logprobs' needs 'logprobs': true", "top_logprobs");
    } else if (field(j, "logprobs")) {
        p.n_probs = int(get_int(j, "logprobs", 0, 0, 20));
    }
    if (field(j, "n_probs")) p.n_probs = int(get_int(j, "n_probs", 0, 0, 20));
    for (const char* unsupported : {"echo", "suffix", "tools", "functions"})
        if (field(j, unsupported) && !(j[unsupported].is_boolean() && !j[unsupported].get<bool>()))
            throw ApiError(400, std::string("'") + unsupported + "' is not supported", unsupported);
    if (chat && field(j, "prompt"))
        throw ApiError(400, "chat requests take 'messages', not 'prompt'", "prompt");
    if (!chat && field(j, "messages"))
        throw ApiError(400, "completion requests take 'prompt', not 'messages'", "messages");
    try {
        p.prompt = chat ? chat_prompt(j, m) : completion_prompt(j, m);
    } catch (const ApiError&) {
        throw;
    } catch (const std::exception& e) { // tokenizer failures
        throw ApiError(400, e.what(), chat ? "messages" : "prompt");
    }
    if (p.prompt.empty())
        throw ApiError(400, "the prompt is empty (and the model has no BOS token to start from)",
                       chat ? "messages" : "prompt");
    if (int(p.prompt.size()) >= m.n_ctx)
        throw ApiError(400,
                       "This model's maximum context length is " + std::to_string(m.n_ctx) +
                           " tokens. However, your " + (chat ? "messages" : "prompt") +
                           " resulted in " + std::to_string(p.prompt.size()) + " tokens.",
                       chat ? "messages" : "prompt", "context_length_exceeded");
    if (!get_bool(j, "ignore_eos", false)) { // (llama.cpp's extension, for benchmarks)
        if (m.eos >= 0) p.end_tokens.push_back(m.eos);
        if (chat && m.turn_end >= 0) p.end_tokens.push_back(m.turn_end);
    }
    return r;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string error_body(int status, const std::string& message, const std::string& param,
                       const std::string& code, const std::string& type) {
    std::string t = type;
    if (t.empty())
        t = status == 401   ? "invalid_request_error"
            : status == 404 ? "invalid_request_error"
            : status == 503 ? "server_overloaded"
            : status >= 500 ? "server_error"
                            : "invalid_request_error";
    json e = {{"message", message}, {"type", t}, {"param", nullptr}, {"code", nullptr}};
    if (!param.empty()) e["param"] = param;
    if (!code.empty()) e["code"] = code;
    return dump(json{{"error", e}});
}

namespace {

json bytes_of(const std::string& s) {
    json b = json::array();
    for (unsigned char c : s) b.push_back(int(c));
    return b;
}

// logprobs as chat completions write them ({"content": [...]}) or as completions do.
json logprobs_json(const ParsedRequest& r, const std::vector<TokenProb>& probs,
                   size_t text_offset) {
    if (r.chat) {
        json content = json::array();
        for (const TokenProb& p : probs) {
            json top = json::array();
            for (const auto& [tok, lp] : p.top)
                top.push_back({{"token", tok}, {"logprob", lp}, {"bytes", bytes_of(tok)}});
            content.push_back({{"token", p.token},
                               {"logprob", p.logprob},
                               {"bytes", bytes_of(p.token)},
                               {"top_logprobs", top}});
        }
        return {{"content", content}};
    }
    json tokens = json::array(), lps = json::array(), tops = json::array(), offsets = json::array();
    for (const TokenProb& p : probs) {
        tokens.push_back(p.token);
        lps.push_back(p.logprob);
        json top = json::object();
        for (const auto& [tok, lp] : p.top) top[tok] = lp;
        tops.push_back(top);
        offsets.push_back(text_offset);
        text_offset += p.token.size();
    }
    return {{"tokens", tokens},
            {"token_logprobs", lps},
            {"top_logprobs", tops},
            {"text_offset", offsets}};
}

} // namespace

json usage_json(const Job& job) {
    return {{"prompt_tokens", job.prompt_tokens},
            {"completion_tokens", job.completion_tokens},
            {"total_tokens", job.prompt_tokens + job.completion_tokens},
            {"prompt_tokens_details", {{"cached_tokens", job.cached_tokens}}}};
}

json reply_json(const ParsedRequest& r, const ModelText& m, const std::string& id, long created,
                const std::string& text, const std::vector<TokenProb>& probs, const Job& job) {
    json choice = {{"index", 0}, {"finish_reason", job.finish_reason}, {"logprobs", nullptr}};
    if (r.params.n_probs >= 0) choice["logprobs"] = logprobs_json(r, probs, 0);
    if (r.chat)
        choice["message"] = {{"role", "assistant"}, {"content", text}};
    else
        choice["text"] = text;
    return {{"id", id},
            {"object", r.chat ? "chat.completion" : "text_completion"},
            {"created", created},
            {"model", m.id},
            {"choices", json::array({choice})},
            {"usage", usage_json(job)}};
}

json chunk_json(const ParsedRequest& r, const ModelText& m, const std::string& id, long created,
                const Piece* piece, const std::string* finish_reason, bool first) {
    json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
    if (finish_reason) choice["finish_reason"] = *finish_reason;
    if (piece && r.params.n_probs >= 0) choice["logprobs"] = logprobs_json(r, piece->probs, 0);
    if (r.chat) {
        json delta = json::object();
        if (first) delta["role"] = "assistant";
        if (piece) delta["content"] = piece->text;
        choice["delta"] = delta;
    } else {
        choice["text"] = piece ? piece->text : "";
    }
    return {{"id", id},
            {"object", r.chat ? "chat.completion.chunk" : "text_completion"},
            {"created", created},
            {"model", m.id},
            {"choices", json::array({choice})}};
}
