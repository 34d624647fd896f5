// Small helpers the tools share over libstrata's C API (include/strata.h): a failed call as an
// exception carrying strata_errmsg(), and tokenizing into a vector of whatever size it takes.
#pragma once

#include "strata.h"

#include <stdexcept>
#include <string>
#include <vector>

inline void check(int status) {
    if (status != STRATA_OK) throw std::runtime_error(strata_errmsg());
}

// Token ids of `text` (STRATA_TOKENIZE_* flags).
inline std::vector<int32_t> tokenize(const strata_model* model, const std::string& text,
                                     int flags) {
    std::vector<int32_t> ids(text.size() + 2); // usually enough; retried when not
    int n = 0;
    int status = strata_tokenize_text(model, text.data(), text.size(), flags, ids.data(),
                                      int(ids.size()), &n);
    if (status == STRATA_BUFFER_TOO_SMALL) {
        ids.resize(size_t(n));
        status = strata_tokenize_text(model, text.data(), text.size(), flags, ids.data(), n, &n);
    }
    check(status);
    ids.resize(size_t(n));
    return ids;
}

// Whether `name` is one word of the space-separated `list`.
inline bool in_type_list(const std::string& name, const char* list) {
    const std::string all = std::string(" ") + list + " ";
    return !name.empty() && name.find(' ') == std::string::npos &&
           all.find(" " + name + " ") != std::string::npos;
}
// Whether `type` is one strata_convert accepts (strata_convert_types()).
inline bool is_convert_type(const std::string& type) {
    return in_type_list(type, strata_convert_types());
}
// Whether `type` is one a session's KV cache may hold (strata_kv_types()).
inline bool is_kv_type(const std::string& type) { return in_type_list(type, strata_kv_types()); }
