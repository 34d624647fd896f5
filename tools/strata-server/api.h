// The OpenAI request and response bodies: parsing and validating a request into GenParams
// (prompt tokens through the model's chat template), and the JSON of replies, stream chunks and
// errors.
#pragma once

#include "strata.h"
#include "tools/strata-server/job.h"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

// A request the server refuses: HTTP status and OpenAI's error fields.
struct ApiError : std::runtime_error {
    ApiError(int status, const std::string& message, std::string param = "", std::string code = "",
             std::string type = "invalid_request_error")
        : std::runtime_error(message), status(status), param(std::move(param)),
          code(std::move(code)), type(std::move(type)) {}
    int status;
    std::string param, code, type;
};

// What request parsing needs to know about the model.
struct ModelText {
    strata_model* model = nullptr;
    std::string id;   // the name clients use in "model"
    std::string tmpl; // chat template name; empty: messages are joined as plain text
    int32_t eos = -1, turn_end = -1;
    int n_ctx = 0;
};

struct ParsedRequest {
    GenParams params;
    bool chat = false;
    bool stream = false;
    bool include_usage = false; // stream_options.include_usage
};

// Throws ApiError (400 malformed or wrong types, 404 unknown model, 400 prompt too long).
ParsedRequest parse_request(const std::string& body, bool chat, const ModelText& m);

// {"error": {...}} as OpenAI writes it.
std::string error_body(int status, const std::string& message, const std::string& param = "",
                       const std::string& code = "", const std::string& type = "");

// Serializes with invalid UTF-8 (a token that is part of a character) replaced, never thrown on.
std::string dump(const nlohmann::json& j);

// The whole reply of a finished job (non-streaming).
nlohmann::json reply_json(const ParsedRequest& r, const ModelText& m, const std::string& id,
                          long created, const std::string& text,
                          const std::vector<TokenProb>& probs, const Job& job);
// One stream chunk: a text delta (first: with the assistant role), or the end (finish_reason).
nlohmann::json chunk_json(const ParsedRequest& r, const ModelText& m, const std::string& id,
                          long created, const Piece* piece, const std::string* finish_reason,
                          bool first);
nlohmann::json usage_json(const Job& job);
