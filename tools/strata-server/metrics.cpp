#include "tools/strata-server/metrics.h"

#include <sstream>

std::string Metrics::render(const SchedulerGauges& g) const {
    std::ostringstream o;
    auto metric = [&](const char* name, const char* type, const char* help, auto value) {
        o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
          << name << ' ' << value << '\n';
    };
    o << "# HELP strata_requests_total HTTP requests by endpoint and status code.\n"
         "# TYPE strata_requests_total counter\n";
    {
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& [key, n] : requests_)
            o << "strata_requests_total{endpoint=\"" << key.first << "\",status=\"" << key.second
              << "\"} " << n << '\n';
    }
    metric("strata_prompt_tokens_total", "counter", "Prompt tokens received.",
           prompt_tokens.load());
    metric("strata_prompt_tokens_cached_total", "counter",
           "Prompt tokens taken from the prompt cache instead of computed.", cached_tokens.load());
    metric("strata_generated_tokens_total", "counter", "Tokens generated.",
           generated_tokens.load());
    metric("strata_requests_cancelled_total", "counter",
           "Requests stopped early: client gone, timeout or shutdown.", cancelled.load());
    metric("strata_steps_total", "counter", "Scheduler steps (forward passes of the batch).",
           steps.load());
    metric("strata_queue_length", "gauge", "Requests waiting for a slot.", g.queue_length);
    metric("strata_requests_active", "gauge", "Requests in slots (prefilling or generating).",
           g.active);
    metric("strata_batch_size", "gauge",
           "Sequences whose next tokens the last step decoded in one forward pass.", g.batch);
    metric("strata_batched_decodes_total", "counter",
           "Forward passes decoding the generating sequences' tokens together.", batches.load());
    metric("strata_batched_decode_rows_total", "counter",
           "Tokens those passes decoded (rows / passes = the mean batch size).", batch_rows.load());
    metric("strata_slots", "gauge", "Sequences that may be generated at once (--parallel).",
           g.slots);
    metric("strata_generation_tokens_per_second", "gauge",
           "Tokens generated per second over the last seconds, all sequences together.",
           g.gen_tokens_per_s);
    metric("strata_kv_pages_in_use", "gauge",
           "KV cache pages (4 KiB) holding the active sequences' tokens.", g.kv_pages);
    metric("strata_prompt_cache_files", "gauge", "Session files in the prompt cache.",
           g.cache_files);
    metric("strata_prompt_cache_bytes", "gauge", "Disk taken by the prompt cache's files.",
           g.cache_bytes);
    return o.str();
}
