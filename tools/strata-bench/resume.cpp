// strata-bench --resume: what reopening a session file costs against re-computing its prefix.
// For each prefix length, a session file is filled by one prefill (timed: the work a resume
// saves), closed, then reopened and one more token decoded (timed: what a resume costs).
#include "tools/strata-bench/resume.h"

#include "formats/error.h"
#include "runtime/session.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <unistd.h>

namespace strata {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
} // namespace

void bench_resume(const std::string& model_path, const std::vector<int>& prefixes, int threads,
                  int reps, DType kv_type) {
    auto model = Model::load(model_path);
    const ModelConfig& c = model->config();
    int longest = 1;
    for (int p : prefixes) longest = std::max(longest, p);
    SessionOptions o;
    o.n_ctx = longest + 16;
    o.n_threads = threads;
    o.n_batch = 512;
    o.kv_type = kv_type;
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
        SessionOptions fo = o;
        fo.kv_file = file;
        std::vector<int32_t> tokens(static_cast<size_t>(n));
        for (int i = 0; i < n; i++) tokens[size_t(i)] = int32_t((7 + 31 * i) % c.n_vocab);
        double prefill = 0;
        {
            Session s(model, fo);
            const auto t0 = std::chrono::steady_clock::now();
            s.decode(tokens.data(), n);
            prefill = seconds_since(t0);
        }
        double open_ms = 1e30, first_ms = 1e30;
        for (int r = 0; r < reps; r++) {
            const auto t0 = std::chrono::steady_clock::now();
            Session s(model, fo);
            open_ms = std::min(open_ms, 1e3 * seconds_since(t0));
            if (s.n_past() != n) fail("resume held " + std::to_string(s.n_past()) + " tokens");
            const int32_t next = 5;
            s.decode(&next, 1);
            first_ms = std::min(first_ms, 1e3 * seconds_since(t0));
            s.truncate(n); // leave the file as it was for the next repetition
        }
        std::filesystem::remove(file);
        std::printf("| %-24s | %7d | %8d | %14.3f | %14.3f | %20.3f |\n", name.c_str(), threads, n,
                    prefill, open_ms, first_ms);
        std::fflush(stdout);
    }
}

} // namespace strata
