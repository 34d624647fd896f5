/*
 * libstrata: run quantized decoder language models on the CPU.
 *
 * The public C API. Opaque handles, paired open/close calls, and an integer status from every
 * call that can fail; strata_errmsg() gives the calling thread's last error message. No C++
 * exception ever crosses this boundary. One model may be shared by sessions on several
 * threads; a session is used by one thread at a time.
 *
 *   strata_model* m;  strata_session* s;
 *   if (strata_model_open("model.strata", &m) != STRATA_OK) puts(strata_errmsg());
 *   strata_session_open(m, NULL, &s);
 *   strata_generate(s, NULL, "Once upon a time", 64, print_token, NULL);
 *   strata_session_close(s);  strata_model_close(m);
 */
#ifndef STRATA_H
#define STRATA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define STRATA_API __attribute__((visibility("default")))
#else
#define STRATA_API
#endif

#define STRATA_VERSION "0.1.0"
#define STRATA_VERSION_NUMBER 1000 /* major * 1000000 + minor * 1000 + patch */

typedef enum strata_status {
    STRATA_OK = 0,
    STRATA_ERROR = 1,            /* anything else; see strata_errmsg() */
    STRATA_INVALID_ARGUMENT = 2, /* a NULL handle, an out-of-range value */
    STRATA_FORMAT_ERROR = 3,     /* a file that is not, or no longer, a valid model */
    STRATA_CONTEXT_FULL = 4,     /* the tokens do not fit the session's context */
    STRATA_BUFFER_TOO_SMALL = 5, /* the output buffer is too small; *n says how much is needed */
    STRATA_NOT_SUPPORTED = 6,    /* not built (yet), or not on this CPU (STRATA_ISA) */
    STRATA_NO_MEMORY = 7,
    STRATA_BUSY = 8,    /* a session file is in use by another process (named in the message) */
    STRATA_ABORTED = 9, /* stopped by the session's abort callback (strata_session_set_abort) */
} strata_status;

typedef struct strata_model strata_model;
typedef struct strata_session strata_session;
typedef struct strata_sampler strata_sampler;

/* Library version, e.g. "0.1.0". */
STRATA_API const char* strata_version(void);
/* The calling thread's last error message ("" when the last call succeeded). */
STRATA_API const char* strata_errmsg(void);

/* ---- models ---------------------------------------------------------------------------- */

typedef struct strata_model_info {
    const char* architecture; /* "llama", "qwen2" */
    int32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ctx_train;
    int32_t n_kv_layers; /* layers that store K/V (fewer than n_layer with CLA) */
    int64_t n_params;
    int64_t kv_bytes_per_token; /* with an F16 cache; sliding-window layers, whose K/V keep
                                   only the window, add none */
    int32_t bos, eos;           /* -1 when absent */
    int32_t has_chat_template;
    int64_t file_bytes;             /* size of the .strata file */
    int64_t weight_bytes_per_token; /* weight bytes one token's forward pass reads */
    const char* name;               /* the model's name from its metadata ("" when none) */
    int32_t synthetic;              /* 1: random weights (strata-convert --synthetic) */
    int64_t n_active_params;        /* used per token: n_params less the unchosen experts */
} strata_model_info;

/* Maps and validates a .strata file. */
STRATA_API int strata_model_open(const char* path, strata_model** out);
STRATA_API void strata_model_close(strata_model* model);
/* Opens only a vocabulary, from a .strata, a .gguf (vocab-only files too), a tokenizer.json
 * (tokenizer_config.json beside it gives BOS/EOS and the chat template), a SentencePiece
 * tokenizer.model, or a llama2.c tokenizer .bin. The handle serves the tokenizer, detokenizer
 * and chat-template calls; strata_session_open refuses it. Close with strata_model_close. For a
 * vocabulary, strata_model_info_get fills architecture ("vocabulary"), n_vocab, bos, eos and
 * has_chat_template only. */
STRATA_API int strata_vocab_open(const char* path, strata_model** out);
STRATA_API int strata_model_info_get(const strata_model* model, strata_model_info* out);

/* Token ids of `text` into tokens[0..capacity); *n_tokens gets the count (also when the
 * buffer is too small: STRATA_BUFFER_TOO_SMALL). add_special: BOS/EOS per the model. */
STRATA_API int strata_tokenize(const strata_model* model, const char* text, int add_special,
                               int32_t* tokens, int capacity, int* n_tokens);
/* Flags for strata_tokenize_text. */
#define STRATA_TOKENIZE_ADD_SPECIAL 1   /* BOS (and EOS) as the model adds them */
#define STRATA_TOKENIZE_PARSE_SPECIAL 2 /* text spelling a special token becomes that token */
/* strata_tokenize for `length` bytes (NULs included) with explicit flags. */
STRATA_API int strata_tokenize_text(const strata_model* model, const char* text, size_t length,
                                    int flags, int32_t* tokens, int capacity, int* n_tokens);
/* The bytes of one token (no terminating NUL; *length gets the byte count). */
STRATA_API int strata_token_to_piece(const strata_model* model, int32_t token, char* buf,
                                     int capacity, int* length);
/* The id of the token spelled exactly `text` (special tokens included), or -1. */
STRATA_API int32_t strata_token_find(const strata_model* model, const char* text);
/* The text of tokens[0..n_tokens), NUL-terminated in buf; *length gets its byte count without
 * the NUL (also when the buffer is too small: STRATA_BUFFER_TOO_SMALL). */
STRATA_API int strata_detokenize(const strata_model* model, const int32_t* tokens, int n_tokens,
                                 char* buf, int capacity, int* length);

/* Streaming detokenization: text is only ever cut at whole UTF-8 characters (the bytes of an
 * incomplete character, e.g. from byte-fallback tokens, are held back until it completes). */
typedef struct strata_detokenizer strata_detokenizer;
/* `previous`: the token before the first one pushed (-1: none); after BOS, the leading space
 * SentencePiece puts before the first word is dropped. The model must outlive it. */
STRATA_API int strata_detokenizer_open(const strata_model* model, int32_t previous,
                                       strata_detokenizer** out);
/* The text that became complete with `token`; *text stays valid until the next call on d. */
STRATA_API int strata_detokenizer_push(strata_detokenizer* d, int32_t token, const char** text,
                                       int* length);
/* Whatever is still held back at the end of the stream (shown as U+FFFD where incomplete). */
STRATA_API int strata_detokenizer_flush(strata_detokenizer* d, const char** text, int* length);
STRATA_API void strata_detokenizer_close(strata_detokenizer* d);

/* ---- chat templates -------------------------------------------------------------------- */

typedef struct strata_chat_message {
    const char* role; /* "system", "user" or "assistant" */
    const char* content;
} strata_chat_message;

/* The template family the model's chat template is recognized as ("llama-2", "llama-3",
 * "chatml", "mistral", "gemma", "zephyr"), or NULL when it has none strata knows (a base model:
 * completion mode). */
STRATA_API const char* strata_chat_template(const strata_model* model);
/* The names strata_chat_apply accepts, space-separated. */
STRATA_API const char* strata_chat_template_names(void);
/* The prompt text of `messages` in template `name` (NULL: the model's), exactly as the family's
 * Jinja template renders it; add_assistant: ends where the assistant's reply begins. BOS/EOS
 * appear as their token text (tokenize with STRATA_TOKENIZE_PARSE_SPECIAL and without
 * STRATA_TOKENIZE_ADD_SPECIAL). NUL-terminated in buf; *length as strata_detokenize. */
STRATA_API int strata_chat_apply(const strata_model* model, const char* name,
                                 const strata_chat_message* messages, int n_messages,
                                 int add_assistant, char* buf, int capacity, int* length);
/* The token that ends an assistant turn in template `name` (NULL: the model's) besides EOS,
 * e.g. <|eot_id|>; -1 when the turn ends with EOS only. */
STRATA_API int strata_chat_turn_end(const strata_model* model, const char* name, int32_t* token);

/* ---- sessions -------------------------------------------------------------------------- */

typedef struct strata_session_options {
    int32_t n_ctx;       /* 0: the model's training context, at most 4096 */
    int32_t n_threads;   /* 0: 1 */
    const char* kv_type; /* one of strata_kv_types(): "f16" (default), "q8_0", "f32" ... */
    const char*
        kv_file; /* persistent session file: created if absent, resumed if present (NULL: memory) */
    int32_t n_batch; /* tokens per forward pass when decoding many; 0: 256 */
} strata_session_options;

STRATA_API void strata_session_options_init(strata_session_options* options);
STRATA_API int strata_session_open(strata_model* model, const strata_session_options* options,
                                   strata_session** out);
STRATA_API void strata_session_close(strata_session* session);
/* Forgets every token (the cache is reused). */
STRATA_API int strata_session_reset(strata_session* session);
/* Feeds tokens at the next positions (a prompt is computed as one batch). */
STRATA_API int strata_decode(strata_session* session, const int32_t* tokens, int n_tokens);
/* strata_decode that also writes the logits after each fed token (n_tokens x n_vocab floats,
 * token-major) to `logits` (perplexity, scoring). */
STRATA_API int strata_decode_logits(strata_session* session, const int32_t* tokens, int n_tokens,
                                    float* logits);
/* Batched decoding (a server's continuous batching): one token for each of n distinct sessions
 * of the same model, computed in one forward pass, so the weights are read once for all of them;
 * each row runs at its own session's next position in its own KV cache, with the same result as
 * strata_decode of that token alone. tokens[i] goes to sessions[i]; afterwards
 * strata_logits(sessions[i]) is its row's. STRATA_CONTEXT_FULL when a session is full (then
 * nothing is decoded). Each session must be used by the calling thread only, as always. */
STRATA_API int strata_decode_batch(strata_session* const* sessions, const int32_t* tokens, int n);
/* Forgets the tokens from position n_tokens on; the next decode continues from there. */
STRATA_API int strata_session_truncate(strata_session* session, int n_tokens);
/* The tokens the session holds, in order (*n_tokens gets the count; STRATA_BUFFER_TOO_SMALL
 * when capacity is smaller). */
STRATA_API int strata_session_tokens(const strata_session* session, int32_t* tokens, int capacity,
                                     int* n_tokens);
/* Logits (n_vocab floats) after the last decoded token; NULL before any decode. Valid until the
 * next call on this session. */
STRATA_API const float* strata_logits(const strata_session* session);
STRATA_API int strata_n_past(const strata_session* session);
/* The path of the session file the session lives in, or NULL for an in-memory session. */
STRATA_API const char* strata_session_file(const strata_session* session);

typedef struct strata_kv_stats {
    int64_t bytes_per_token; /* source layers x KV heads x head dim x 2 x element size; sliding-
                                window layers whose K/V ring holds only the window add none */
    int64_t bytes_mapped;    /* the whole cache (n_ctx tokens, the rings included) */
    int32_t n_tokens, n_ctx;
    int32_t is_fork;       /* 1 for a session made by strata_session_fork */
    int64_t bytes_private; /* a fork's pages copied on write so far (the rest are shared with
                              its parent); 0 otherwise; -1 where /proc is unavailable */
    int64_t bytes_used;    /* what the n_tokens positions occupy: n_tokens x bytes_per_token
                              plus the sliding-window rings' rows in use */
} strata_kv_stats;
STRATA_API int strata_kv_stats_get(const strata_session* session, strata_kv_stats* out);
/* strata_kv_stats's bytes_used alone, without the /proc read a fork's bytes_private costs:
 * cheap enough for every step of a server (0 for NULL). */
STRATA_API int64_t strata_kv_bytes_used(const strata_session* session);

/* Writes the session (its tokens and K/V rows) to a session file at `path`, replacing any file
 * there only once the new one is complete. A session opened with kv_file is already persistent:
 * reopening it resumes. */
STRATA_API int strata_session_save(strata_session* session, const char* path);
/* Replaces the session's tokens and K/V rows with a saved file's (same model and KV type,
 * fitting the context); logits of its last token are available afterwards. */
STRATA_API int strata_session_restore(strata_session* session, const char* path);
/* A new in-memory session holding the same tokens and logits, which continues independently.
 * Its K/V pages are the parent's, shared copy-on-write until either side writes them (the
 * parent copies what a fork still shares before rewriting it, so either may be used or closed
 * in any order; each by one thread at a time). A fork of a fork is a copy. */
STRATA_API int strata_session_fork(strata_session* session, strata_session** out);

/* ---- stopping work early --------------------------------------------------------------- */

/* Asked between the steps of a long computation (the chunks a prompt is computed in); return
 * non-zero to stop. Called on the thread running the session's call. */
typedef int (*strata_abort_callback)(void* user);
/* Installs (or, with NULL, removes) the session's abort callback. While one is installed, a
 * prompt is computed in chunks sized (from the measured time per token) to take at most about
 * 100 ms each, so a stop takes effect within about that long (one token's forward pass at
 * least). A stopped strata_decode,
 * strata_decode_logits or strata_generate returns STRATA_ABORTED; the session then holds the
 * tokens computed before the stop (a prefix of what was fed: strata_n_past says how many), its
 * K/V rows and session file consistent with them, and strata_logits is NULL until the next
 * decode. */
STRATA_API int strata_session_set_abort(strata_session* session, strata_abort_callback callback,
                                        void* user);

/* ---- sampling and generation ----------------------------------------------------------- */

typedef struct strata_sampler_options {
    float temperature;    /* 0 = greedy */
    int32_t top_k;        /* 0 = off */
    float top_p;          /* 1 = off */
    float min_p;          /* 0 = off */
    float repeat_penalty; /* 1 = off */
    uint64_t seed;
} strata_sampler_options;

STRATA_API void strata_sampler_options_init(strata_sampler_options* options); /* greedy */
STRATA_API int strata_sampler_open(const strata_sampler_options* options, strata_sampler** out);
STRATA_API void strata_sampler_close(strata_sampler* sampler);
/* Picks the next token from the session's current logits. */
STRATA_API int strata_sample(strata_sampler* sampler, const strata_session* session,
                             int32_t* token);

/* Called with each generated token and its text (whole UTF-8 characters only; may be empty
 * while a character is incomplete). Return non-zero to stop. */
typedef int (*strata_token_callback)(void* user, int32_t token, const char* text, int length);

/* Tokenizes and feeds `prompt` (BOS added when the session is empty), then samples up to
 * max_tokens tokens, stopping at end-of-sequence or when the callback asks. sampler NULL:
 * greedy. Returns STRATA_OK also when stopped by the callback. */
STRATA_API int strata_generate(strata_session* session, strata_sampler* sampler, const char* prompt,
                               int max_tokens, strata_token_callback callback, void* user);

/* ---- this machine ---------------------------------------------------------------------- */

/* The kernels in use: "ref", "avx2", "avx512", "avx512_vnni", "avx512_amx", "neon" or
 * "neon_dotprod" (chosen once from the CPU's features; STRATA_ISA=ref|avx2|avx512|neon forces
 * one). NULL when STRATA_ISA names
 * kernels this CPU lacks: then strata_session_open fails with STRATA_NOT_SUPPORTED and
 * strata_errmsg() says why. */
STRATA_API const char* strata_kernels(void);
/* Measures this machine's read bandwidth (GB/s, a sum over a buffer far larger than the caches)
 * and FP32 FMA peak (GFLOP/s) with threads[i] threads, into read_gbps[i] and fma_gflops[i].
 * About a second per thread count. */
STRATA_API int strata_roofline(const int* threads, int n, double* read_gbps, double* fma_gflops);

/* ---- conversion ------------------------------------------------------------------------ */

typedef void (*strata_progress_callback)(void* user, int tensors_done, int tensors_total,
                                         int64_t bytes_done, int64_t bytes_total);

typedef struct strata_convert_options {
    const char* type;      /* one of strata_convert_types() (f32 ... q4_k_m ...); NULL: keep
                              the source's types (synthetic models: f16) */
    int32_t cla;           /* cross-layer attention groups (0 or 1: off) */
    const char* tokenizer; /* llama2.c checkpoints: their tokenizer .bin */
    int32_t layers;        /* synthetic: override the layer count (0: the shape's) */
    int32_t kv_heads;      /* synthetic: override the KV head count (0: the shape's) */
    uint64_t seed;         /* synthetic: random seed */
    strata_progress_callback progress; /* after each tensor (NULL: none) */
    void* user;
    int32_t row_major; /* 1: every matrix row-major (blocks byte for byte as in GGUF);
                          0: matrices of the types that take it (docs/format.md, "Tensor
                          layouts", lists them) in the interleave8 layout the kernels read
                          fastest */
    int32_t dry_run;   /* 1: check and plan everything, fill the report (file_bytes included),
                          write nothing */
} strata_convert_options;

/* What a conversion wrote. The strings stay valid until the next conversion on this thread. */
typedef struct strata_convert_report {
    int64_t n_params;
    int64_t kv_bytes_per_token; /* with an F16 cache */
    const char* tensor_types;   /* e.g. "f32 x45 q4_0 x155" */
    const char* fallbacks;      /* tensors whose rows don't fill the type's blocks and got
                                   another type, e.g. "output.weight (q8_0)"; "" when none */
    const char* notes;          /* newline-separated remarks; "" when none */
    int32_t n_interleaved;      /* matrices stored in the interleave8 layout */
    int64_t file_bytes;         /* size of the file written (dry run: that would be written) */
    int32_t n_layers;           /* layers, and of them those that store K/V (the others read */
    int32_t n_kv_layers;        /* an earlier layer's: cross-layer attention, kv_source) */
} strata_convert_report;

STRATA_API void strata_convert_options_init(strata_convert_options* options);
/* The types strata_convert_options.type accepts, space-separated. */
STRATA_API const char* strata_convert_types(void);
/* The types strata_session_options.kv_type accepts, space-separated (from the type table). */
STRATA_API const char* strata_kv_types(void);
/* The weight types whose matrices (rows a multiple of 8) the converter writes in the interleave8
 * layout unless told --row-major, comma-separated (from the type table; docs/format.md). */
STRATA_API const char* strata_interleave8_types(void);
/* The shapes strata_convert_synthetic accepts, space-separated. */
STRATA_API const char* strata_synthetic_shapes(void);
/* Bytes per value of a numeric type ("f16": 2, "q8_0": 34/32 ...), from the type table;
 * 0 for a name strata does not know. */
STRATA_API double strata_type_bytes_per_value(const char* type);
/* Converts an HF model directory, a .gguf or a llama2.c .bin into a .strata file at `out`
 * (written to a temporary file, renamed when complete; nothing is replaced on failure).
 * report may be NULL. */
STRATA_API int strata_convert(const char* src, const char* out,
                              const strata_convert_options* options, strata_convert_report* report);
/* Writes a random-weight model in a named real shape (one of strata_synthetic_shapes():
 * tinyllama-1.1b, llama-3.2-1b, qwen3-0.6b, gemma-3-1b, phi-3-mini, olmoe-1b-7b ...), marked
 * synthetic in its metadata. */
STRATA_API int strata_convert_synthetic(const char* shape, const char* out,
                                        const strata_convert_options* options,
                                        strata_convert_report* report);
/* A description of a .strata file (architecture, hyperparameters, kv_source, tokenizer, tensor
 * types and shapes, KV bytes per token); *text stays valid until the next call on this thread. */
STRATA_API int strata_file_describe(const char* path, const char** text);
/* Checks a .strata file's structure and every checksum; STRATA_FORMAT_ERROR with the problems in
 * strata_errmsg() (one per line). n_tensors may be NULL. */
STRATA_API int strata_file_verify(const char* path, int* n_tensors);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_H */
