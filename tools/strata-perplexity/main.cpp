// strata-perplexity: perplexity of a model over a text file, computed as llama.cpp's
// perplexity tool does: the tokens in chunks of --ctx, each chunk starting with BOS, the first
// half of each chunk as context and the negative log-likelihood of the second half scored.
// It uses only libstrata's C API (include/strata.h).
#include "strata.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

static const char* kUsage =
    R"(usage: strata-perplexity -m MODEL.strata -f TEXT [--ctx N] [--threads N]

Perplexity over TEXT: chunks of N tokens (default 512, at most the model's context), each
starting with BOS; the second half of each chunk is scored given everything before it.
Prints the running perplexity per chunk and the final estimate with its standard error.
)";

[[noreturn]] static void usage_error(const std::string& m) {
    std::fprintf(stderr, "strata-perplexity: %s\n(see strata-perplexity --help)\n", m.c_str());
    std::exit(2);
}

int main(int argc, char** argv) {
    std::string model_path, text_path;
    long ctx = 512, threads = long(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage_error(a + " needs a value");
            return argv[++i];
        };
        auto count = [&](long lo, long hi) {
            const std::string v = value();
            char* end = nullptr;
            const long x = std::strtol(v.c_str(), &end, 10);
            if (v.empty() || *end || x < lo || x > hi)
                usage_error(a + ": '" + v + "' is out of range");
            return x;
        };
        if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "-m" || a == "--model")
            model_path = value();
        else if (a == "-f" || a == "--file")
            text_path = value();
        else if (a == "--ctx" || a == "-c")
            ctx = count(8, 1 << 20);
        else if (a == "--threads" || a == "-t")
            threads = count(1, 1024);
        else
            usage_error("unknown argument " + a);
    }
    if (model_path.empty()) usage_error("no model given (-m MODEL.strata)");
    if (text_path.empty()) usage_error("no text given (-f TEXT)");
    strata_model* model = nullptr;
    strata_session* session = nullptr;
    auto fail = [&](const std::string& m) {
        std::fprintf(stderr, "strata-perplexity: error: %s\n", m.c_str());
        strata_session_close(session);
        strata_model_close(model);
        return 1;
    };
    if (strata_model_open(model_path.c_str(), &model) != STRATA_OK) return fail(strata_errmsg());
    strata_model_info info;
    strata_model_info_get(model, &info);
    if (ctx > long(info.n_ctx_train))
        return fail("--ctx " + std::to_string(ctx) + " exceeds the model's context of " +
                    std::to_string(info.n_ctx_train));
    std::ifstream in(text_path, std::ios::binary);
    if (!in) return fail("cannot open " + text_path);
    std::stringstream text;
    text << in.rdbuf();
    const std::string t = text.str();
    int n = 0;
    strata_tokenize_text(model, t.data(), t.size(), 0, nullptr, 0, &n);
    std::vector<int32_t> all(static_cast<size_t>(n));
    if (strata_tokenize_text(model, t.data(), t.size(), 0, all.data(), n, &n) != STRATA_OK)
        return fail(strata_errmsg());
    const long per_chunk = ctx - 1; // + BOS
    const long chunks = long(all.size()) / per_chunk;
    if (chunks < 1)
        return fail(text_path + " has " + std::to_string(all.size()) + " tokens; at least " +
                    std::to_string(per_chunk) + " are needed for one chunk of --ctx " +
                    std::to_string(ctx));
    strata_session_options opt;
    strata_session_options_init(&opt);
    opt.n_ctx = int32_t(ctx);
    opt.n_threads = int32_t(threads);
    opt.n_batch = int32_t(ctx);
    if (strata_session_open(model, &opt, &session) != STRATA_OK) return fail(strata_errmsg());
    const int V = info.n_vocab;
    std::vector<float> logits(size_t(ctx) * size_t(V));
    double nll = 0, nll2 = 0;
    long scored = 0;
    std::fprintf(stderr, "strata-perplexity: %zu tokens, %ld chunks of %ld\n", all.size(), chunks,
                 ctx);
    for (long k = 0; k < chunks; k++) {
        std::vector<int32_t> chunk;
        chunk.push_back(info.bos >= 0 ? info.bos : all[size_t(k * per_chunk)]);
        chunk.insert(chunk.end(), all.begin() + k * per_chunk, all.begin() + (k + 1) * per_chunk);
        strata_session_reset(session);
        if (strata_decode_logits(session, chunk.data(), int(chunk.size()), logits.data()) !=
            STRATA_OK)
            return fail(strata_errmsg());
        for (size_t p = chunk.size() / 2; p + 1 < chunk.size(); p++) {
            const float* l = logits.data() + p * size_t(V);
            float max = l[0];
            for (int i = 1; i < V; i++) max = std::max(max, l[i]);
            double z = 0;
            for (int i = 0; i < V; i++) z += std::exp(double(l[i] - max));
            const double lp = double(l[chunk[p + 1]] - max) - std::log(z);
            nll -= lp;
            nll2 += lp * lp;
            scored++;
        }
        std::printf("[%ld]%.4f%s", k + 1, std::exp(nll / double(scored)),
                    k + 1 < chunks ? "," : "\n");
        std::fflush(stdout);
    }
    strata_session_close(session);
    strata_model_close(model);
    {
        const double mean = nll / double(scored);
        const double var = nll2 / double(scored) - mean * mean;
        const double err = std::exp(mean) * std::sqrt(std::max(0.0, var) / double(scored));
        std::printf("PPL = %.4f +/- %.4f (%ld tokens scored)\n", std::exp(mean), err, scored);
        return 0;
    }
}
