#include "runtime/session.h"

#include "core/error.h"
#include "ops/attention.h"
#include "runtime/arch/arch.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <unistd.h>

namespace strata {

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& options)
    : model_(std::move(model)), options_(options),
      kernels_(options.kernels ? options.kernels : &strata::kernels()) {
    if (options_.n_threads < 1) fail("thread count must be at least 1");
    if (options_.n_batch < 1) fail("batch size must be at least 1");
    const ModelConfig& c = model_->config();
    const int default_ctx = int(c.n_ctx_train);
    const int ring_rows = options_.kv_window_ring ? options_.n_batch : 0;
    if (!options_.kv_file.empty()) {
        file_ =
            std::make_unique<SessionFile>(options_.kv_file, model_->file().fingerprint(), c,
                                          options_.n_ctx, default_ctx, options_.kv_type, ring_rows);
        cache_ = std::make_unique<KvCache>(c, file_->n_ctx(), options_.kv_type, file_->ring(),
                                           file_->kv_base(), file_->fd(), file_->kv_offset());
        history_ = file_->committed_tokens(); // resume: these tokens' K/V rows are in the file
        // (a killed writer's last batch overwrote ring positions below the published start,
        // or, a one-row batch, position n - ring)
        ring_floor_ =
            std::max(file_->ring_from(), cache_->ring() > 0 ? n_past() - cache_->ring() + 1 : 0);
    } else {
        const int n_ctx = options_.n_ctx > 0 ? options_.n_ctx : default_ctx;
        cache_ = std::make_unique<KvCache>(c, n_ctx, options_.kv_type,
                                           KvCache::ring_for(c, n_ctx, ring_rows));
    }
}

int Session::ring_held_from() const {
    return cache_->ring() > 0 ? std::max(ring_floor_, n_past() - cache_->ring()) : ring_floor_;
}

bool Session::truncate_recomputes(int n) const {
    if (n <= 0 || n >= n_past() || (cache_->ring() == 0 && ring_floor_ == 0)) return false;
    // decoding at n reads [n - window + 1, n)
    return ring_held_from() > std::max(0, n - int(model_->config().sliding_window) + 1);
}

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& options,
                 std::unique_ptr<KvCache> cache, std::vector<int32_t> history,
                 const float* last_logits)
    : model_(std::move(model)), options_(options), kernels_(options.kernels),
      cache_(std::move(cache)), history_(std::move(history)) {
    options_.kv_file.clear();
    if (last_logits) {
        forked_logits_.assign(last_logits, last_logits + model_->config().n_vocab);
        last_logits_ = forked_logits_.data();
    }
}

std::unique_ptr<Session> Session::fork() {
    SessionOptions o = options_;
    o.kernels = kernels_;
    auto cache = cache_->fork(model_->config(), n_past());
    std::unique_ptr<Session> child(
        new Session(model_, o, std::move(cache), history_, last_logits_));
    child->ring_floor_ = ring_floor_;
    return child;
}

void Session::save(const std::string& path) const {
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    try {
        {
            const int ring_rows = cache_->ring() > 0 ? cache_->ring() - cache_->window() : 0;
            SessionFile out(tmp, model_->file().fingerprint(), model_->config(), n_ctx(), n_ctx(),
                            cache_->type(), ring_rows);
            KvCache view(model_->config(), n_ctx(), cache_->type(), out.ring(), out.kv_base(), -1,
                         0);
            std::lock_guard<std::mutex> in_use(cache_->use_mutex());
            view.copy_from(const_cast<KvCache&>(*cache_), n_past());
            // (the smaller ring of the two bounds the positions the file holds)
            out.set_ring_from(
                std::max(ring_held_from(), out.ring() > 0 ? n_past() - out.ring() : 0));
            out.commit(history_, int(cache_->bytes_per_token()));
        }
        if (std::rename(tmp.c_str(), path.c_str()) != 0)
            fail("cannot replace " + path + ": " + std::strerror(errno));
    } catch (...) {
        std::filesystem::remove(tmp, ec);
        throw;
    }
}

void Session::restore(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) fail("session file " + path + ": not found");
    SessionFile in(path, model_->file().fingerprint(), model_->config(), 0, n_ctx(), cache_->type(),
                   0);
    const std::vector<int32_t> tokens = in.committed_tokens();
    if (int(tokens.size()) > n_ctx())
        fail("session file " + path + " holds " + std::to_string(tokens.size()) +
             " tokens, more than this session's context of " + std::to_string(n_ctx()));
    KvCache view(model_->config(), in.n_ctx(), cache_->type(), in.ring(), in.kv_base(), -1, 0);
    const int n = int(tokens.size());
    cache_->before_rewrite(0);
    if (file_) file_->commit({}, int(cache_->bytes_per_token())); // nothing valid while copying
    {
        std::lock_guard<std::mutex> in_use(cache_->use_mutex());
        cache_->copy_from(view, n);
    }
    history_ = tokens;
    // what the file's ring held (as when resuming it); this cache's own ring bounds what was
    // copied (ring_held_from)
    ring_floor_ = std::max(in.ring_from(), in.ring() > 0 ? n - in.ring() + 1 : 0);
    last_logits_ = nullptr;
    if (file_) {
        file_->set_ring_from(ring_floor_);
        file_->commit(history_, int(cache_->bytes_per_token()));
    }
    if (!history_.empty()) { // recompute the last token for its logits
        const int32_t last = history_.back();
        truncate(n_past() - 1);
        decode(&last, 1);
    }
}

void Session::truncate(int n) {
    if (n < 0 || n >= n_past()) return;
    const bool recompute = truncate_recomputes(n);
    cache_->before_rewrite(recompute ? 0 : n); // forks sharing positions n.. copy them first
    // (ring positions from n on overwrote older ones; recomputing rewrites every position)
    ring_floor_ = n == 0 || recompute ? 0 : ring_held_from();
    std::vector<int32_t> kept;
    if (recompute) kept.assign(history_.begin(), history_.begin() + n);
    history_.resize(recompute ? 0 : size_t(n));
    last_logits_ = nullptr;
    if (file_) {
        file_->set_ring_from(ring_floor_);
        file_->commit(history_, int(cache_->bytes_per_token()));
    }
    if (recompute) { // every position again, so that the ring holds the window before n
        decode(kept.data(), n);
        last_logits_ = nullptr;
    }
}

const float* Session::decode(const int32_t* tokens, int n, bool all_logits) {
    if (n <= 0) fail("decode needs at least one token");
    if (n_past() + n > n_ctx())
        fail(Status::context_full, "context is full: " + std::to_string(n_past()) +
                                       " tokens held + " + std::to_string(n) +
                                       " new exceed the context size " + std::to_string(n_ctx()));
    const ModelConfig& c = model_->config();
    const size_t V = c.n_vocab;
    if (all_logits) all_logits_.resize(size_t(n) * V);
    for (int done = 0; done < n;) {
        int batch = options_.n_batch;
        if (abort_) {
            if (abort_()) {
                last_logits_ = nullptr;
                fail(Status::aborted, "stopped after computing " + std::to_string(done) + " of " +
                                          std::to_string(n) + " tokens");
            }
            // Batches of about kAbortBatchSeconds (powers of two, so few graphs are built):
            // a stop waits at most that long. The first, unmeasured, batch is one token.
            for (batch = 1; batch * 2 <= options_.n_batch && seconds_per_token_ > 0 &&
                            batch * 2 * seconds_per_token_ <= kAbortBatchSeconds;)
                batch *= 2;
        }
        // (a KV ring holds the window and one batch's rows)
        const int chunk = std::min({batch, n - done, cache_->max_batch_rows()});
        const auto t0 = std::chrono::steady_clock::now();
        auto key = std::make_pair(chunk, all_logits);
        auto it = graphs_.find(key);
        if (it == graphs_.end()) { // built and planned once per batch size
            it = graphs_.emplace(key, build_graph(*model_, chunk, all_logits)).first;
            arena_.resize(std::max(arena_.size(), it->second.arena_floats()));
            act_.resize(std::max(act_.size(), it->second.activation_bytes()));
            attn_scratch_.resize(
                size_t(options_.n_threads) *
                attention_scratch_floats(int(c.n_head), int(c.n_head_kv), int(c.head_dim)));
            attn_partials_.resize(
                attention_partial_floats(n_ctx(), int(c.n_head), int(c.head_dim)));
        }
        const Graph& g = it->second;
        // the batch overwrites the ring positions below n + chunk - ring: a file says so first
        // (one row overwrites only n - ring, which a resume assumes lost anyway)
        if (file_ && chunk > 1 && cache_->ring() > 0 &&
            n_past() + chunk - cache_->ring() > file_->ring_from())
            file_->publish_ring_from(n_past() + chunk - cache_->ring());
        std::lock_guard<std::mutex> in_use(cache_->use_mutex());
        const GraphContext ctx{
            kernels_,        options_.n_threads,   cache_.get(),  tokens + done,
            n_past(),        c.norm_eps,           int(c.n_head), int(c.n_head_kv),
            int(c.head_dim), attn_partials_.data()};
        g.compute(ctx, arena_.data(), act_.data(), attn_scratch_.data());
        history_.insert(history_.end(), tokens + done, tokens + done + chunk);
        if (file_)
            file_->commit(history_, int(cache_->bytes_per_token())); // data first, then the count
        last_logits_ = g.output(arena_.data());
        if (all_logits)
            std::memcpy(all_logits_.data() + size_t(done) * V, last_logits_, size_t(chunk) * V * 4);
        done += chunk;
        seconds_per_token_ =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / chunk;
    }
    if (all_logits) last_logits_ = all_logits_.data() + size_t(n - 1) * V; // the last token's
    return all_logits ? all_logits_.data() : last_logits_;
}

namespace {

// Rows a batched decode computes together. Float matrices go to the BLAS GEMM from 8 rows on
// (ops/matmul.cpp), whose sums are ordered differently from the one-token products: a batch of
// a model with any float matrix runs in passes of 7 rows, so that every row's logits equal
// decoding it alone, bit for bit (tests/test_decode_batch.cpp).
int batch_rows(const Model& m) { return m.has_float_matrix() ? 7 : 1 << 20; }

} // namespace

void Session::decode_batch(Session* const* sessions, const int32_t* tokens, int n) {
    if (n <= 0) fail("a batched decode needs at least one session");
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (sessions[j] == sessions[i])
                fail(Status::invalid_argument, "a batched decode's sessions must be distinct");
    const int pass = batch_rows(sessions[0]->model());
    if (n > pass) {
        for (int i = 0; i < n; i++)
            if (sessions[i]->n_past() + 1 > sessions[i]->n_ctx())
                fail(Status::context_full, "context is full: session " + std::to_string(i) +
                                               " holds " + std::to_string(sessions[i]->n_past()) +
                                               " tokens of " +
                                               std::to_string(sessions[i]->n_ctx()));
        for (int first = 0; first < n; first += pass)
            decode_batch(sessions + first, tokens + first, std::min(pass, n - first));
        return;
    }
    if (n == 1) {
        sessions[0]->decode(tokens, 1);
        return;
    }
    Session& lead = *sessions[0]; // whose graphs and buffers the batch runs in
    const Model* model = lead.model_.get();
    const ModelConfig& c = model->config();
    std::vector<int> pos(size_t(n), 0);
    std::vector<KvCache*> caches(size_t(n), nullptr);
    int max_ctx = 0;
    for (int i = 0; i < n; i++) {
        Session& s = *sessions[i];
        if (s.model_.get() != model)
            fail(Status::invalid_argument, "a batched decode's sessions must share one model");
        if (s.n_past() + 1 > s.n_ctx())
            fail(Status::context_full, "context is full: session " + std::to_string(i) + " holds " +
                                           std::to_string(s.n_past()) + " tokens of " +
                                           std::to_string(s.n_ctx()));
        pos[size_t(i)] = s.n_past();
        caches[size_t(i)] = s.cache_.get();
        max_ctx = std::max(max_ctx, s.n_ctx());
    }
    const auto key = std::make_pair(n, true); // the n-token graph with every row's logits
    auto it = lead.graphs_.find(key);
    if (it == lead.graphs_.end()) {
        it = lead.graphs_.emplace(key, build_graph(*model, n, true)).first;
        lead.arena_.resize(std::max(lead.arena_.size(), it->second.arena_floats()));
        lead.act_.resize(std::max(lead.act_.size(), it->second.activation_bytes()));
    }
    lead.attn_scratch_.resize(
        std::max(lead.attn_scratch_.size(),
                 size_t(lead.options_.n_threads) *
                     attention_scratch_floats(int(c.n_head), int(c.n_head_kv), int(c.head_dim))));
    lead.attn_partials_.resize(
        std::max(lead.attn_partials_.size(),
                 attention_partial_floats(max_ctx, int(c.n_head), int(c.head_dim))));
    const Graph& g = it->second;
    {
        std::vector<KvCache*> order = caches; // locked in one order: no deadlock between batches
        std::sort(order.begin(), order.end());
        std::vector<std::unique_lock<std::mutex>> in_use;
        for (KvCache* cache : order) in_use.emplace_back(cache->use_mutex());
        GraphContext ctx{lead.kernels_,
                         lead.options_.n_threads,
                         caches[0],
                         tokens,
                         0,
                         c.norm_eps,
                         int(c.n_head),
                         int(c.n_head_kv),
                         int(c.head_dim),
                         lead.attn_partials_.data()};
        ctx.row_pos = pos.data();
        ctx.row_cache = caches.data();
        g.compute(ctx, lead.arena_.data(), lead.act_.data(), lead.attn_scratch_.data());
    }
    const float* logits = g.output(lead.arena_.data());
    const size_t V = c.n_vocab;
    for (int i = 0; i < n; i++) {
        Session& s = *sessions[i];
        s.history_.push_back(tokens[i]);
        if (s.file_) s.file_->commit(s.history_, int(s.cache_->bytes_per_token()));
        s.batch_logits_.assign(logits + size_t(i) * V, logits + size_t(i + 1) * V);
        s.last_logits_ = s.batch_logits_.data();
    }
}

} // namespace strata
