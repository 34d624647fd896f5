// One generation request as the scheduler runs it, and the channel its output comes back
// through: the HTTP thread that submitted it waits on `cv` for pieces and the end.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

struct GenParams {
    std::vector<int32_t> prompt; // tokens, BOS included where the model wants one
    int max_tokens = -1;         // -1: until the context is full
    float temperature = 1.0f, top_p = 1.0f, min_p = 0.0f;
    int top_k = 0;
    uint64_t seed = 0;
    std::vector<std::string> stop;
    std::vector<int32_t> end_tokens; // end of sequence, end of turn
    int n_probs = -1;                // -1: no logprobs; else this many alternatives per token
};

// One generated token's log-probability and the most likely alternatives.
struct TokenProb {
    std::string token;
    float logprob = 0;
    std::vector<std::pair<std::string, float>> top;
};

// Output for the client: text that is final (stop strings already cut), and the tokens behind it.
struct Piece {
    std::string text;
    std::vector<TokenProb> probs;
};

struct Job {
    GenParams params;
    std::chrono::steady_clock::time_point deadline;
    std::atomic<bool> cancelled{false}; // the client went away

    std::mutex mu;
    std::condition_variable cv;
    std::deque<Piece> pieces; // not yet taken by the HTTP thread
    bool done = false;
    std::string finish_reason; // stop | length
    int error_status = 0;      // non-zero: failed (the HTTP status to answer)
    std::string error_message;
    int prompt_tokens = 0, cached_tokens = 0, completion_tokens = 0;

    void emit(Piece p) {
        std::lock_guard<std::mutex> lock(mu);
        pieces.push_back(std::move(p));
        cv.notify_all();
    }
    void finish(const std::string& reason) {
        std::lock_guard<std::mutex> lock(mu);
        done = true, finish_reason = reason;
        cv.notify_all();
    }
    void fail(int status, const std::string& message) {
        std::lock_guard<std::mutex> lock(mu);
        done = true, error_status = status, error_message = message;
        cv.notify_all();
    }
};
