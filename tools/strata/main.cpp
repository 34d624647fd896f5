// strata: one-shot generation (-p) today; the interactive chat is the tools issue's work.
#include "formats/error.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "runtime/tokenizer.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

using namespace strata;

static const char* kUsage = R"(usage: strata -m MODEL.strata -p PROMPT [-n N] [options]

One-shot: prints the prompt's continuation (at most N tokens, stopping at end-of-sequence) to
stdout and nothing else there; logs and timings go to stderr.
Interactive chat (strata -m MODEL without -p) is not built yet.

options:
  -m, --model PATH       model file (.strata; convert others with strata-convert)
  -p, --prompt TEXT      prompt text
  -n, --n-predict N      tokens to generate (default 128)
  --temp T               temperature; 0 = greedy argmax (default 0.8)
  --top-k K              keep the K most likely tokens (default 40; 0 = off)
  --top-p P              nucleus sampling (default 0.95; 1 = off)
  --min-p P              drop tokens below P x the top probability (default 0.05; 0 = off)
  --repeat-penalty R     penalize the last 64 tokens (default 1.0 = off)
  --seed S               random seed (default: time)
  --ctx N                context size (default: the model's, at most 4096)
  --threads N            threads (default: all cores)
  --kv-file PATH         persistent session file (not built yet)
  --kv-type f16|q8_0     KV cache type (only f16 is built yet)
  -h, --help             this text
)";

[[noreturn]] static void usage_error(const std::string& m) {
    std::fprintf(stderr, "strata: %s\n(see strata --help)\n", m.c_str());
    std::exit(2);
}

int main(int argc, char** argv) {
    std::string model_path, prompt, kv_file, kv_type = "f16";
    bool have_prompt = false;
    long n_predict = 128, ctx = 0,
         threads = long(std::max(1u, std::thread::hardware_concurrency()));
    SamplerOptions so;
    so.seed = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
    auto value = [&](int& i) -> std::string {
        if (i + 1 >= argc) usage_error(std::string(argv[i]) + " needs a value");
        return argv[++i];
    };
    auto number = [&](int& i, double lo, double hi) {
        const std::string flag = argv[i], v = value(i);
        char* end = nullptr;
        const double x = std::strtod(v.c_str(), &end);
        if (v.empty() || *end || !(x >= lo && x <= hi))
            usage_error(flag + ": '" + v + "' is not a number in [" + std::to_string(lo) + ", " +
                        std::to_string(hi) + "]");
        return x;
    };
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "-m" || a == "--model")
            model_path = value(i);
        else if (a == "-p" || a == "--prompt")
            prompt = value(i), have_prompt = true;
        else if (a == "-n" || a == "--n-predict")
            n_predict = long(number(i, 0, 1e9));
        else if (a == "--temp")
            so.temperature = float(number(i, 0, 100));
        else if (a == "--top-k")
            so.top_k = int(number(i, 0, 1e9));
        else if (a == "--top-p")
            so.top_p = float(number(i, 1e-9, 1));
        else if (a == "--min-p")
            so.min_p = float(number(i, 0, 0.999999));
        else if (a == "--repeat-penalty")
            so.repeat_penalty = float(number(i, 1e-6, 100));
        else if (a == "--seed")
            so.seed = uint64_t(number(i, 0, 1.8e19));
        else if (a == "--ctx")
            ctx = long(number(i, 1, 1 << 24));
        else if (a == "--threads" || a == "-t")
            threads = long(number(i, 1, 1024));
        else if (a == "--kv-file")
            kv_file = value(i);
        else if (a == "--kv-type")
            kv_type = value(i);
        else
            usage_error("unknown argument " + a);
    }
    if (model_path.empty()) usage_error("no model given (-m MODEL.strata)");
    if (!have_prompt) {
        std::fprintf(stderr, "strata: interactive chat is not built yet; give a prompt with -p for "
                             "one-shot generation\n");
        return 3;
    }
    if (!kv_file.empty()) {
        std::fprintf(stderr, "strata: --kv-file (persistent sessions) is not built yet\n");
        return 3;
    }
    if (kv_type != "f16") {
        std::fprintf(stderr, "strata: --kv-type %s: only f16 is built yet\n", kv_type.c_str());
        return kv_type == "q8_0" ? 3 : 2;
    }
    try {
        const auto t0 = std::chrono::steady_clock::now();
        auto model = Model::load(model_path);
        const ModelConfig& c = model->config();
        SessionOptions opt;
        opt.n_ctx = int(ctx ? ctx : std::min<long>(c.n_ctx_train, 4096));
        opt.n_threads = int(threads);
        Session session(model, opt);
        Tokenizer tok(model->tokenizer());
        const std::vector<int32_t> ids = tok.encode(prompt, true);
        if (ids.empty()) fail("the prompt is empty and the model has no BOS token to start from");
        if (int(ids.size()) >= session.n_ctx())
            fail("the prompt is " + std::to_string(ids.size()) +
                 " tokens, which does not fit the context of " + std::to_string(session.n_ctx()) +
                 " (use --ctx)");
        const auto t1 = std::chrono::steady_clock::now();
        const float* logits = session.decode(ids.data(), int(ids.size()));
        const auto t2 = std::chrono::steady_clock::now();
        Sampler sampler(so);
        StreamDecoder out(tok, ids.back());
        long generated = 0;
        while (generated < n_predict && session.n_past() < session.n_ctx()) {
            const int32_t next = sampler.sample(logits, int(c.n_vocab), session.history());
            if (next == tok.eos()) break;
            generated++;
            const std::string text = out.push(next);
            std::fwrite(text.data(), 1, text.size(), stdout);
            std::fflush(stdout);
            if (generated == n_predict || session.n_past() + 1 > session.n_ctx()) break;
            logits = session.decode(&next, 1);
        }
        const std::string rest = out.flush();
        std::fwrite(rest.data(), 1, rest.size(), stdout);
        std::fputc('\n', stdout);
        const auto t3 = std::chrono::steady_clock::now();
        auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
        std::fprintf(stderr,
                     "\nstrata: load %.1f ms | prompt %zu tokens %.1f tok/s | generated %ld tokens "
                     "%.1f tok/s | kernels %s, %ld threads\n",
                     secs(t0, t1) * 1e3, ids.size(), double(ids.size()) / secs(t1, t2), generated,
                     generated > 1 ? double(generated - 1) / secs(t2, t3) : 0.0,
                     session.kernels().name, threads);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "strata: error: %s\n", e.what());
        return 1;
    }
}
