// strata's command line, shared by its two modes (one-shot and chat).
#pragma once

#include "runtime/sampler.h"

#include <string>

struct Options {
    std::string model, prompt, kv_file, kv_type = "f16", chat_template, system;
    bool have_prompt = false;
    long n_predict = -1; // -1: one-shot 128, chat until end of turn
    long ctx = 0, threads = 1;
    strata::SamplerOptions sampling;
};

int run_oneshot(const Options& o);
int run_chat(const Options& o);
int run_pull(int argc, char** argv); // strata pull ... (argv[0] is "pull")
