// What the C API's translation units share: the handle structs behind include/strata.h's opaque
// types, the per-thread error message, and the wrapper that turns every exception into a status.
#pragma once

#include "strata.h"

#include "core/error.h"
#include "formats/model_config.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "runtime/tokenizer.h"

#include <cstring>
#include <memory>
#include <new>
#include <string>

struct strata_model {
    std::shared_ptr<const strata::Model> model;   // null for a vocabulary opened alone
    std::unique_ptr<strata::TokenizerData> vocab; // strata_vocab_open's (else the model's)
    const strata::TokenizerData* data = nullptr;  // whichever of the two holds the vocabulary
    std::unique_ptr<strata::Tokenizer> tokenizer;
};

struct strata_session {
    strata_model* model;
    std::unique_ptr<strata::Session> session;
    const float* logits = nullptr;
};

struct strata_sampler {
    std::unique_ptr<strata::Sampler> sampler;
};

namespace strata::capi {

inline thread_local std::string t_error;

inline int ok() {
    t_error.clear();
    return STRATA_OK;
}

inline int error(int code, const std::string& message) {
    t_error = message;
    return code;
}

// strata::Status mirrors strata_status (core/ cannot see the public header).
static_assert(int(strata::Status::error) == STRATA_ERROR &&
                  int(strata::Status::invalid_argument) == STRATA_INVALID_ARGUMENT &&
                  int(strata::Status::format) == STRATA_FORMAT_ERROR &&
                  int(strata::Status::context_full) == STRATA_CONTEXT_FULL &&
                  int(strata::Status::not_supported) == STRATA_NOT_SUPPORTED &&
                  int(strata::Status::no_memory) == STRATA_NO_MEMORY &&
                  int(strata::Status::busy) == STRATA_BUSY &&
                  int(strata::Status::aborted) == STRATA_ABORTED,
              "strata::Status and strata_status disagree");

// Runs `body`, turning every exception into a status and a message: a strata::Error's own status
// (the message is never read to classify it).
template <typename F> int guarded(F&& body) {
    try {
        return body();
    } catch (const strata::Error& e) {
        return error(int(e.status), e.what());
    } catch (const std::bad_alloc&) {
        return error(STRATA_NO_MEMORY, "out of memory");
    } catch (const std::exception& e) {
        return error(STRATA_ERROR, e.what());
    } catch (...) {
        return error(STRATA_ERROR, "unknown error");
    }
}

// Copies `text` into buf[0..capacity) NUL-terminated; *length gets its byte count (without the
// NUL) also when the buffer is too small.
inline int copy_out(const std::string& text, char* buf, int capacity, int* length,
                    const char* what) {
    *length = int(text.size());
    if (int(text.size()) + 1 > capacity)
        return error(STRATA_BUFFER_TOO_SMALL, std::string(what) + ": " +
                                                  std::to_string(text.size() + 1) +
                                                  " bytes need a larger buffer");
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = 0;
    return ok();
}

} // namespace strata::capi
