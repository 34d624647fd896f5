// strata-bench --resume: what reopening a session file costs against re-computing its prefix.
// For each prefix length, a session file is filled by one prefill (timed: the work a resume
// saves), closed, then reopened and one more token decoded (timed: what a resume costs).
#include "tools/strata-bench/resume.h"

#include "strata.h"
#include "tools/capi_helpers.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <unistd.h>

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

void bench_resume(const std::string& model_path, const std::vector<int>& prefixes, int threads,
                  int reps, const std::string& kv_type) {
    strata_model* model = nullptr;
    check(strata_model_open(model_path.c_str(), &model));
    strata_model_info info;
    check(strata_model_info_get(model, &info));
    int longest = 1;
    for (int p : prefixes) longest = std::max(longest, p);
    std::printf("| %-24s | %7s | %8s | %14s | %14s | %20s |\n", "model", "threads", "prefix",
                "prefill (s)", "reopen (ms)", "reopen + 1 token (ms)");
    std::printf("| ------------------------ | ------: | -------: | -------------: | -------------: "
                "| -------------------: |\n");
    const std::string name = model_path.substr(model_path.find_last_of('/') + 1);
    for (int n : prefixes) {
        const std::string file = (std::filesystem::temp_directory_path() /
                                  ("strata-bench-resume-" + std::to_string(getpid()) + ".kv"))
                                     .string();
        std::filesystem::remove(file);
        strata_session_options o;
        strata_session_options_init(&o);
        o.n_ctx = longest + 16;
        o.n_threads = threads;
        o.n_batch = 512;
        o.kv_type = kv_type.c_str();
        o.kv_file = file.c_str();
        std::vector<int32_t> tokens(static_cast<size_t>(n));
        for (int i = 0; i < n; i++) tokens[size_t(i)] = int32_t((7 + 31 * i) % info.n_vocab);
        strata_session* s = nullptr;
        check(strata_session_open(model, &o, &s));
        auto t0 = std::chrono::steady_clock::now();
        const int filled = strata_decode(s, tokens.data(), n);
        const double prefill = seconds_since(t0);
        strata_session_close(s);
        check(filled);
        double open_ms = 1e30, first_ms = 1e30;
        for (int r = 0; r < reps; r++) {
            t0 = std::chrono::steady_clock::now();
            check(strata_session_open(model, &o, &s));
            open_ms = std::min(open_ms, 1e3 * seconds_since(t0));
            const int32_t next = 5;
            const int held = strata_n_past(s);
            const int status = held == n ? strata_decode(s, &next, 1) : STRATA_ERROR;
            first_ms = std::min(first_ms, 1e3 * seconds_since(t0));
            if (status == STRATA_OK) strata_session_truncate(s, n); // leave the file as it was
            strata_session_close(s);
            if (held != n)
                throw std::runtime_error("resume held " + std::to_string(held) + " tokens");
            check(status);
        }
        std::filesystem::remove(file);
        std::printf("| %-24s | %7d | %8d | %14.3f | %14.3f | %20.3f |\n", name.c_str(), threads, n,
                    prefill, open_ms, first_ms);
        std::fflush(stdout);
    }
    strata_model_close(model);
}
