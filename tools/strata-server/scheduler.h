// The scheduler: one thread that owns every session and runs the active requests together,
// up to --parallel at once. Each step gives every active request one unit of work — a chunk of
// its prompt (so a long prompt does not stall the streams already flowing) or one generated
// token — and new requests join between steps. A request starts from the prompt cache's best
// match (a copy-on-write fork of a cached conversation, or of a running request's session that
// shares its prefix) and is saved back to the cache when it ends.
#pragma once

#include "tools/strata-server/handles.h"
#include "tools/strata-server/job.h"
#include "tools/strata-server/metrics.h"
#include "tools/strata-server/options.h"
#include "tools/strata-server/prompt_cache.h"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

class Scheduler {
  public:
    Scheduler(strata_model* model, const ServerOptions& options, PromptCache& cache,
              Metrics& metrics);
    ~Scheduler(); // stops the thread

    enum class Submit { Accepted, QueueFull, ShuttingDown };
    Submit submit(const std::shared_ptr<Job>& job);
    // Stops taking requests; queued ones fail (503); running ones may finish until `seconds`
    // have passed, then are cancelled. Returns when none is left.
    void drain(double seconds);
    SchedulerGauges gauges() const;
    int n_ctx() const { return n_ctx_; }

  private:
    struct Slot;
    void run();
    void start(Slot& slot, std::shared_ptr<Job> job);
    void step(Slot& slot);
    void end(Slot& slot, const std::string& reason, int status = 0, const std::string& error = "");
    void sample(Slot& slot);

    strata_model* model_;
    ServerOptions options_;
    PromptCache& cache_;
    Metrics& metrics_;
    int n_ctx_ = 0, n_vocab_ = 0;
    std::vector<std::unique_ptr<Slot>> slots_;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<Job>> queue_;
    bool stopping_ = false, quit_ = false;
    std::chrono::steady_clock::time_point drain_deadline_;
    int active_ = 0;
    int last_batch_ = 0; // sequences in the last step's batched decode
    int64_t kv_pages_ = 0;
    std::deque<std::pair<std::chrono::steady_clock::time_point, int>> recent_; // (when, tokens)
    std::thread thread_;
};
