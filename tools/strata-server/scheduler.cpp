#include "tools/strata-server/scheduler.h"

#include "tools/capi_helpers.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace {

using Clock = std::chrono::steady_clock;

std::vector<int32_t> history(const strata_session* s) {
    std::vector<int32_t> tokens(size_t(strata_n_past(s)));
    int n = 0;
    strata_session_tokens(s, tokens.data(), int(tokens.size()), &n);
    tokens.resize(size_t(n));
    return tokens;
}

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    size_t c = 0;
    while (c < a.size() && c < b.size() && a[c] == b[c]) c++;
    return c;
}

std::string piece(const strata_model* model, int32_t token) {
    char buf[256];
    int length = 0;
    if (strata_token_to_piece(model, token, buf, sizeof buf, &length) != STRATA_OK) return "";
    return std::string(buf, size_t(length));
}

// Where in `text` a stop string begins (npos: none), and how many trailing bytes could still
// become one (held back until the next token tells).
size_t find_stop(const std::string& text, const std::vector<std::string>& stops, size_t* hold) {
    size_t first = std::string::npos;
    *hold = 0;
    for (const std::string& s : stops) {
        first = std::min(first, text.find(s));
        for (size_t k = std::min(s.size() - 1, text.size()); k > *hold; k--)
            if (text.compare(text.size() - k, k, s, 0, k) == 0) {
                *hold = k;
                break;
            }
    }
    return first;
}

} // namespace

struct Scheduler::Slot {
    std::shared_ptr<Job> job;
    SessionPtr session;  // the request's own, in memory: new, or a fork
    std::string base;    // the cache file it forked from (held open until the end)
    std::string save_to; // the cache file it is saved to at the end
    size_t fed = 0;      // prompt tokens in the session
    SamplerPtr sampler;
    DetokenizerPtr detok;
    std::string held; // generated text not sent yet: it may begin a stop string
    int generated = 0;
    int32_t pending = -1; // the token sampled this step, to decode in the step's batch
};

Scheduler::Scheduler(strata_model* model, const ServerOptions& options, PromptCache& cache,
                     Metrics& metrics)
    : model_(model), options_(options), cache_(cache), metrics_(metrics) {
    strata_model_info info;
    check(strata_model_info_get(model_, &info));
    n_vocab_ = info.n_vocab;
    n_ctx_ = options_.ctx_size;
    for (int i = 0; i < options_.parallel; i++) slots_.push_back(std::make_unique<Slot>());
    thread_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        quit_ = stopping_ = true;
        drain_deadline_ = Clock::now();
        cv_.notify_all();
    }
    thread_.join();
}

Scheduler::Submit Scheduler::submit(const std::shared_ptr<Job>& job) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Submit::ShuttingDown;
    if (int(queue_.size()) >= options_.queue) return Submit::QueueFull;
    queue_.push_back(job);
    cv_.notify_all();
    return Submit::Accepted;
}

void Scheduler::drain(double seconds) {
    std::unique_lock<std::mutex> lock(mu_);
    stopping_ = true;
    drain_deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(seconds));
    for (auto& job : queue_) job->fail(503, "the server is shutting down");
    queue_.clear();
    cv_.notify_all();
    cv_.wait(lock, [&] { return active_ == 0; });
}

SchedulerGauges Scheduler::gauges() const {
    std::lock_guard<std::mutex> lock(mu_);
    SchedulerGauges g;
    g.queue_length = int(queue_.size());
    g.active = active_;
    g.batch = last_batch_;
    g.slots = options_.parallel;
    g.kv_pages = kv_pages_;
    const auto now = Clock::now();
    int tokens = 0;
    for (const auto& [when, n] : recent_)
        if (now - when < std::chrono::seconds(5)) tokens += n;
    g.gen_tokens_per_s = tokens / 5.0;
    g.cache_files = cache_.files();
    g.cache_bytes = cache_.bytes();
    return g;
}

void Scheduler::run() {
    for (;;) {
        // admit waiting requests into free slots
        for (auto& slot : slots_) {
            if (slot->job) continue;
            std::shared_ptr<Job> job;
            {
                std::lock_guard<std::mutex> lock(mu_);
                if (stopping_ || queue_.empty()) break;
                job = queue_.front();
                queue_.pop_front();
                active_++;
            }
            start(*slot, std::move(job));
        }
        {
            std::unique_lock<std::mutex> lock(mu_);
            if (active_ == 0) {
                cv_.notify_all(); // a drain waiting for the last request
                if (quit_) return;
                cv_.wait(lock, [&] { return quit_ || (!queue_.empty() && !stopping_); });
                continue;
            }
        }
        const bool give_up = [&] {
            std::lock_guard<std::mutex> lock(mu_);
            return stopping_ && Clock::now() >= drain_deadline_;
        }();
        const int before = int(metrics_.generated_tokens.load());
        for (auto& slot : slots_) {
            if (!slot->job) continue;
            if (give_up) {
                end(*slot, "", 503, "the server is shutting down");
                continue;
            }
            try {
                slot->pending = -1;
                step(*slot);
            } catch (const std::exception& e) {
                end(*slot, "", 500, e.what());
            }
        }
        // Continuous batching: every sequence's sampled token in one forward pass.
        std::vector<Slot*> rows;
        std::vector<strata_session*> sessions;
        std::vector<int32_t> tokens;
        for (auto& slot : slots_)
            if (slot->job && slot->pending >= 0) {
                rows.push_back(slot.get());
                sessions.push_back(slot->session.get());
                tokens.push_back(slot->pending);
            }
        if (!rows.empty() &&
            strata_decode_batch(sessions.data(), tokens.data(), int(rows.size())) != STRATA_OK) {
            const std::string error = strata_errmsg();
            for (Slot* slot : rows) end(*slot, "", 500, error);
        }
        int64_t pages = 0;
        for (auto& slot : slots_)
            if (slot->job && slot->session)
                // (strata_kv_stats_get of a fork reads /proc/self/smaps: too slow for every step)
                pages += (strata_kv_bytes_used(slot->session.get()) + 4095) / 4096;
        metrics_.batch_rows += int64_t(rows.size());
        if (!rows.empty()) metrics_.batches++;
        {
            std::lock_guard<std::mutex> lock(mu_);
            last_batch_ = int(rows.size());
        }
        metrics_.steps++;
        std::lock_guard<std::mutex> lock(mu_);
        kv_pages_ = pages;
        const auto now = Clock::now();
        recent_.emplace_back(now, int(metrics_.generated_tokens.load()) - before);
        while (!recent_.empty() && now - recent_.front().first > std::chrono::seconds(5))
            recent_.pop_front();
    }
}

void Scheduler::start(Slot& slot, std::shared_ptr<Job> job) {
    slot.job = std::move(job);
    Job& j = *slot.job;
    const std::vector<int32_t>& prompt = j.params.prompt;
    try {
        // The longest common prefix: a cached conversation, or a request running now.
        size_t common = 0;
        const std::string path = cache_.best(prompt, &common);
        strata_session* running = nullptr;
        for (auto& other : slots_)
            if (other.get() != &slot && other->session) {
                const size_t c = common_prefix(prompt, history(other->session.get()));
                if (c > common) common = c, running = other->session.get();
            }
        strata_session* fork = nullptr;
        if (common > 0 && running) {
            check(strata_session_fork(running, &fork));
            slot.session.reset(fork);
            slot.save_to = cache_.new_path();
        } else if (common > 0) {
            strata_session* root = cache_.acquire(path);
            slot.base = path;
            check(strata_session_fork(root, &fork));
            slot.session.reset(fork);
            // a prompt that extends the whole conversation continues its file
            slot.save_to = common == cache_.entry(path)->tokens.size() ? path : cache_.new_path();
        }
        slot.fed = 0;
        if (fork) { // resume from what the fork really holds (at least the last token is fed)
            const size_t resume = std::min(common_prefix(prompt, history(fork)), prompt.size() - 1);
            check(strata_session_truncate(fork, int(resume)));
            slot.fed = resume;
        } else {
            strata_session_options so;
            strata_session_options_init(&so);
            so.n_ctx = n_ctx_, so.n_threads = options_.threads;
            so.kv_type = options_.kv_type.c_str();
            so.n_batch = options_.prefill_chunk;
            strata_session* s = nullptr;
            check(strata_session_open(model_, &so, &s));
            slot.session.reset(s);
            slot.save_to = cache_.new_path();
        }
        j.prompt_tokens = int(prompt.size());
        j.cached_tokens = int(slot.fed);
        metrics_.prompt_tokens += int64_t(prompt.size());
        metrics_.cached_tokens += int64_t(slot.fed);
        strata_sampler_options so;
        strata_sampler_options_init(&so);
        so.temperature = j.params.temperature, so.top_k = j.params.top_k;
        so.top_p = j.params.top_p, so.min_p = j.params.min_p, so.seed = j.params.seed;
        strata_sampler* smp = nullptr;
        check(strata_sampler_open(&so, &smp));
        slot.sampler.reset(smp);
        strata_detokenizer* d = nullptr;
        check(strata_detokenizer_open(model_, prompt.back(), &d));
        slot.detok.reset(d);
        slot.held.clear();
        slot.generated = 0;
    } catch (const std::exception& e) {
        end(slot, "", 500, e.what());
    }
}

void Scheduler::step(Slot& slot) {
    Job& j = *slot.job;
    if (j.cancelled) return end(slot, "", 499, "the client went away");
    if (Clock::now() >= j.deadline) { // the time limit: what was generated, and the end
        Piece rest;
        rest.text.swap(slot.held);
        if (!rest.text.empty()) j.emit(std::move(rest));
        return end(slot, "length");
    }
    const std::vector<int32_t>& prompt = j.params.prompt;
    if (slot.fed < prompt.size()) { // the next chunk of the prompt
        const size_t n = std::min(prompt.size() - slot.fed, size_t(options_.prefill_chunk));
        check(strata_decode(slot.session.get(), prompt.data() + slot.fed, int(n)));
        slot.fed += n;
        if (slot.fed < prompt.size()) return;
    }
    sample(slot);
}

void Scheduler::sample(Slot& slot) {
    Job& j = *slot.job;
    const GenParams& p = j.params;
    Piece out;
    if (p.max_tokens == 0) return end(slot, "length");
    int32_t token = -1;
    if (p.n_probs >= 0) { // log-probabilities of the model's distribution, before sampling
        const float* logits = strata_logits(slot.session.get());
        float mx = logits[0];
        for (int i = 1; i < n_vocab_; i++) mx = std::max(mx, logits[i]);
        double sum = 0;
        for (int i = 0; i < n_vocab_; i++) sum += std::exp(double(logits[i] - mx));
        const float lse = mx + float(std::log(sum));
        check(strata_sample(slot.sampler.get(), slot.session.get(), &token));
        TokenProb tp;
        tp.token = piece(model_, token);
        tp.logprob = logits[token] - lse;
        std::vector<int> order(static_cast<size_t>(n_vocab_));
        for (int i = 0; i < n_vocab_; i++) order[size_t(i)] = i;
        const int k = std::min(p.n_probs, n_vocab_);
        std::partial_sort(order.begin(), order.begin() + k, order.end(),
                          [&](int a, int b) { return logits[a] > logits[b]; });
        for (int i = 0; i < k; i++)
            tp.top.emplace_back(piece(model_, order[size_t(i)]), logits[order[size_t(i)]] - lse);
        out.probs.push_back(std::move(tp));
    } else {
        check(strata_sample(slot.sampler.get(), slot.session.get(), &token));
    }
    const bool end_token =
        std::find(p.end_tokens.begin(), p.end_tokens.end(), token) != p.end_tokens.end();
    const char* text = nullptr;
    int length = 0;
    if (!end_token) {
        slot.generated++;
        j.completion_tokens = slot.generated;
        metrics_.generated_tokens++;
        check(strata_detokenizer_push(slot.detok.get(), token, &text, &length));
        slot.held.append(text, size_t(length));
    }
    const bool last = end_token || slot.generated >= (p.max_tokens < 0 ? 1 << 30 : p.max_tokens) ||
                      strata_n_past(slot.session.get()) + 1 > n_ctx_;
    if (last) { // what the detokenizer still holds
        check(strata_detokenizer_flush(slot.detok.get(), &text, &length));
        slot.held.append(text, size_t(length));
    }
    size_t hold = 0;
    const size_t stop_at = find_stop(slot.held, p.stop, &hold);
    if (stop_at != std::string::npos) {
        out.text = slot.held.substr(0, stop_at);
        slot.held.clear();
        j.emit(std::move(out));
        return end(slot, "stop");
    }
    if (last) hold = 0;
    out.text = slot.held.substr(0, slot.held.size() - hold);
    slot.held.erase(0, out.text.size());
    if (!out.text.empty() || !out.probs.empty()) j.emit(std::move(out));
    if (last) return end(slot, end_token ? "stop" : "length");
    slot.pending = token; // decoded with the other sequences' tokens at the end of the step
}

void Scheduler::end(Slot& slot, const std::string& reason, int status, const std::string& error) {
    if (slot.session) {
        // keep what was computed: the next turn of this conversation starts from it
        cache_.store(slot.session.get(), slot.save_to);
        slot.session.reset(); // (before its base: the base need not copy pages for it)
    }
    if (!slot.base.empty()) cache_.release(slot.base);
    slot.base.clear();
    slot.sampler.reset();
    slot.detok.reset();
    if (status) {
        if (status == 499 || status == 503) metrics_.cancelled++;
        slot.job->fail(status, error);
    } else {
        slot.job->finish(reason);
    }
    slot.job.reset();
    std::lock_guard<std::mutex> lock(mu_);
    active_--;
    cv_.notify_all();
}
