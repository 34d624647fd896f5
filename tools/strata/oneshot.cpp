// One-shot generation: the prompt's continuation on stdout and nothing else there.
#include "tools/strata/options.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

int run_oneshot(const Options& o) {
    const auto t0 = std::chrono::steady_clock::now();
    strata_model* m = nullptr;
    check(strata_model_open(o.model.c_str(), &m));
    ModelPtr model(m);
    strata_model_info info;
    check(strata_model_info_get(model.get(), &info));
    SessionPtr session = open_session(o, model.get());
    strata_kv_stats kv;
    check(strata_kv_stats_get(session.get(), &kv));
    // A session that already holds tokens continues: the prompt is appended (no second BOS).
    const int held = strata_n_past(session.get());
    const int flags = STRATA_TOKENIZE_PARSE_SPECIAL | (held == 0 ? STRATA_TOKENIZE_ADD_SPECIAL : 0);
    std::vector<int32_t> ids = tokenize(model.get(), o.prompt, flags);
    int n = 0;
    if (held > 0)
        std::fprintf(stderr, "strata: resuming a session of %d tokens from %s\n", held,
                     o.kv_file.c_str());
    if (ids.empty() && held == 0)
        throw std::runtime_error(
            "the prompt is empty and the model has no BOS token to start from");
    if (ids.empty()) { // just continue: recompute the last held token's logits
        std::vector<int32_t> history(static_cast<size_t>(held));
        check(strata_session_tokens(session.get(), history.data(), held, &n));
        ids.push_back(history.back());
        check(strata_session_truncate(session.get(), held - 1));
    }
    const int past = strata_n_past(session.get());
    if (past + int(ids.size()) >= kv.n_ctx)
        throw std::runtime_error(
            "the prompt is " + std::to_string(ids.size()) +
            " tokens, which does not fit the context of " + std::to_string(kv.n_ctx) +
            (held ? " with the session's " + std::to_string(held) + " tokens" : "") +
            " (use --ctx)");
    const long n_predict = o.n_predict < 0 ? 128 : o.n_predict;
    const auto t1 = std::chrono::steady_clock::now();
    check(strata_decode(session.get(), ids.data(), int(ids.size())));
    const auto t2 = std::chrono::steady_clock::now();
    strata_sampler* smp = nullptr;
    check(strata_sampler_open(&o.sampling, &smp));
    SamplerPtr sampler(smp);
    strata_detokenizer* d = nullptr;
    check(strata_detokenizer_open(model.get(), ids.back(), &d));
    DetokenizerPtr out(d);
    const char* text = nullptr;
    int length = 0;
    long generated = 0;
    while (generated < n_predict && strata_n_past(session.get()) < kv.n_ctx) {
        int32_t next = -1;
        check(strata_sample(sampler.get(), session.get(), &next));
        if (next == info.eos) break;
        generated++;
        check(strata_detokenizer_push(out.get(), next, &text, &length));
        std::fwrite(text, 1, size_t(length), stdout);
        std::fflush(stdout);
        // A session file keeps everything printed, so the last token is fed too.
        if ((generated == n_predict && o.kv_file.empty()) ||
            strata_n_past(session.get()) + 1 > kv.n_ctx)
            break;
        check(strata_decode(session.get(), &next, 1));
    }
    check(strata_detokenizer_flush(out.get(), &text, &length));
    std::fwrite(text, 1, size_t(length), stdout);
    std::fputc('\n', stdout);
    const auto t3 = std::chrono::steady_clock::now();
    auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    std::fprintf(
        stderr,
        "\nstrata: load %.1f ms | prompt %zu tokens %.1f tok/s | generated %ld tokens %.1f tok/s | "
        "kernels %s, %ld threads\n",
        secs(t0, t1) * 1e3, ids.size(), double(ids.size()) / secs(t1, t2), generated,
        generated > 1 ? double(generated - 1) / secs(t2, t3) : 0.0, strata_kernels(), o.threads);
    return 0;
}
