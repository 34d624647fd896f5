// strata-bench: prompt processing (pp) and generation (tg) speed of a model, llama-bench style,
// optionally as a percentage of this machine's measured bandwidth and arithmetic peak.
#include "formats/error.h"
#include "ops/kernels.h"
#include "runtime/roofline.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "tools/strata-bench/resume.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace strata;

static const char* kUsage =
    R"(usage: strata-bench -m MODEL.strata [-p 512] [-n 128] [-t 1,2] [-r 3] [--json] [--roofline]

Measures prompt processing (pp: -p tokens in one batch) and generation (tg: -n tokens one at a
time) in tokens/s, mean +- sd over -r runs, for each thread count in -t.

options:
  -m, --model PATH     model file (repeatable)
  -p, --n-prompt N     prompt tokens (default 512; 0 skips pp)
  -n, --n-gen N        generated tokens (default 128; 0 skips tg)
  -t, --threads LIST   comma-separated thread counts (default: all cores)
  -r, --repetitions R  runs per test (default 3)
  -d, --depth D        tokens already in the context before each test (prefilled, not timed), as
                       llama-bench's -d: generation at depth reads D tokens of K/V per token
  --kv-type f16|f32    KV cache type (default f16)
  --json               print a JSON array (llama-bench field names) instead of the table
  --roofline           measure read bandwidth and FMA peak here and print each result as % of its bound
  --resume LIST        instead: for each prefix length in LIST (e.g. 16,2048), fill a session file
                       with one prefill (timed), then time reopening it and decoding one token
                       (first model, first thread count; best of -r)
  -h, --help           this text
)";

[[noreturn]] static void usage_error(const std::string& m) {
    std::fprintf(stderr, "strata-bench: %s\n(see strata-bench --help)\n", m.c_str());
    std::exit(2);
}

namespace {

struct Result {
    std::string model, test, kernels;
    uint64_t size_bytes, params;
    int n_prompt, n_gen, threads;
    double avg_ts, sd_ts;
    double bound_ts = 0; // roofline bound in tokens/s (0 when not measured)
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<int> parse_list(const std::string& s, const char* what = "thread count",
                            long max = 1024) {
    std::vector<int> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
        char* end = nullptr;
        const long v = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end || v < 1 || v > max)
            usage_error(std::string("bad ") + what + " '" + item + "'");
        out.push_back(int(v));
    }
    return out;
}

// Bytes of weights a forward pass of one token reads (every matrix; one embedding row).
uint64_t weight_bytes_per_token(const Model& m) {
    uint64_t b = 0;
    auto add = [&](const MatrixRef& w) {
        if (w.data) b += uint64_t(row_bytes(w.type, uint64_t(w.cols))) * uint64_t(w.rows);
    };
    for (const auto& l : m.layers)
        for (const MatrixRef* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down})
            add(*w);
    add(m.output);
    return b;
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> models;
    int n_prompt = 512, n_gen = 128, reps = 3, depth = 0;
    std::vector<int> threads = {int(std::max(1u, std::thread::hardware_concurrency()))};
    bool json = false, roofline = false;
    std::vector<int> resume;
    DType kv_type = DType::F16;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage_error(a + " needs a value");
            return argv[++i];
        };
        auto count = [&](int lo, int hi) {
            const std::string v = value();
            char* end = nullptr;
            const long x = std::strtol(v.c_str(), &end, 10);
            if (v.empty() || *end || x < lo || x > hi)
                usage_error(a + ": '" + v + "' is out of range");
            return int(x);
        };
        if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "-m" || a == "--model")
            models.push_back(value());
        else if (a == "-p" || a == "--n-prompt")
            n_prompt = count(0, 1 << 20);
        else if (a == "-n" || a == "--n-gen")
            n_gen = count(0, 1 << 20);
        else if (a == "-t" || a == "--threads")
            threads = parse_list(value());
        else if (a == "-r" || a == "--repetitions")
            reps = count(1, 1000);
        else if (a == "-d" || a == "--depth")
            depth = count(0, 1 << 20);
        else if (a == "--json")
            json = true;
        else if (a == "--roofline")
            roofline = true;
        else if (a == "--resume")
            resume = parse_list(value(), "prefix length", 1 << 20);
        else if (a == "--kv-type") {
            const std::string v = value();
            if (v == "f16")
                kv_type = DType::F16;
            else if (v == "f32")
                kv_type = DType::F32;
            else
                usage_error("--kv-type " + v + ": f16 or f32");
        } else
            usage_error("unknown argument " + a);
    }
    if (models.empty()) usage_error("no model given (-m MODEL.strata)");
    try {
        if (!resume.empty()) {
            bench_resume(models[0], resume, threads[0], reps, kv_type);
            return 0;
        }
        Roofline roof;
        if (roofline) {
            int max_threads = 1;
            for (int t : threads) max_threads = std::max(max_threads, t);
            roof = measure_roofline(threads);
            for (size_t i = 0; i < threads.size(); i++)
                std::fprintf(stderr,
                             "roofline, %d thread(s): read bandwidth %.1f GB/s, FP32 FMA peak %.0f "
                             "GFLOP/s\n",
                             threads[i], roof.read_gbps[i], roof.fma_gflops[i]);
        }
        std::vector<Result> results;
        for (const std::string& path : models) {
            auto model = Model::load(path);
            const ModelConfig& c = model->config();
            const uint64_t wbytes = weight_bytes_per_token(*model);
            std::string label = c.name.empty() ? c.arch : c.name;
            std::mt19937 rng(1);
            for (size_t ti = 0; ti < threads.size(); ti++) {
                const int t = threads[ti];
                SessionOptions opt;
                opt.n_ctx = std::max(depth + n_prompt + n_gen + 1, 16);
                opt.n_threads = t;
                opt.n_batch = std::max(n_prompt, 1);
                opt.kv_type = kv_type;
                auto run = [&](const std::string& test, int np, int ng) {
                    std::vector<double> ts;
                    for (int r = 0; r < reps + 1; r++) { // first run warms up
                        Session s(model, opt);
                        if (depth > 0) {
                            std::vector<int32_t> ctx(static_cast<size_t>(depth));
                            for (auto& x : ctx) x = int32_t(rng() % c.n_vocab);
                            s.decode(ctx.data(), depth);
                        }
                        std::vector<int32_t> toks(size_t(std::max(np, 1)));
                        for (auto& x : toks) x = int32_t(rng() % c.n_vocab);
                        const auto t0 = std::chrono::steady_clock::now();
                        if (np > 0) s.decode(toks.data(), np);
                        for (int g = 0; g < ng; g++) {
                            const int32_t tok = int32_t(rng() % c.n_vocab);
                            s.decode(&tok, 1);
                        }
                        if (r > 0) ts.push_back(double(np + ng) / seconds_since(t0));
                    }
                    double mean = 0, var = 0;
                    for (double x : ts) mean += x;
                    mean /= double(ts.size());
                    for (double x : ts) var += (x - mean) * (x - mean);
                    Result res{path,
                               test,
                               kernels().name,
                               model->file().file_bytes(),
                               parameter_count(c),
                               np,
                               ng,
                               t,
                               mean,
                               ts.size() > 1 ? std::sqrt(var / double(ts.size() - 1)) : 0.0};
                    if (roofline) {
                        if (ng > 0) { // generation: bytes read per token over bandwidth
                            const double kv =
                                double(c.kv_bytes_per_token(kv_type == DType::F32 ? 4.0 : 2.0)) *
                                (depth + ng / 2.0);
                            res.bound_ts = roof.read_gbps[ti] * 1e9 / (double(wbytes) + kv);
                        } else { // prompt: 2 ops per weight per token over the FMA peak
                            res.bound_ts =
                                roof.fma_gflops[ti] * 1e9 / (2.0 * double(parameter_count(c)));
                        }
                    }
                    results.push_back(res);
                };
                const std::string at = depth > 0 ? " @ d" + std::to_string(depth) : "";
                if (n_prompt > 0) run("pp" + std::to_string(n_prompt) + at, n_prompt, 0);
                if (n_gen > 0) run("tg" + std::to_string(n_gen) + at, 0, n_gen);
            }
            (void)label;
        }
        if (json) {
            std::printf("[\n");
            for (size_t i = 0; i < results.size(); i++) {
                const Result& r = results[i];
                std::printf(
                    "  {\"model_filename\": \"%s\", \"model_type\": \"%s\", \"model_size\": %llu, "
                    "\"model_n_params\": %llu, "
                    "\"test\": \"%s\", \"n_prompt\": %d, \"n_gen\": %d, \"n_threads\": %d, "
                    "\"kernels\": \"%s\", "
                    "\"avg_ts\": %.4f, \"stddev_ts\": %.4f%s}%s\n",
                    r.model.c_str(), Model::load(r.model)->config().arch.c_str(),
                    (unsigned long long)r.size_bytes, (unsigned long long)r.params, r.test.c_str(),
                    r.n_prompt, r.n_gen, r.threads, r.kernels.c_str(), r.avg_ts, r.sd_ts,
                    r.bound_ts > 0
                        ? (", \"roofline_ts\": " + std::to_string(r.bound_ts) +
                           ", \"roofline_pct\": " + std::to_string(100 * r.avg_ts / r.bound_ts))
                              .c_str()
                        : "",
                    i + 1 < results.size() ? "," : "");
            }
            std::printf("]\n");
        } else {
            std::printf("| %-32s | %10s | %8s | %7s | %-7s | %7s | %18s |%s\n", "model", "size",
                        "params", "kernels", "threads", "test", "t/s",
                        roofline ? " % of bound |" : "");
            std::printf("| %s | ---------: | -------: | ------- | ------: | ------: | "
                        "-----------------: |%s\n",
                        std::string(32, '-').c_str(), roofline ? " ---------: |" : "");
            for (const Result& r : results) {
                std::string name = r.model.substr(r.model.find_last_of('/') + 1);
                if (name.size() > 32) name = name.substr(name.size() - 32);
                char pct[32] = "";
                if (r.bound_ts > 0)
                    std::snprintf(pct, sizeof pct, " %8.1f%% |", 100 * r.avg_ts / r.bound_ts);
                std::printf("| %-32s | %6.1f MiB | %7.2fB | %7s | %7d | %7s | %8.2f ± %7.2f |%s\n",
                            name.c_str(), double(r.size_bytes) / (1 << 20), double(r.params) / 1e9,
                            r.kernels.c_str(), r.threads, r.test.c_str(), r.avg_ts, r.sd_ts, pct);
            }
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "strata-bench: error: %s\n", e.what());
        return 1;
    }
}
