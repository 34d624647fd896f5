// One-shot generation: the prompt's continuation on stdout and nothing else there.
#include "formats/error.h"
#include "runtime/session.h"
#include "runtime/tokenizer.h"
#include "tools/strata/options.h"

#include <chrono>
#include <cstdio>

using namespace strata;

int run_oneshot(const Options& o) {
    const auto t0 = std::chrono::steady_clock::now();
    auto model = Model::load(o.model);
    const ModelConfig& c = model->config();
    SessionOptions opt;
    opt.kv_file = o.kv_file;
    // With a session file an existing file's context is kept unless --ctx is given.
    opt.n_ctx = int(o.ctx ? o.ctx : o.kv_file.empty() ? std::min<long>(c.n_ctx_train, 4096) : 0);
    opt.n_threads = int(o.threads);
    opt.kv_type = o.kv_type == "q8_0" ? DType::Q8_0 : DType::F16;
    Session session(model, opt);
    Tokenizer tok(model->tokenizer());
    // A session that already holds tokens continues: the prompt is appended (no second BOS).
    const int held = session.n_past();
    std::vector<int32_t> ids = tok.encode(o.prompt, held == 0);
    if (held > 0)
        std::fprintf(stderr, "strata: resuming a session of %d tokens from %s\n", held,
                     o.kv_file.c_str());
    if (ids.empty() && held == 0)
        fail("the prompt is empty and the model has no BOS token to start from");
    if (ids.empty()) { // just continue: recompute the last held token's logits
        ids.push_back(session.history().back());
        session.truncate(held - 1);
    }
    if (session.n_past() + int(ids.size()) >= session.n_ctx())
        fail("the prompt is " + std::to_string(ids.size()) +
             " tokens, which does not fit the context of " + std::to_string(session.n_ctx()) +
             (held ? " with the session's " + std::to_string(held) + " tokens" : "") +
             " (use --ctx)");
    const long n_predict = o.n_predict < 0 ? 128 : o.n_predict;
    const auto t1 = std::chrono::steady_clock::now();
    const float* logits = session.decode(ids.data(), int(ids.size()));
    const auto t2 = std::chrono::steady_clock::now();
    Sampler sampler(o.sampling);
    StreamDecoder out(tok, ids.back());
    long generated = 0;
    while (generated < n_predict && session.n_past() < session.n_ctx()) {
        const int32_t next = sampler.sample(logits, int(c.n_vocab), session.history());
        if (next == tok.eos()) break;
        generated++;
        const std::string text = out.push(next);
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        // A session file keeps everything printed, so the last token is fed too.
        if ((generated == n_predict && o.kv_file.empty()) || session.n_past() + 1 > session.n_ctx())
            break;
        logits = session.decode(&next, 1);
    }
    const std::string rest = out.flush();
    std::fwrite(rest.data(), 1, rest.size(), stdout);
    std::fputc('\n', stdout);
    const auto t3 = std::chrono::steady_clock::now();
    auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    std::fprintf(
        stderr,
        "\nstrata: load %.1f ms | prompt %zu tokens %.1f tok/s | generated %ld tokens %.1f tok/s | "
        "kernels %s, %ld threads\n",
        secs(t0, t1) * 1e3, ids.size(), double(ids.size()) / secs(t1, t2), generated,
        generated > 1 ? double(generated - 1) / secs(t2, t3) : 0.0, session.kernels().name,
        o.threads);
    return 0;
}
