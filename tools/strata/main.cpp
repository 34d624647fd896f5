// strata: chat with a model in the terminal, or one-shot generation with -p.
#include "tools/capi_helpers.h"
#include "tools/strata/options.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

static const char* kUsage = R"(usage: strata -m MODEL.strata [-p PROMPT [-n N]] [options]
       strata pull HF_REPO [--file NAME]... [-o OUT.strata]   (strata pull --help)

Without -p: an interactive chat with the model (completion mode for a base model without a chat
template). With -p: prints the prompt's continuation (at most N tokens, stopping at
end-of-sequence) to stdout and nothing else there; logs and timings go to stderr.

options:
  -m, --model PATH       model file (.strata; convert others with strata-convert)
  -p, --prompt TEXT      one-shot prompt
  -n, --n-predict N      tokens to generate (one-shot default 128; chat: until the turn ends)
  --temp T               temperature; 0 = greedy argmax (default 0.8)
  --top-k K              keep the K most likely tokens (default 40; 0 = off)
  --top-p P              nucleus sampling (default 0.95; 1 = off)
  --min-p P              drop tokens below P x the top probability (default 0.05; 0 = off)
  --repeat-penalty R     penalize the last 64 tokens (default 1.0 = off)
  --seed S               random seed (default: time)
  --ctx N                context size (default: the model's, at most 4096)
  --threads N            threads (default: all cores)
  --chat-template NAME   override the model's template: llama-2 llama-3 chatml mistral gemma zephyr
  --system TEXT          chat: system prompt
  --kv-file PATH         persistent session: the KV cache lives in PATH (created if absent);
                         reopening resumes without recomputing (one-shot appends -p to it)
  --kv-type TYPE         KV cache: f16 (default), q8_0 (half; head_dim % 32 == 0), f32
  -h, --help             this text
)";

[[noreturn]] static void usage_error(const std::string& m) {
    std::fprintf(stderr, "strata: %s\n(see strata --help)\n", m.c_str());
    std::exit(2);
}

int main(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "pull") return run_pull(argc - 1, argv + 1);
    Options o;
    strata_sampler_options_init(&o.sampling);
    o.sampling.temperature = 0.8f; // the C API's default is greedy; the tool samples
    o.threads = long(std::max(1u, std::thread::hardware_concurrency()));
    o.sampling.seed = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
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
            o.model = value(i);
        else if (a == "-p" || a == "--prompt")
            o.prompt = value(i), o.have_prompt = true;
        else if (a == "-n" || a == "--n-predict")
            o.n_predict = long(number(i, 0, 1e9));
        else if (a == "--temp")
            o.sampling.temperature = float(number(i, 0, 100));
        else if (a == "--top-k")
            o.sampling.top_k = int32_t(number(i, 0, 1e9));
        else if (a == "--top-p")
            o.sampling.top_p = float(number(i, 1e-9, 1));
        else if (a == "--min-p")
            o.sampling.min_p = float(number(i, 0, 0.999999));
        else if (a == "--repeat-penalty")
            o.sampling.repeat_penalty = float(number(i, 1e-6, 100));
        else if (a == "--seed")
            o.sampling.seed = uint64_t(number(i, 0, 1.8e19));
        else if (a == "--ctx")
            o.ctx = long(number(i, 1, 1 << 24));
        else if (a == "--threads" || a == "-t")
            o.threads = long(number(i, 1, 1024));
        else if (a == "--chat-template")
            o.chat_template = value(i);
        else if (a == "--system")
            o.system = value(i);
        else if (a == "--kv-file")
            o.kv_file = value(i);
        else if (a == "--kv-type")
            o.kv_type = value(i);
        else
            usage_error("unknown argument " + a);
    }
    if (o.model.empty()) usage_error("no model given (-m MODEL.strata)");
    if (!is_kv_type(o.kv_type))
        usage_error("--kv-type " + o.kv_type + " is not one of " + strata_kv_types());
    try {
        return o.have_prompt ? run_oneshot(o) : run_chat(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "strata: error: %s\n", e.what());
        return 1;
    }
}
