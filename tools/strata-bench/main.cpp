// strata-bench: prompt processing (pp) and generation (tg) speed of a model, llama-bench style,
// optionally as a percentage of this machine's measured bandwidth and arithmetic peak.
#include "strata.h"
#include "tools/capi_helpers.h"
#include "tools/strata-bench/resume.h"
#include "tools/strata-bench/streams.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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
  --kv-type TYPE       KV cache type: f16 (default), q8_0 or f32 (strata_kv_types())
  --json               print a JSON array (llama-bench field names) instead of the table
  --roofline           measure read bandwidth and FMA peak here and print each result as % of its bound
  --resume LIST        instead: for each prefix length in LIST (e.g. 16,2048), fill a session file
                       with one prefill (timed), then time reopening it and decoding one token
                       (first model, first thread count; best of -r)
  --streams LIST       instead: batched decode as strata-server runs it, for each stream count N
                       in LIST (e.g. 1,2,4,8): N sessions each prefilled with -p tokens (not
                       timed), then -n steps of strata_decode_batch over all N (timed). Prints
                       aggregate t/s, per-stream t/s and the aggregate's ratio to 1 stream
                       (always measured) for each thread count (first model; mean +- sd of -r)
  -h, --help           this text
)";

[[noreturn]] static void usage_error(const std::string& m) {
    std::fprintf(stderr, "strata-bench: %s\n(see strata-bench --help)\n", m.c_str());
    std::exit(2);
}

namespace {

struct Result {
    std::string model, arch, test, kernels;
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

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> models;
    int n_prompt = 512, n_gen = 128, reps = 3, depth = 0;
    std::vector<int> threads = {int(std::max(1u, std::thread::hardware_concurrency()))};
    bool json = false, roofline = false;
    std::vector<int> resume, streams;
    std::string kv_type = "f16";
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
        else if (a == "--streams")
            streams = parse_list(value(), "stream count", 4096);
        else if (a == "--kv-type") {
            kv_type = value();
            if (!is_kv_type(kv_type))
                usage_error("--kv-type " + kv_type + " is not one of " + strata_kv_types());
        } else
            usage_error("unknown argument " + a);
    }
    if (models.empty()) usage_error("no model given (-m MODEL.strata)");
    try {
        if (!resume.empty()) {
            bench_resume(models[0], resume, threads[0], reps, kv_type);
            return 0;
        }
        if (!streams.empty()) {
            StreamsOptions so;
            so.kv_type = kv_type, so.n_prompt = n_prompt, so.n_gen = n_gen, so.reps = reps;
            so.json = json;
            bench_streams(models[0], streams, threads, so);
            return 0;
        }
        std::vector<double> read_gbps(threads.size()), fma_gflops(threads.size());
        if (roofline) {
            check(strata_roofline(threads.data(), int(threads.size()), read_gbps.data(),
                                  fma_gflops.data()));
            for (size_t i = 0; i < threads.size(); i++)
                std::fprintf(stderr,
                             "roofline, %d thread(s): read bandwidth %.1f GB/s, FP32 FMA peak %.0f "
                             "GFLOP/s\n",
                             threads[i], read_gbps[i], fma_gflops[i]);
        }
        std::vector<Result> results;
        for (const std::string& path : models) {
            strata_model* model = nullptr;
            check(strata_model_open(path.c_str(), &model));
            strata_model_info c;
            check(strata_model_info_get(model, &c));
            const double wbytes = double(c.weight_bytes_per_token);
            // (kv_bytes_per_token is for an F16 cache)
            const double kv_scale =
                strata_type_bytes_per_value(kv_type.c_str()) / strata_type_bytes_per_value("f16");
            std::mt19937 rng(1);
            auto random_tokens = [&](int n) {
                std::vector<int32_t> toks(static_cast<size_t>(std::max(n, 1)));
                for (auto& x : toks) x = int32_t(rng() % uint32_t(c.n_vocab));
                return toks;
            };
            for (size_t ti = 0; ti < threads.size(); ti++) {
                const int t = threads[ti];
                strata_session_options opt;
                strata_session_options_init(&opt);
                opt.n_ctx = std::max(depth + n_prompt + n_gen + 1, 16);
                opt.n_threads = t;
                opt.n_batch = std::max(n_prompt, 1);
                opt.kv_type = kv_type.c_str();
                auto run = [&](const std::string& test, int np, int ng) {
                    std::vector<double> ts;
                    for (int r = 0; r < reps + 1; r++) { // first run warms up
                        strata_session* s = nullptr;
                        check(strata_session_open(model, &opt, &s));
                        if (depth > 0) check(strata_decode(s, random_tokens(depth).data(), depth));
                        const std::vector<int32_t> toks = random_tokens(np);
                        const std::vector<int32_t> gen = random_tokens(ng);
                        const auto t0 = std::chrono::steady_clock::now();
                        if (np > 0) check(strata_decode(s, toks.data(), np));
                        for (int g = 0; g < ng; g++) check(strata_decode(s, &gen[size_t(g)], 1));
                        if (r > 0) ts.push_back(double(np + ng) / seconds_since(t0));
                        strata_session_close(s);
                    }
                    double mean = 0, var = 0;
                    for (double x : ts) mean += x;
                    mean /= double(ts.size());
                    for (double x : ts) var += (x - mean) * (x - mean);
                    Result res{path,
                               c.architecture,
                               test,
                               strata_kernels(),
                               uint64_t(c.file_bytes),
                               uint64_t(c.n_params),
                               np,
                               ng,
                               t,
                               mean,
                               ts.size() > 1 ? std::sqrt(var / double(ts.size() - 1)) : 0.0};
                    if (roofline) {
                        if (ng > 0) { // generation: bytes read per token over bandwidth
                            const double kv =
                                double(c.kv_bytes_per_token) * kv_scale * (depth + ng / 2.0);
                            res.bound_ts = read_gbps[ti] * 1e9 / (wbytes + kv);
                        } else { // prompt: 2 ops per weight per token over the FMA peak
                            res.bound_ts = fma_gflops[ti] * 1e9 / (2.0 * double(c.n_active_params));
                        }
                    }
                    results.push_back(res);
                };
                const std::string at = depth > 0 ? " @ d" + std::to_string(depth) : "";
                if (n_prompt > 0) run("pp" + std::to_string(n_prompt) + at, n_prompt, 0);
                if (n_gen > 0) run("tg" + std::to_string(n_gen) + at, 0, n_gen);
            }
            strata_model_close(model);
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
                    r.model.c_str(), r.arch.c_str(), (unsigned long long)r.size_bytes,
                    (unsigned long long)r.params, r.test.c_str(), r.n_prompt, r.n_gen, r.threads,
                    r.kernels.c_str(), r.avg_ts, r.sd_ts,
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
