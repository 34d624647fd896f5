/* A C program using libstrata as an embedder would: built by a C compiler against the installed
 * library through pkg-config (tests/c_api/run.sh). Four threads each run a session on one
 * shared model; their outputs must equal a single-threaded run's. Exit 0 on success. */
#include <strata.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define N_GEN 48

static strata_model* g_model;

typedef struct {
    int32_t tokens[N_GEN];
    int n;
    char text[4096];
    int text_len;
    int status;
} run_result;

static int collect(void* user, int32_t token, const char* text, int length) {
    run_result* r = (run_result*)user;
    if (r->n < N_GEN) r->tokens[r->n++] = token;
    if (r->text_len + length < (int)sizeof r->text) {
        memcpy(r->text + r->text_len, text, (size_t)length);
        r->text_len += length;
    }
    return 0;
}

static void* run(void* arg) {
    run_result* r = (run_result*)arg;
    strata_session_options o;
    strata_session_options_init(&o);
    o.n_ctx = 256;
    strata_session* s = NULL;
    r->status = strata_session_open(g_model, &o, &s);
    if (r->status != STRATA_OK) return NULL;
    r->status = strata_generate(s, NULL, "Once upon a time", N_GEN, collect, r);
    strata_session_close(s);
    return NULL;
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

static int progress_calls;
static void count_progress(void* user, int done, int total, int64_t bytes_done,
                           int64_t bytes_total) {
    (void)user, (void)bytes_done, (void)bytes_total;
    if (done >= 1 && done <= total) progress_calls++;
}

/* Detokenizing, chat templates, a vocabulary opened alone, and the conversion/inspection calls
 * the tools are built on. */
static int text_and_file_calls(const char* model_path) {
    int32_t ids[5];
    char text[256];
    int len = 0;
    CHECK(strata_tokenize(g_model, "Once upon a time", 1, ids, 5, &len) == STRATA_OK && len == 5,
          "tokenize");
    CHECK(strata_detokenize(g_model, ids, 5, text, sizeof text, &len) == STRATA_OK &&
              strcmp(text, "Once upon a time") == 0 && len == 16,
          "detokenize: '%s' %s", text, strata_errmsg());
    CHECK(strata_detokenize(g_model, ids, 5, text, 4, &len) == STRATA_BUFFER_TOO_SMALL && len == 16,
          "detokenize small buffer");
    const int32_t bad = 100000;
    CHECK(strata_detokenize(g_model, &bad, 1, text, sizeof text, &len) == STRATA_INVALID_ARGUMENT,
          "out-of-range token accepted");
    /* streamed: the same text; <0xE2><0x80><0x94> (an em dash as three byte tokens) held back
     * until the character completes */
    strata_detokenizer* d = NULL;
    CHECK(strata_detokenizer_open(g_model, 1, &d) == STRATA_OK, "detokenizer");
    char streamed[256] = "";
    for (int i = 1; i < 5; i++) {
        const char* piece = NULL;
        CHECK(strata_detokenizer_push(d, ids[i], &piece, &len) == STRATA_OK, "push");
        strncat(streamed, piece, (size_t)len);
    }
    CHECK(strcmp(streamed, "Once upon a time") == 0, "streamed '%s'", streamed);
    const int32_t dash[3] = {0xE2 + 3, 0x80 + 3, 0x94 + 3}; /* llama2.c: byte b is token b + 3 */
    const char* piece = NULL;
    CHECK(strata_detokenizer_push(d, dash[0], &piece, &len) == STRATA_OK && len == 0, "held 1");
    CHECK(strata_detokenizer_push(d, dash[1], &piece, &len) == STRATA_OK && len == 0, "held 2");
    CHECK(strata_detokenizer_push(d, dash[2], &piece, &len) == STRATA_OK && len == 3 &&
              memcmp(piece, "\xE2\x80\x94", 3) == 0,
          "completed character: %d bytes", len);
    CHECK(strata_detokenizer_push(d, dash[0], &piece, &len) == STRATA_OK && len == 0, "held 3");
    CHECK(strata_detokenizer_flush(d, &piece, &len) == STRATA_OK && len == 3 &&
              memcmp(piece, "\xEF\xBF\xBD", 3) == 0,
          "an incomplete character flushes as U+FFFD (%d bytes)", len);
    strata_detokenizer_close(d);
    CHECK(strata_token_find(g_model, "<s>") == 1 && strata_token_find(g_model, "<nope>") == -1,
          "token_find");

    /* chat templates: stories260K has none (completion mode); a named one still renders */
    CHECK(strata_chat_template(g_model) == NULL, "a base model has no template");
    CHECK(strstr(strata_chat_template_names(), "chatml") != NULL, "names");
    const strata_chat_message msgs[2] = {{"system", "Be brief."}, {"user", "Hi"}};
    CHECK(strata_chat_apply(g_model, "chatml", msgs, 2, 1, text, sizeof text, &len) == STRATA_OK,
          "chat_apply: %s", strata_errmsg());
    CHECK(strcmp(text, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                       "<|im_start|>assistant\n") == 0,
          "chatml: '%s'", text);
    CHECK(strata_chat_apply(g_model, NULL, msgs, 2, 1, text, sizeof text, &len) ==
              STRATA_NOT_SUPPORTED,
          "no template, no name");
    CHECK(strata_chat_apply(g_model, "jinja-of-my-own", msgs, 2, 1, text, sizeof text, &len) ==
                  STRATA_ERROR &&
              strstr(strata_errmsg(), "is not one of"),
          "unknown template name: %s", strata_errmsg());
    int32_t end = 0;
    CHECK(strata_chat_turn_end(g_model, "chatml", &end) == STRATA_OK && end == -1,
          "<|im_end|> is not in this vocabulary: %d", end);

    /* the vocabulary alone: tokenizes as the model does; sessions refuse it */
    strata_model* vocab = NULL;
    CHECK(strata_vocab_open(model_path, &vocab) == STRATA_OK, "vocab: %s", strata_errmsg());
    int32_t got[8];
    int n = 0;
    CHECK(strata_tokenize(vocab, "Once upon a time", 1, got, 8, &n) == STRATA_OK && n == 5 &&
              memcmp(got, ids, sizeof ids) == 0,
          "vocab tokenize");
    strata_model_info vi;
    CHECK(strata_model_info_get(vocab, &vi) == STRATA_OK && vi.n_vocab == 512 && vi.bos == 1 &&
              strcmp(vi.architecture, "vocabulary") == 0 && vi.n_layer == 0,
          "vocab info");
    strata_session* vs = NULL;
    CHECK(strata_session_open(vocab, NULL, &vs) == STRATA_INVALID_ARGUMENT && vs == NULL &&
              strstr(strata_errmsg(), "only a vocabulary"),
          "session on a vocabulary: %s", strata_errmsg());
    strata_model_close(vocab);
    CHECK(strata_vocab_open("/nonexistent.json", &vocab) != STRATA_OK && vocab == NULL,
          "missing vocabulary");

    /* files: describe, verify, convert */
    strata_model_info info;
    CHECK(strata_model_info_get(g_model, &info) == STRATA_OK && info.file_bytes > 0 &&
              info.weight_bytes_per_token > 0 && info.weight_bytes_per_token < info.file_bytes &&
              info.synthetic == 0,
          "file/weight bytes %lld %lld", (long long)info.file_bytes,
          (long long)info.weight_bytes_per_token);
    const char* description = NULL;
    CHECK(strata_file_describe(model_path, &description) == STRATA_OK &&
              strstr(description, "architecture:   llama") &&
              strstr(description, "KV bytes/token: 640"),
          "describe: %s", description ? description : strata_errmsg());
    int n_tensors = 0;
    CHECK(strata_file_verify(model_path, &n_tensors) == STRATA_OK && n_tensors > 0, "verify: %s",
          strata_errmsg());
    CHECK(strata_file_verify("/nonexistent.strata", NULL) != STRATA_OK, "verify missing");
    CHECK(strlen(strata_kernels()) > 0, "kernels");
    double gbps = 0, gflops = 0;
    CHECK(strata_roofline(NULL, 1, &gbps, &gflops) == STRATA_INVALID_ARGUMENT, "roofline NULL");

    char out[64];
    snprintf(out, sizeof out, "/tmp/strata-c-test-%d.strata", (int)getpid());
    strata_convert_options co;
    strata_convert_options_init(&co);
    co.type = "q8_0";
    co.layers = 1;
    co.progress = count_progress;
    strata_convert_report report;
    CHECK(strata_convert_synthetic("test-tiny", out, &co, &report) == STRATA_OK, "synthetic: %s",
          strata_errmsg());
    CHECK(strstr(report.tensor_types, "q8_0") && report.n_params > 0 && progress_calls > 0,
          "report: %s, %d progress calls", report.tensor_types, progress_calls);
    CHECK(strata_file_verify(out, NULL) == STRATA_OK, "verify synthetic: %s", strata_errmsg());
    strata_model* syn = NULL;
    CHECK(strata_model_open(out, &syn) == STRATA_OK, "open synthetic");
    CHECK(strata_model_info_get(syn, &info) == STRATA_OK && info.synthetic == 1 &&
              info.n_layer == 1,
          "synthetic info");
    strata_model_close(syn);
    /* the 7 matrices of the layer and the output interleaved, the embedding not */
    CHECK(report.n_interleaved == 8, "q8_0 interleaved: %d", (int)report.n_interleaved);
    co.type = "q4_0";
    CHECK(strata_convert_synthetic("test-tiny", out, &co, &report) == STRATA_OK &&
              report.n_interleaved == 8,
          "q4_0 interleaved: %d (%s)", (int)report.n_interleaved, strata_errmsg());
    co.row_major = 1;
    CHECK(strata_convert_synthetic("test-tiny", out, &co, &report) == STRATA_OK &&
              report.n_interleaved == 0,
          "q4_0 row-major: %d", (int)report.n_interleaved);
    { /* a dry run plans the file just written (same options) and writes nothing */
        struct stat st;
        CHECK(stat(out, &st) == 0, "stat %s", out);
        char planned_out[80];
        snprintf(planned_out, sizeof planned_out, "%s.never", out);
        co.dry_run = 1;
        CHECK(strata_convert_synthetic("test-tiny", planned_out, &co, &report) == STRATA_OK &&
                  report.file_bytes == (int64_t)st.st_size && report.n_layers == 1 &&
                  report.n_kv_layers == 1,
              "dry run: %lld bytes planned, %lld written (%s)", (long long)report.file_bytes,
              (long long)st.st_size, strata_errmsg());
        CHECK(access(planned_out, F_OK) != 0, "a dry run wrote %s", planned_out);
        co.dry_run = 0;
    }
    co.row_major = 0;
    CHECK(strstr(strata_convert_types(), "q4_k_m") != NULL, "types: %s", strata_convert_types());
    CHECK(strstr(strata_interleave8_types(), "q4_0") != NULL &&
              strstr(strata_interleave8_types(), "q6_k") != NULL &&
              strstr(strata_interleave8_types(), "f16") == NULL,
          "interleave8 types: %s", strata_interleave8_types());
    CHECK(strstr(strata_synthetic_shapes(), "gemma-3-1b") != NULL &&
              strstr(strata_synthetic_shapes(), "olmoe-1b-7b") != NULL,
          "shapes: %s", strata_synthetic_shapes());
    co.type = "iq2_xxs"; /* a GGUF type strata refuses */
    CHECK(strata_convert_synthetic("test-tiny", out, &co, NULL) == STRATA_INVALID_ARGUMENT &&
              strstr(strata_errmsg(), "iq2_xxs"),
          "bad type: %s", strata_errmsg());
    CHECK(strata_file_verify(out, NULL) == STRATA_OK, "a refused conversion replaced the file");
    co.type = NULL;
    CHECK(strata_convert_synthetic("gpt-5", out, &co, NULL) != STRATA_OK &&
              strstr(strata_errmsg(), "gpt-5"),
          "unknown shape: %s", strata_errmsg());
    CHECK(strata_convert("/nonexistent-dir", out, &co, NULL) != STRATA_OK, "missing source");
    unlink(out);
    return 0;
}

/* Run with STRATA_ISA naming kernels this CPU lacks (run.sh: neon on x86, avx2 on ARM): the
 * library reports it as a status, and the process lives on (it used to exit(2) inside). */
static int missing_isa(const char* dir) {
    const char* isa = getenv("STRATA_ISA");
    CHECK(isa && *isa, "set STRATA_ISA");
    char path[512];
    snprintf(path, sizeof path, "%s/tiny.strata", dir);
    CHECK(strata_convert_synthetic("test-tiny", path, NULL, NULL) == STRATA_OK, "synthetic: %s",
          strata_errmsg());
    strata_model* m = NULL;
    CHECK(strata_model_open(path, &m) == STRATA_OK, "open: %s", strata_errmsg());
    strata_session* s = NULL;
    for (int attempt = 0; attempt < 2; attempt++) { /* the same answer every time */
        CHECK(strata_session_open(m, NULL, &s) == STRATA_NOT_SUPPORTED && s == NULL,
              "session_open with STRATA_ISA=%s: %s", isa, strata_errmsg());
        CHECK(strstr(strata_errmsg(), "STRATA_ISA=") && strstr(strata_errmsg(), isa), "message: %s",
              strata_errmsg());
    }
    CHECK(strata_kernels() == NULL && strstr(strata_errmsg(), isa), "kernels: %s", strata_errmsg());
    strata_model_close(m);
    remove(path);
    printf("STRATA_ISA=%s: STRATA_NOT_SUPPORTED (%s), and the program goes on\n", isa,
           strata_errmsg());
    return 0;
}

static int g_abort_calls, g_abort_after;
static int abort_after(void* user) {
    (void)user;
    return ++g_abort_calls > g_abort_after;
}

/* Status codes: a malformed model, a second writer on one session file, an aborted decode. */
static int statuses(void) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/strata_c_test_%d.strata", (int)getpid());
    FILE* f = fopen(path, "wb");
    CHECK(f != NULL, "cannot write %s", path);
    for (int i = 0; i < 300; i++) fputc("STRATA\0\0"[i % 8], f);
    fclose(f);
    strata_model* bad = NULL;
    CHECK(strata_model_open(path, &bad) == STRATA_FORMAT_ERROR && bad == NULL,
          "a malformed model: %s", strata_errmsg());
    remove(path);

    snprintf(path, sizeof path, "/tmp/strata_c_test_%d.kv", (int)getpid());
    remove(path);
    strata_session_options o;
    strata_session_options_init(&o);
    o.n_ctx = 128;
    o.kv_file = path;
    strata_session *a = NULL, *b = NULL;
    /* KV types come from the type table: a weight-only type is refused, naming the valid ones */
    CHECK(strstr(strata_kv_types(), "q8_0") != NULL && strstr(strata_kv_types(), "q4_k") == NULL,
          "kv types: %s", strata_kv_types());
    CHECK(strata_type_bytes_per_value("q8_0") == 34.0 / 32 &&
              strata_type_bytes_per_value("f16") == 2.0 &&
              strata_type_bytes_per_value("nope") == 0.0,
          "bytes per value");
    o.kv_type = "q4_k";
    CHECK(strata_session_open(g_model, &o, &a) == STRATA_INVALID_ARGUMENT && a == NULL &&
              strstr(strata_errmsg(), "q4_k") && strstr(strata_errmsg(), strata_kv_types()),
          "kv_type q4_k: %s", strata_errmsg());
    o.kv_type = "f16";
    CHECK(strata_session_open(g_model, &o, &a) == STRATA_OK, "kv_file: %s", strata_errmsg());
    CHECK(strata_session_open(g_model, &o, &b) == STRATA_BUSY && b == NULL, "second writer: %s",
          strata_errmsg());
    CHECK(strstr(strata_errmsg(), "is in use by another strata process (pid ") != NULL, "%s",
          strata_errmsg());

    /* a decode of 100 tokens stopped by the abort callback after its first batch (one token; the
       later batches grow with the measured speed, so how many there are depends on the machine) */
    int32_t many[100];
    for (int i = 0; i < 100; i++) many[i] = 3 + i;
    g_abort_calls = 0, g_abort_after = 1;
    CHECK(strata_session_set_abort(a, abort_after, NULL) == STRATA_OK, "set_abort");
    CHECK(strata_decode(a, many, 100) == STRATA_ABORTED, "decode not aborted: %s", strata_errmsg());
    const int kept = strata_n_past(a);
    CHECK(kept > 0 && kept < 100 && strata_logits(a) == NULL, "aborted: kept %d", kept);
    int32_t held[100];
    int n_held = 0;
    CHECK(strata_session_tokens(a, held, 100, &n_held) == STRATA_OK && n_held == kept &&
              memcmp(held, many, sizeof(int32_t) * (size_t)kept) == 0,
          "the kept tokens are not the prefix fed");
    CHECK(strata_session_set_abort(a, NULL, NULL) == STRATA_OK, "unset");
    CHECK(strata_decode(a, many + kept, 100 - kept) == STRATA_OK && strata_n_past(a) == 100 &&
              strata_logits(a) != NULL,
          "continue after abort: %s", strata_errmsg());
    strata_session_close(a);
    CHECK(strata_session_open(g_model, &o, &b) == STRATA_OK && strata_n_past(b) == 100,
          "closed, the file is free and resumes: %s", strata_errmsg());
    strata_session_close(b);
    remove(path);
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 3 && strcmp(argv[1], "--missing-isa") == 0) return missing_isa(argv[2]);
    CHECK(argc == 2, "usage: %s MODEL.strata | --missing-isa DIR", argv[0]);
    CHECK(strcmp(strata_version(), STRATA_VERSION) == 0, "version %s", strata_version());

    strata_model* bad = NULL;
    CHECK(strata_model_open("/nonexistent.strata", &bad) != STRATA_OK && bad == NULL,
          "opened a missing file");
    CHECK(strstr(strata_errmsg(), "cannot open") != NULL, "message: %s", strata_errmsg());

    CHECK(strata_model_open(argv[1], &g_model) == STRATA_OK, "open: %s", strata_errmsg());
    strata_model_info info;
    CHECK(strata_model_info_get(g_model, &info) == STRATA_OK, "info");
    CHECK(info.n_vocab == 512 && info.n_layer == 5 && info.kv_bytes_per_token == 640,
          "info %d %d %lld", info.n_vocab, info.n_layer, (long long)info.kv_bytes_per_token);

    int32_t ids[16];
    int n = 0;
    CHECK(strata_tokenize(g_model, "Once upon a time", 1, ids, 16, &n) == STRATA_OK && n == 5,
          "tokenize");
    CHECK(ids[0] == 1 && ids[1] == 403 && ids[4] == 378, "ids %d %d %d", ids[0], ids[1], ids[4]);
    CHECK(strata_tokenize(g_model, "Once upon a time", 1, ids, 2, &n) == STRATA_BUFFER_TOO_SMALL &&
              n == 5,
          "small buffer");
    char piece[32];
    int len = 0;
    CHECK(strata_token_to_piece(g_model, 403, piece, sizeof piece, &len) == STRATA_OK && len == 5 &&
              memcmp(piece, " Once", 5) == 0,
          "piece");

    /* one session, step by step: decode, logits, sample, kv stats */
    strata_session* s = NULL;
    CHECK(strata_session_open(g_model, NULL, &s) == STRATA_OK, "session: %s", strata_errmsg());
    CHECK(strata_logits(s) == NULL, "logits before decode");
    CHECK(strata_decode(s, ids, 5) == STRATA_OK, "decode: %s", strata_errmsg());
    strata_sampler* greedy = NULL;
    CHECK(strata_sampler_open(NULL, &greedy) == STRATA_OK, "sampler");
    int32_t next = -1;
    CHECK(strata_sample(greedy, s, &next) == STRATA_OK && next == 432,
          "greedy next %d (llama2.c: 432)", next);
    strata_kv_stats kv;
    CHECK(strata_kv_stats_get(s, &kv) == STRATA_OK && kv.n_tokens == 5 &&
              kv.bytes_per_token == 640 && kv.bytes_used == 5 * 640 &&
              strata_kv_bytes_used(s) == kv.bytes_used,
          "kv stats");

    /* fork, save and restore: each copy continues exactly like the original */
    strata_session* f = NULL;
    CHECK(strata_session_fork(s, &f) == STRATA_OK, "fork: %s", strata_errmsg());
    CHECK(strata_kv_stats_get(f, &kv) == STRATA_OK && kv.is_fork == 1 && kv.n_tokens == 5 &&
              kv.bytes_private == 0,
          "fork stats: fork %d tokens %d private %lld", kv.is_fork, kv.n_tokens,
          (long long)kv.bytes_private);
    char path[64];
    snprintf(path, sizeof path, "/tmp/strata_c_test_%d.kv", (int)getpid());
    CHECK(strata_session_save(s, path) == STRATA_OK, "save: %s", strata_errmsg());
    run_result a, b, c;
    memset(&a, 0, sizeof a), memset(&b, 0, sizeof b), memset(&c, 0, sizeof c);
    CHECK(strata_generate(s, NULL, "", 12, collect, &a) == STRATA_OK && a.n == 12, "parent: %s",
          strata_errmsg());
    CHECK(strata_generate(f, NULL, "", 12, collect, &b) == STRATA_OK && b.n == 12, "fork: %s",
          strata_errmsg());
    strata_session* r = NULL;
    CHECK(strata_session_open(g_model, NULL, &r) == STRATA_OK, "session: %s", strata_errmsg());
    CHECK(strata_session_restore(r, path) == STRATA_OK && strata_n_past(r) == 5, "restore: %s",
          strata_errmsg());
    CHECK(strata_generate(r, NULL, "", 12, collect, &c) == STRATA_OK && c.n == 12, "restored: %s",
          strata_errmsg());
    CHECK(a.tokens[0] == 432 && memcmp(a.tokens, b.tokens, sizeof a.tokens) == 0 &&
              memcmp(a.tokens, c.tokens, sizeof a.tokens) == 0,
          "fork/restore continue differently: %d %d %d", a.tokens[0], b.tokens[0], c.tokens[0]);
    CHECK(strata_kv_stats_get(f, &kv) == STRATA_OK && kv.bytes_private > 0,
          "fork wrote nothing privately");
    remove(path);
    CHECK(strata_session_restore(r, path) == STRATA_ERROR && strstr(strata_errmsg(), "not found"),
          "restore missing: %s", strata_errmsg());
    strata_session_close(r);
    strata_session_close(f);

    /* explicit tokenizer flags, per-token logits, truncate and the held tokens */
    int32_t ids2[16];
    int n2 = 0;
    CHECK(strata_tokenize_text(g_model, "Once upon a time", 16, STRATA_TOKENIZE_ADD_SPECIAL, ids2,
                               16, &n2) == STRATA_OK &&
              n2 == 5 && memcmp(ids, ids2, 5 * sizeof(int32_t)) == 0,
          "tokenize_text");
    CHECK(strata_tokenize_text(g_model, "Once upon a time", 16, 0, ids2, 16, &n2) == STRATA_OK &&
              n2 == 4 && ids2[0] == 403,
          "tokenize_text without BOS: %d tokens, first %d", n2, ids2[0]);
    strata_session* p = NULL;
    CHECK(strata_session_open(g_model, NULL, &p) == STRATA_OK, "session: %s", strata_errmsg());
    float* all_logits = malloc(sizeof(float) * 5 * (size_t)info.n_vocab);
    CHECK(all_logits && strata_decode_logits(p, ids, 5, all_logits) == STRATA_OK,
          "decode_logits: %s", strata_errmsg());
    int best = 0;
    for (int v = 1; v < info.n_vocab; v++)
        if (all_logits[4 * info.n_vocab + v] > all_logits[4 * info.n_vocab + best]) best = v;
    CHECK(best == 432, "last row's argmax %d (llama2.c: 432)", best);
    CHECK(memcmp(strata_logits(p), all_logits + 4 * info.n_vocab,
                 sizeof(float) * (size_t)info.n_vocab) == 0,
          "strata_logits is not the last row");
    free(all_logits);
    CHECK(strata_session_truncate(p, 2) == STRATA_OK && strata_n_past(p) == 2 &&
              strata_logits(p) == NULL,
          "truncate");
    int32_t held[8];
    int n_held = 0;
    CHECK(strata_session_tokens(p, held, 8, &n_held) == STRATA_OK && n_held == 2 && held[1] == 403,
          "tokens");
    CHECK(strata_session_tokens(p, held, 1, &n_held) == STRATA_BUFFER_TOO_SMALL && n_held == 2,
          "tokens small");
    strata_session_close(p);
    CHECK(strata_decode(s, NULL, 1) == STRATA_INVALID_ARGUMENT, "NULL tokens accepted");
    CHECK(strata_session_file(s) == NULL, "an in-memory session has no file");
    strata_sampler_close(greedy);
    strata_session_close(s);
    if (text_and_file_calls(argv[1]) != 0) return 1;
    if (statuses() != 0) return 1;

    /* one thread, then four at once on the shared model: identical outputs */
    run_result single;
    memset(&single, 0, sizeof single);
    run(&single);
    CHECK(single.status == STRATA_OK && single.n == N_GEN, "single run: %d %s", single.status,
          strata_errmsg());
    CHECK(strncmp(single.text, ", there was a little girl named Lily.", 37) == 0, "text: %.60s",
          single.text);

    pthread_t threads[4];
    run_result results[4];
    memset(results, 0, sizeof results);
    for (int i = 0; i < 4; i++) pthread_create(&threads[i], NULL, run, &results[i]);
    for (int i = 0; i < 4; i++) pthread_join(threads[i], NULL);
    for (int i = 0; i < 4; i++) {
        CHECK(results[i].status == STRATA_OK, "thread %d status %d", i, results[i].status);
        CHECK(results[i].n == single.n &&
                  memcmp(results[i].tokens, single.tokens, sizeof single.tokens) == 0,
              "thread %d differs from the single-threaded run", i);
    }
    strata_model_close(g_model);
    printf("c api: ok (%d tokens, 4 concurrent sessions identical)\n", single.n);
    return 0;
}
