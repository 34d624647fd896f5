// llama_teacher_force: llama.cpp's own teacher-forced logits for a zoo file under a variant of
// its settings (KV cache type, threads, how the positions are batched), compared with the
// file's golden logits — how sensitive a fixture is to changes that are not errors. Measurement
// only: built by hand against the llama.cpp that ../shared/tools/llama-reference.sh builds, never
// part of strata's build.
//
//   L=/tmp/llama-ref; g++ -O2 -std=c++17 tools/strata-bench/llama_teacher_force.cpp
//       -I$L/src/include -I$L/src/ggml/include -L$L/build/bin -lllama -lggml -lggml-base
//       -Wl,-rpath,$L/build/bin -o /tmp/llama_teacher_force           (one command line)
//   Z=../shared/fixtures/zoo/gemma3n-q8_0
//   /tmp/llama_teacher_force $Z.gguf $Z.prompt1.positions $Z.prompt1.logits.bin f16|f32 THREADS
//   FIRST [OUT]
//
// With OUT, its own logits are written there in the golden's format (per position: int32
// position, token, n_vocab, then the floats): goldens for a variant of a zoo file, e.g. its F16
// requantization (`llama-quantize --allow-requantize X-q8_0.gguf X-f16.gguf F16`).
//
// FIRST positions go in one batch, the rest one at a time (34 reproduces the zoo goldens:
// BOS and the prompt, then the continuation); 0 puts every position in one batch.
#include "llama.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 7 && argc != 8) {
        std::fprintf(stderr, "usage: %s MODEL POSITIONS GOLDEN f16|f32 THREADS FIRST [OUT]\n",
                     argv[0]);
        return 2;
    }
    std::vector<llama_token> toks;
    {
        std::ifstream f(argv[2]);
        for (int t; f >> t;) toks.push_back(t);
    }
    std::vector<std::vector<float>> gold;
    {
        std::ifstream f(argv[3], std::ios::binary);
        for (int32_t h[3]; f.read(reinterpret_cast<char*>(h), sizeof h);) {
            gold.emplace_back(size_t(h[2]));
            f.read(reinterpret_cast<char*>(gold.back().data()), std::streamsize(4 * h[2]));
        }
    }
    const bool f32 = std::string(argv[4]) == "f32";
    const int threads = std::atoi(argv[5]);
    const int first = toks.empty() ? 0 : std::min(int(toks.size()), std::atoi(argv[6]));
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    llama_model* model = llama_model_load_from_file(argv[1], mp);
    if (!model) return 1;
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = cp.n_batch = cp.n_ubatch = 512;
    cp.n_threads = cp.n_threads_batch = threads;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.type_k = cp.type_v = f32 ? GGML_TYPE_F32 : GGML_TYPE_F16;
    llama_context* ctx = llama_init_from_model(model, cp);
    const int V = llama_vocab_n_tokens(llama_model_get_vocab(model));
    std::vector<std::vector<float>> out;
    auto decode = [&](int from, int n) {
        llama_batch b = llama_batch_init(n, 0, 1);
        for (int i = 0; i < n; i++) {
            b.token[i] = toks[size_t(from + i)], b.pos[i] = from + i;
            b.n_seq_id[i] = 1, b.seq_id[i][0] = 0, b.logits[i] = 1;
        }
        b.n_tokens = n;
        if (llama_decode(ctx, b)) std::exit(1);
        for (int i = 0; i < n; i++) {
            const float* l = llama_get_logits_ith(ctx, i);
            out.emplace_back(l, l + V);
        }
        llama_batch_free(b);
    };
    const int head = first > 0 ? first : int(toks.size());
    decode(0, head);
    for (int p = head; p < int(toks.size()); p++) decode(p, 1);
    if (argc == 8) {
        std::ofstream f(argv[7], std::ios::binary);
        for (size_t p = 0; p < out.size(); p++) {
            const int32_t h[3] = {int32_t(p), toks[p], V};
            f.write(reinterpret_cast<const char*>(h), sizeof h);
            f.write(reinterpret_cast<const char*>(out[p].data()), std::streamsize(4 * V));
        }
        if (!f) return 1;
    }
    double s = 0, ss = 0, n = 0, max_all = 0, max0 = 0;
    for (const auto& g : gold)
        for (float x : g) s += x, ss += double(x) * x, n++;
    const double sd = std::sqrt(ss / n - (s / n) * (s / n));
    for (size_t p = 0; p < out.size() && p < gold.size(); p++)
        for (int i = 0; i < V; i++) {
            const double d = std::fabs(out[p][size_t(i)] - gold[p][size_t(i)]);
            max_all = std::max(max_all, d);
            if (p == 0) max0 = std::max(max0, d);
        }
    std::printf("kv %s, %d threads, first batch %d: max |dlogit| %.4f = %.2f%% of the golden std "
                "%.3f (position 0: %.4f)\n",
                argv[4], threads, head, max_all, 100 * max_all / sd, sd, max0);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
