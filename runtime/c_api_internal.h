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

// Runs `body`, turning every exception into a status and a message.
template <typename F> int guarded(F&& body) {
    try {
        return body();
    } catch (const strata::Error& e) {
        const std::string m = e.what();
        const bool format =
            m.find("truncated") != std::string::npos || m.find("magic") != std::string::npos ||
            m.find("version") != std::string::npos || m.find("tensor") != std::string::npos ||
            m.find("metadata") != std::string::npos;
        if (m.find("context is full") != std::string::npos) return error(STRATA_CONTEXT_FULL, m);
        return error(format ? STRATA_FORMAT_ERROR : STRATA_ERROR, m);
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
