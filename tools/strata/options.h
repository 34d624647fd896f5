// strata's command line, shared by its two modes (one-shot and chat), and the small helpers
// they share over libstrata's C API.
#pragma once

#include "strata.h"
#include "tools/capi_helpers.h"

#include <memory>
#include <string>

struct Options {
    std::string model, prompt, kv_file, kv_type = "f16", chat_template, system;
    bool have_prompt = false;
    long n_predict = -1; // -1: one-shot 128, chat until end of turn
    long ctx = 0, threads = 1;
    strata_sampler_options sampling;
};

int run_oneshot(const Options& o);
int run_chat(const Options& o);
int run_pull(int argc, char** argv); // strata pull ... (argv[0] is "pull")

// Owning handles.
struct ModelCloser {
    void operator()(strata_model* m) const { strata_model_close(m); }
};
struct SessionCloser {
    void operator()(strata_session* s) const { strata_session_close(s); }
};
struct SamplerCloser {
    void operator()(strata_sampler* s) const { strata_sampler_close(s); }
};
struct DetokenizerCloser {
    void operator()(strata_detokenizer* d) const { strata_detokenizer_close(d); }
};
using ModelPtr = std::unique_ptr<strata_model, ModelCloser>;
using SessionPtr = std::unique_ptr<strata_session, SessionCloser>;
using SamplerPtr = std::unique_ptr<strata_sampler, SamplerCloser>;
using DetokenizerPtr = std::unique_ptr<strata_detokenizer, DetokenizerCloser>;

// Opens the model and a session on it as the command line says (--ctx, --threads, --kv-file,
// --kv-type). With a session file, an existing file's context is kept unless --ctx is given.
inline SessionPtr open_session(const Options& o, strata_model* model) {
    strata_session_options so;
    strata_session_options_init(&so);
    so.n_ctx = int(o.ctx);
    so.n_threads = int(o.threads);
    so.kv_type = o.kv_type.c_str();
    so.kv_file = o.kv_file.empty() ? nullptr : o.kv_file.c_str();
    strata_session* s = nullptr;
    check(strata_session_open(model, &so, &s));
    return SessionPtr(s);
}
