// The one error type strata throws inside the library. Tools and the C API catch it at their
// boundary and turn it into a message on stderr or a status code; nothing else is thrown on
// purpose. Each error carries the status the C API returns for it (the values are
// include/strata.h's strata_status, checked there), so no caller ever reads the message to
// classify a failure. fail(message) is the common case: a plain error (STRATA_ERROR) unless the
// layer that knows better relabels it (with_status); fail(status, message) says what it is.
#pragma once

#include <stdexcept>
#include <string>

namespace strata {

enum class Status : int {
    error = 1,            // anything else
    invalid_argument = 2, // an out-of-range value
    format = 3,           // a file that is not, or no longer, valid
    context_full = 4,     // the tokens do not fit the session's context
    not_supported = 6,    // not built, or not available on this CPU
    no_memory = 7,
    busy = 8,    // a session file another process is writing
    aborted = 9, // the caller's abort callback stopped the work
};

struct Error : std::runtime_error {
    explicit Error(const std::string& message) : std::runtime_error(message) {}
    Error(Status s, const std::string& message)
        : std::runtime_error(message), status(s), status_given(true) {}
    Status status = Status::error;
    bool status_given = false; // false: a plain fail(message), which with_status may label
};

[[noreturn]] inline void fail(const std::string& message) { throw Error(message); }
[[noreturn]] inline void fail(Status status, const std::string& message) {
    throw Error(status, message);
}

// Runs `body`; a plain Error it throws (one raised without a status) gets `status`. For a caller
// that knows what any unlabelled failure of `body` means, e.g. "the model file is malformed"
// around a reader whose I/O failures are labelled where they happen.
template <typename F> decltype(auto) with_status(Status status, F&& body) {
    try {
        return body();
    } catch (const Error& e) {
        if (e.status_given) throw;
        throw Error(status, e.what());
    }
}

} // namespace strata
