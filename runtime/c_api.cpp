// The C API (include/strata.h) over the C++ runtime. Every entry point catches everything:
// no exception crosses into C. Errors are kept per thread.
#include "runtime/c_api_internal.h"

#include "formats/convert.h"

#include <cstring>
#include <memory>
#include <string>

using namespace strata::capi;

extern "C" {

const char* strata_version(void) { return STRATA_VERSION; }
const char* strata_errmsg(void) { return t_error.c_str(); }

int strata_model_open(const char* path, strata_model** out) {
    if (!path || !out)
        return error(STRATA_INVALID_ARGUMENT, "strata_model_open: path and out must not be NULL");
    *out = nullptr;
    return guarded([&] {
        auto m = std::make_unique<strata_model>();
        // Failures to open or map the file are labelled where they happen; the rest mean the
        // file is not a valid model.
        m->model =
            strata::with_status(strata::Status::format, [&] { return strata::Model::load(path); });
        m->data = &m->model->tokenizer();
        m->tokenizer = std::make_unique<strata::Tokenizer>(*m->data);
        *out = m.release();
        return ok();
    });
}

void strata_model_close(strata_model* model) { delete model; }

int strata_model_info_get(const strata_model* model, strata_model_info* out) {
    if (!model || !out)
        return error(STRATA_INVALID_ARGUMENT, "strata_model_info_get: NULL argument");
    *out = strata_model_info{};
    out->bos = model->tokenizer->bos(), out->eos = model->tokenizer->eos();
    out->has_chat_template = !model->data->chat_template.empty();
    out->n_vocab = int32_t(model->tokenizer->size());
    if (!model->model) { // a vocabulary opened alone
        out->architecture = "vocabulary";
        return ok();
    }
    const strata::ModelConfig& c = model->model->config();
    out->architecture = c.arch.c_str();
    out->n_vocab = int32_t(c.n_vocab), out->n_embd = int32_t(c.n_embd),
    out->n_layer = int32_t(c.n_layer);
    out->n_head = int32_t(c.n_head), out->n_head_kv = int32_t(c.n_head_kv),
    out->head_dim = int32_t(c.head_dim);
    out->n_ctx_train = int32_t(c.n_ctx_train), out->n_kv_layers = int32_t(c.n_kv_layers());
    out->n_params = int64_t(strata::parameter_count(c));
    out->n_active_params = int64_t(strata::active_parameter_count(c));
    out->kv_bytes_per_token = int64_t(c.kv_bytes_per_token(2.0));
    out->file_bytes = int64_t(model->model->file().file_bytes());
    out->weight_bytes_per_token = int64_t(strata::weight_bytes_per_token(*model->model));
    out->synthetic = c.synthetic;
    out->name = c.name.c_str();
    return ok();
}

int strata_tokenize(const strata_model* model, const char* text, int add_special, int32_t* tokens,
                    int capacity, int* n_tokens) {
    if (!model || !text || !n_tokens || capacity < 0 || (capacity > 0 && !tokens))
        return error(STRATA_INVALID_ARGUMENT, "strata_tokenize: NULL or negative argument");
    return guarded([&] {
        const auto ids = model->tokenizer->encode(text, add_special != 0);
        *n_tokens = int(ids.size());
        if (int(ids.size()) > capacity)
            return error(STRATA_BUFFER_TOO_SMALL, "strata_tokenize: " + std::to_string(ids.size()) +
                                                      " tokens need a larger buffer");
        std::copy(ids.begin(), ids.end(), tokens);
        return ok();
    });
}

int strata_tokenize_text(const strata_model* model, const char* text, size_t length, int flags,
                         int32_t* tokens, int capacity, int* n_tokens) {
    if (!model || (!text && length > 0) || !n_tokens || capacity < 0 || (capacity > 0 && !tokens))
        return error(STRATA_INVALID_ARGUMENT, "strata_tokenize_text: NULL or negative argument");
    return guarded([&] {
        const auto ids = model->tokenizer->encode(std::string_view(text ? text : "", length),
                                                  (flags & STRATA_TOKENIZE_ADD_SPECIAL) != 0,
                                                  (flags & STRATA_TOKENIZE_PARSE_SPECIAL) != 0);
        *n_tokens = int(ids.size());
        if (int(ids.size()) > capacity)
            return error(STRATA_BUFFER_TOO_SMALL,
                         "strata_tokenize_text: " + std::to_string(ids.size()) +
                             " tokens need a larger buffer");
        std::copy(ids.begin(), ids.end(), tokens);
        return ok();
    });
}

int strata_token_to_piece(const strata_model* model, int32_t token, char* buf, int capacity,
                          int* length) {
    if (!model || !length || capacity < 0 || (capacity > 0 && !buf))
        return error(STRATA_INVALID_ARGUMENT, "strata_token_to_piece: NULL or negative argument");
    if (token < 0 || size_t(token) >= model->tokenizer->size())
        return error(STRATA_INVALID_ARGUMENT,
                     "strata_token_to_piece: token " + std::to_string(token) + " is out of range");
    return guarded([&] {
        const std::string p = model->tokenizer->piece(token, false);
        *length = int(p.size());
        if (int(p.size()) > capacity)
            return error(STRATA_BUFFER_TOO_SMALL, "strata_token_to_piece: buffer too small");
        std::memcpy(buf, p.data(), p.size());
        return ok();
    });
}

void strata_session_options_init(strata_session_options* o) {
    if (!o) return;
    o->n_ctx = 0, o->n_threads = 1, o->kv_type = "f16", o->kv_file = nullptr, o->n_batch = 0;
}

int strata_session_open(strata_model* model, const strata_session_options* options,
                        strata_session** out) {
    if (!model || !out)
        return error(STRATA_INVALID_ARGUMENT,
                     "strata_session_open: model and out must not be NULL");
    *out = nullptr;
    if (!model->model)
        return error(
            STRATA_INVALID_ARGUMENT,
            "strata_session_open: this handle holds only a vocabulary (strata_vocab_open); "
            "open the model with strata_model_open");
    strata_session_options o;
    strata_session_options_init(&o);
    if (options) o = *options;
    if (o.n_ctx < 0 || o.n_threads < 0 || o.n_batch < 0)
        return error(STRATA_INVALID_ARGUMENT,
                     "strata_session_open: negative n_ctx, n_threads or n_batch");
    const std::string kv = o.kv_type ? o.kv_type : "f16";
    const std::optional<strata::DType> kv_dtype = strata::dtype_from_name(kv);
    if (!kv_dtype || !strata::dtype_info(*kv_dtype).kv_cache)
        return error(STRATA_INVALID_ARGUMENT,
                     "kv_type '" + kv + "' is not one of " + strata_kv_types());
    return guarded([&] {
        strata::SessionOptions so;
        so.n_ctx =
            o.n_ctx ? o.n_ctx : int(std::min<uint32_t>(model->model->config().n_ctx_train, 4096));
        so.n_threads = o.n_threads ? o.n_threads : 1;
        if (o.n_batch) so.n_batch = o.n_batch;
        so.kv_type = *kv_dtype;
        if (o.kv_file)
            so.kv_file = o.kv_file, so.n_ctx = o.n_ctx; // 0 keeps an existing file's context
        auto s = std::make_unique<strata_session>();
        s->model = model;
        s->session = std::make_unique<strata::Session>(model->model, so);
        *out = s.release();
        return ok();
    });
}

void strata_session_close(strata_session* session) { delete session; }

int strata_session_reset(strata_session* session) {
    if (!session) return error(STRATA_INVALID_ARGUMENT, "strata_session_reset: NULL session");
    session->session->reset();
    session->logits = nullptr;
    return ok();
}

int strata_decode(strata_session* session, const int32_t* tokens, int n_tokens) {
    if (!session || !tokens || n_tokens <= 0)
        return error(STRATA_INVALID_ARGUMENT,
                     "strata_decode: NULL session/tokens or n_tokens <= 0");
    return guarded([&] {
        if (session->session->n_past() + n_tokens > session->session->n_ctx())
            return error(STRATA_CONTEXT_FULL,
                         "context is full: " + std::to_string(session->session->n_past()) + " + " +
                             std::to_string(n_tokens) + " tokens exceed " +
                             std::to_string(session->session->n_ctx()));
        session->logits = nullptr; // stale once decoding starts (an abort leaves none)
        session->logits = session->session->decode(tokens, n_tokens);
        return ok();
    });
}

int strata_decode_logits(strata_session* session, const int32_t* tokens, int n_tokens,
                         float* logits) {
    if (!session || !tokens || n_tokens <= 0 || !logits)
        return error(STRATA_INVALID_ARGUMENT,
                     "strata_decode_logits: NULL session/tokens/logits or n_tokens <= 0");
    return guarded([&] {
        strata::Session& s = *session->session;
        if (s.n_past() + n_tokens > s.n_ctx())
            return error(STRATA_CONTEXT_FULL, "context is full: " + std::to_string(s.n_past()) +
                                                  " + " + std::to_string(n_tokens) +
                                                  " tokens exceed " + std::to_string(s.n_ctx()));
        const size_t V = session->model->model->config().n_vocab;
        session->logits = nullptr;
        const float* all = s.decode(tokens, n_tokens, true);
        std::memcpy(logits, all, size_t(n_tokens) * V * sizeof(float));
        session->logits = s.last_logits();
        return ok();
    });
}

int strata_session_truncate(strata_session* session, int n_tokens) {
    if (!session || n_tokens < 0)
        return error(STRATA_INVALID_ARGUMENT, "strata_session_truncate: NULL or negative");
    return guarded([&] {
        if (n_tokens < session->session->n_past()) {
            session->session->truncate(n_tokens);
            session->logits = nullptr;
        }
        return ok();
    });
}

int strata_session_tokens(const strata_session* session, int32_t* tokens, int capacity,
                          int* n_tokens) {
    if (!session || !n_tokens || capacity < 0 || (capacity > 0 && !tokens))
        return error(STRATA_INVALID_ARGUMENT, "strata_session_tokens: NULL or negative argument");
    const auto& h = session->session->history();
    *n_tokens = int(h.size());
    if (int(h.size()) > capacity)
        return error(STRATA_BUFFER_TOO_SMALL, "strata_session_tokens: buffer too small");
    std::copy(h.begin(), h.end(), tokens);
    return ok();
}

const float* strata_logits(const strata_session* session) {
    return session ? session->logits : nullptr;
}
int strata_n_past(const strata_session* session) {
    return session ? session->session->n_past() : 0;
}
const char* strata_session_file(const strata_session* session) {
    return session && session->session->file() ? session->session->file()->path().c_str() : nullptr;
}

int strata_kv_stats_get(const strata_session* session, strata_kv_stats* out) {
    if (!session || !out)
        return error(STRATA_INVALID_ARGUMENT, "strata_kv_stats_get: NULL argument");
    out->bytes_per_token = int64_t(session->session->cache().bytes_per_token());
    out->bytes_mapped = int64_t(session->session->cache().bytes());
    out->n_tokens = session->session->n_past();
    out->n_ctx = session->session->n_ctx();
    out->is_fork = session->session->cache().is_fork();
    out->bytes_private = session->session->cache().private_bytes();
    out->bytes_used = int64_t(session->session->cache().bytes_used(out->n_tokens));
    return ok();
}

int64_t strata_kv_bytes_used(const strata_session* session) {
    return session ? int64_t(session->session->cache().bytes_used(session->session->n_past())) : 0;
}

int strata_session_save(strata_session* session, const char* path) {
    if (!session || !path)
        return error(STRATA_INVALID_ARGUMENT, "strata_session_save: NULL argument");
    return guarded([&] {
        session->session->save(path);
        return ok();
    });
}

int strata_session_restore(strata_session* session, const char* path) {
    if (!session || !path)
        return error(STRATA_INVALID_ARGUMENT, "strata_session_restore: NULL argument");
    return guarded([&] {
        session->logits = nullptr;
        session->session->restore(path);
        session->logits = session->session->last_logits();
        return ok();
    });
}

int strata_session_fork(strata_session* session, strata_session** out) {
    if (out) *out = nullptr;
    if (!session || !out)
        return error(STRATA_INVALID_ARGUMENT, "strata_session_fork: NULL argument");
    return guarded([&] {
        auto s = std::make_unique<strata_session>();
        s->model = session->model;
        s->session = session->session->fork();
        s->logits = session->logits ? s->session->last_logits() : nullptr;
        *out = s.release();
        return ok();
    });
}

int strata_session_set_abort(strata_session* session, strata_abort_callback callback, void* user) {
    if (!session) return error(STRATA_INVALID_ARGUMENT, "strata_session_set_abort: NULL session");
    if (callback)
        session->session->set_abort_check([callback, user] { return callback(user) != 0; });
    else
        session->session->set_abort_check({});
    return ok();
}

void strata_sampler_options_init(strata_sampler_options* o) {
    if (!o) return;
    o->temperature = 0, o->top_k = 40, o->top_p = 0.95f, o->min_p = 0.05f, o->repeat_penalty = 1.0f,
    o->seed = 0;
}

int strata_sampler_open(const strata_sampler_options* options, strata_sampler** out) {
    if (!out) return error(STRATA_INVALID_ARGUMENT, "strata_sampler_open: out must not be NULL");
    *out = nullptr;
    strata_sampler_options o;
    strata_sampler_options_init(&o);
    if (options) o = *options;
    return guarded([&] {
        strata::SamplerOptions so;
        so.temperature = o.temperature, so.top_k = o.top_k, so.top_p = o.top_p, so.min_p = o.min_p;
        so.repeat_penalty = o.repeat_penalty, so.seed = o.seed;
        auto s = std::make_unique<strata_sampler>();
        s->sampler = std::make_unique<strata::Sampler>(so);
        *out = s.release();
        return ok();
    });
}

void strata_sampler_close(strata_sampler* sampler) { delete sampler; }

int strata_sample(strata_sampler* sampler, const strata_session* session, int32_t* token) {
    if (!sampler || !session || !token)
        return error(STRATA_INVALID_ARGUMENT, "strata_sample: NULL argument");
    if (!session->logits)
        return error(STRATA_INVALID_ARGUMENT, "strata_sample: decode something first");
    return guarded([&] {
        *token =
            sampler->sampler->sample(session->logits, int(session->model->model->config().n_vocab),
                                     session->session->history());
        return ok();
    });
}

int strata_generate(strata_session* session, strata_sampler* sampler, const char* prompt,
                    int max_tokens, strata_token_callback callback, void* user) {
    if (!session || !prompt || max_tokens < 0)
        return error(STRATA_INVALID_ARGUMENT,
                     "strata_generate: NULL argument or negative max_tokens");
    return guarded([&] {
        strata::Tokenizer& tok = *session->model->tokenizer;
        strata::Session& s = *session->session;
        const auto ids = tok.encode(prompt, s.n_past() == 0);
        if (!ids.empty()) {
            if (s.n_past() + int(ids.size()) > s.n_ctx())
                return error(STRATA_CONTEXT_FULL, "the prompt does not fit the context");
            session->logits = nullptr;
            session->logits = s.decode(ids.data(), int(ids.size()));
        }
        if (!session->logits)
            return error(STRATA_INVALID_ARGUMENT,
                         "strata_generate: empty prompt on an empty session");
        strata::SamplerOptions greedy;
        greedy.temperature = 0;
        strata::Sampler fallback(greedy);
        strata::Sampler& smp = sampler ? *sampler->sampler : fallback;
        strata::StreamDecoder out(tok, s.history().back());
        const int V = int(session->model->model->config().n_vocab);
        for (int i = 0; i < max_tokens; i++) {
            const int32_t next = smp.sample(session->logits, V, s.history());
            if (next == tok.eos()) break;
            const std::string text = out.push(next);
            if (callback && callback(user, next, text.c_str(), int(text.size())) != 0) break;
            if (s.n_past() + 1 > s.n_ctx()) return error(STRATA_CONTEXT_FULL, "context is full");
            session->logits = nullptr;
            session->logits = s.decode(&next, 1);
        }
        return ok();
    });
}

} // extern "C"
