// The one error type strata throws inside the library. Tools and the C API catch it at their
// boundary and turn it into a message on stderr or a status code; nothing else is thrown on
// purpose.
#pragma once

#include <stdexcept>
#include <string>

namespace strata {

struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] inline void fail(const std::string& message) { throw Error(message); }

} // namespace strata
