// The C API's batched decode (include/strata.h, strata_decode_batch): several sessions' next
// tokens in one forward pass.
#include "runtime/c_api_internal.h"

#include <string>
#include <vector>

using namespace strata::capi;

extern "C" int strata_decode_batch(strata_session* const* sessions, const int32_t* tokens, int n) {
    if (!sessions || !tokens || n <= 0)
        return error(STRATA_INVALID_ARGUMENT,
                     "strata_decode_batch: NULL sessions/tokens or n <= 0");
    std::vector<strata::Session*> batch(static_cast<size_t>(n));
    for (int i = 0; i < n; i++) {
        if (!sessions[i])
            return error(STRATA_INVALID_ARGUMENT,
                         "strata_decode_batch: session " + std::to_string(i) + " is NULL");
        const strata::Session& s = *sessions[i]->session;
        if (s.n_past() + 1 > s.n_ctx())
            return error(STRATA_CONTEXT_FULL, "context is full: session " + std::to_string(i) +
                                                  " holds " + std::to_string(s.n_past()) +
                                                  " tokens of " + std::to_string(s.n_ctx()));
        batch[size_t(i)] = sessions[i]->session.get();
    }
    return guarded([&] {
        strata::Session::decode_batch(batch.data(), tokens, n);
        for (int i = 0; i < n; i++) sessions[i]->logits = sessions[i]->session->last_logits();
        return ok();
    });
}
