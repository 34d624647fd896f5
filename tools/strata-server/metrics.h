// Counters for /metrics (Prometheus text exposition format). Written by the HTTP threads and
// the scheduler; read by /metrics. Gauges the scheduler owns come in through a snapshot.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

struct SchedulerGauges {
    int queue_length = 0;        // requests waiting for a slot
    int active = 0;              // requests in slots (prefilling or generating)
    int batch = 0;               // sequences in the last step's batched decode
    int slots = 0;               // --parallel
    int64_t kv_pages = 0;        // KV cache pages the active sequences' tokens occupy
    double gen_tokens_per_s = 0; // generation rate over the last few seconds, all sequences
    int cache_files = 0;         // session files in the prompt cache
    int64_t cache_bytes = 0;     // their size on disk
};

class Metrics {
  public:
    void count_request(const std::string& endpoint, int status) {
        std::lock_guard<std::mutex> lock(mu_);
        requests_[{endpoint, status}]++;
    }
    std::atomic<int64_t> prompt_tokens{0}, cached_tokens{0}, generated_tokens{0};
    std::atomic<int64_t> steps{0}, cancelled{0};
    std::atomic<int64_t> batches{0}, batch_rows{0}; // batched decodes, and their rows in all
    // The exposition text, with the scheduler's gauges.
    std::string render(const SchedulerGauges& g) const;

  private:
    mutable std::mutex mu_;
    std::map<std::pair<std::string, int>, int64_t> requests_;
};
