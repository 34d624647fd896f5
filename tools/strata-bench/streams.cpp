// strata-bench --streams: N sessions decoded together through strata_decode_batch, the way
// strata-server's continuous batching runs them; how aggregate tokens/s grows with N.
#include "tools/strata-bench/streams.h"

#include "strata.h"
#include "tools/capi_helpers.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>

namespace {

struct Row {
    int threads, streams;
    double agg, sd; // aggregate tokens/s over all streams, mean and sd over the runs
};

// One run: n sessions prefilled with n_prompt tokens each, then n_gen batched steps (timed).
// Returns the aggregate tokens/s of the steps.
double run_once(strata_model* model, const strata_session_options& opt, int n, int n_prompt,
                int n_gen, int n_vocab, std::mt19937& rng) {
    std::vector<strata_session*> sessions(size_t(n), nullptr);
    auto close_all = [&] {
        for (strata_session* s : sessions)
            if (s) strata_session_close(s);
    };
    try {
        std::vector<int32_t> toks(size_t(std::max(n_prompt, n)));
        for (int i = 0; i < n; i++) {
            check(strata_session_open(model, &opt, &sessions[size_t(i)]));
            if (n_prompt > 0) {
                for (auto& x : toks) x = int32_t(rng() % uint32_t(n_vocab));
                check(strata_decode(sessions[size_t(i)], toks.data(), n_prompt));
            }
        }
        std::vector<int32_t> steps(size_t(n) * size_t(n_gen));
        for (auto& x : steps) x = int32_t(rng() % uint32_t(n_vocab));
        const auto t0 = std::chrono::steady_clock::now();
        for (int g = 0; g < n_gen; g++)
            check(strata_decode_batch(sessions.data(), &steps[size_t(g) * size_t(n)], n));
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        close_all();
        return double(n) * double(n_gen) / s;
    } catch (...) {
        close_all();
        throw;
    }
}

} // namespace

void bench_streams(const std::string& model_path, const std::vector<int>& streams,
                   const std::vector<int>& threads, const StreamsOptions& o) {
    if (o.n_gen < 1) throw std::runtime_error("--streams needs -n of at least 1 decode step");
    std::vector<int> counts = {1}; // the base of the ratio, first
    for (int n : streams)
        if (std::find(counts.begin(), counts.end(), n) == counts.end()) counts.push_back(n);
    strata_model* model = nullptr;
    check(strata_model_open(model_path.c_str(), &model));
    std::vector<Row> rows;
    try {
        strata_model_info info;
        check(strata_model_info_get(model, &info));
        std::mt19937 rng(1);
        for (int t : threads) {
            strata_session_options opt;
            strata_session_options_init(&opt);
            opt.n_ctx = std::max(o.n_prompt + o.n_gen + 1, 16);
            opt.n_threads = t;
            opt.n_batch = std::max(o.n_prompt, 1);
            opt.kv_type = o.kv_type.c_str();
            for (int n : counts) {
                std::vector<double> ts;
                for (int r = 0; r < o.reps + 1; r++) { // the first run warms up
                    const double x =
                        run_once(model, opt, n, o.n_prompt, o.n_gen, int(info.n_vocab), rng);
                    if (r > 0) ts.push_back(x);
                }
                double mean = 0, var = 0;
                for (double x : ts) mean += x;
                mean /= double(ts.size());
                for (double x : ts) var += (x - mean) * (x - mean);
                rows.push_back(
                    {t, n, mean, ts.size() > 1 ? std::sqrt(var / double(ts.size() - 1)) : 0.0});
            }
        }
    } catch (...) {
        strata_model_close(model);
        throw;
    }
    strata_model_close(model);
    std::string name = model_path.substr(model_path.find_last_of('/') + 1);
    if (name.size() > 32) name = name.substr(name.size() - 32);
    auto base = [&](const Row& r) { // the same thread count's one-stream aggregate
        for (const Row& b : rows)
            if (b.threads == r.threads && b.streams == 1) return b.agg;
        return r.agg;
    };
    if (o.json) {
        std::printf("[\n");
        for (size_t i = 0; i < rows.size(); i++) {
            const Row& r = rows[i];
            std::printf("  {\"model_filename\": \"%s\", \"test\": \"tg%d x %d streams\", "
                        "\"n_prompt\": %d, \"n_gen\": %d, \"n_threads\": %d, \"n_streams\": %d, "
                        "\"avg_ts\": %.4f, \"stddev_ts\": %.4f, \"stream_ts\": %.4f, "
                        "\"vs_one_stream\": %.4f}%s\n",
                        model_path.c_str(), o.n_gen, r.streams, o.n_prompt, o.n_gen, r.threads,
                        r.streams, r.agg, r.sd, r.agg / r.streams, r.agg / base(r),
                        i + 1 < rows.size() ? "," : "");
        }
        std::printf("]\n");
        return;
    }
    std::printf("| %-32s | %7s | %7s | %7s | %18s | %13s | %8s |\n", "model", "threads", "streams",
                "test", "aggregate t/s", "per stream t/s", "x 1 stream");
    std::printf("| %s | ------: | ------: | ------: | -----------------: | -------------: | "
                "--------: |\n",
                std::string(32, '-').c_str());
    for (const Row& r : rows)
        std::printf("| %-32s | %7d | %7d | %7s | %8.2f ± %7.2f | %14.2f | %8.2fx |\n", name.c_str(),
                    r.threads, r.streams, ("tg" + std::to_string(o.n_gen)).c_str(), r.agg, r.sd,
                    r.agg / r.streams, r.agg / base(r));
}
