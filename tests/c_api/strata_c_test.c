/* A C program using libstrata as an embedder would: built by a C compiler against the installed
 * library through pkg-config (tests/c_api/run.sh). Four threads each run a session on one
 * shared model; their outputs must equal a single-threaded run's. Exit 0 on success. */
#include <strata.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char** argv) {
    CHECK(argc == 2, "usage: %s MODEL.strata", argv[0]);
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
    CHECK(strata_kv_stats_get(s, &kv) == STRATA_OK && kv.n_tokens == 5 && kv.bytes_per_token == 640,
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
    strata_sampler_close(greedy);
    strata_session_close(s);

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
