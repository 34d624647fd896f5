// strata-bench --streams: batched decode of several sessions (strata_decode_batch), as
// strata-server's continuous batching runs it, without HTTP.
#pragma once

#include <string>
#include <vector>

struct StreamsOptions {
    std::string kv_type = "f16";
    int n_prompt = 0; // prompt tokens each session holds before the timed steps
    int n_gen = 0;    // timed batched decode steps
    int reps = 1;
    bool json = false;
};

// For each thread count and each stream count N in `streams` (1 is always measured first, the
// ratio's base): N sessions on the model, each prefilled with its own n_prompt tokens (not
// timed), then n_gen steps of strata_decode_batch over all N (timed; mean +- sd over reps after
// one warm-up). Prints aggregate tokens/s, per-stream tokens/s and the aggregate's ratio to one
// stream, as a table or JSON. Throws std::runtime_error.
void bench_streams(const std::string& model_path, const std::vector<int>& streams,
                   const std::vector<int>& threads, const StreamsOptions& o);
