// Owning handles for libstrata's objects.
#pragma once

#include "strata.h"

#include <memory>

struct SessionCloser {
    void operator()(strata_session* s) const { strata_session_close(s); }
};
struct SamplerCloser {
    void operator()(strata_sampler* s) const { strata_sampler_close(s); }
};
struct DetokenizerCloser {
    void operator()(strata_detokenizer* d) const { strata_detokenizer_close(d); }
};
using SessionPtr = std::unique_ptr<strata_session, SessionCloser>;
using SamplerPtr = std::unique_ptr<strata_sampler, SamplerCloser>;
using DetokenizerPtr = std::unique_ptr<strata_detokenizer, DetokenizerCloser>;
