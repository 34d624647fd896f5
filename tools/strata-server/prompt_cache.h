// The prompt cache: finished conversations as session files (their tokens and K/V rows) in one
// folder, indexed in memory by their tokens. A request resumes from the file sharing the longest
// prefix with its prompt: the file is opened as a session and forked (its pages mapped
// copy-on-write, nothing copied), the fork truncated to the common prefix and continued in
// memory; when the request ends its session is saved back, to the same file when the prompt
// extended the whole conversation, else to a new one. Files are kept across restarts and the
// least recently used are deleted past a size limit. Used by the scheduler's thread only
// (the totals for /metrics are atomics).
#pragma once

#include "tools/strata-server/handles.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

struct CacheEntry {
    std::vector<int32_t> tokens;
    int64_t disk_bytes = 0;
    int64_t last_used_ns = 0; // the file's mtime (so the order survives a restart)
};

class PromptCache {
  public:
    // `dir` empty: a new temporary folder, removed with the cache.
    PromptCache(strata_model* model, std::string dir, int n_ctx, const std::string& kv_type,
                int threads, int64_t limit_bytes);
    ~PromptCache();
    PromptCache(const PromptCache&) = delete;
    PromptCache& operator=(const PromptCache&) = delete;

    const std::string& dir() const { return dir_; }
    // The entry sharing the longest prefix with `prompt` ("" when none shares a token);
    // *common gets the prefix length.
    std::string best(const std::vector<int32_t>& prompt, size_t* common) const;
    const CacheEntry* entry(const std::string& path) const;
    // A session on the file at `path`, opened once however many requests fork from it (close
    // with release).
    strata_session* acquire(const std::string& path);
    void release(const std::string& path);
    // A path for a new conversation.
    std::string new_path();
    // Saves `session` to `path` (replacing a file there once complete), indexes it and evicts
    // past the limit. False (with a message on stderr) when the save failed.
    bool store(strata_session* session, const std::string& path);

    int files() const { return files_.load(); }
    int64_t bytes() const { return bytes_.load(); }
    int loaded() const { return loaded_; } // entries found at start-up

  private:
    void evict();
    void update_totals();
    strata_model* model_;
    std::string dir_;
    bool temporary_ = false;
    int n_ctx_, threads_;
    std::string kv_type_;
    int64_t limit_bytes_;
    uint64_t next_id_ = 0;
    int loaded_ = 0;
    std::map<std::string, CacheEntry> entries_; // by path
    struct Open {
        SessionPtr session;
        int users = 0;
    };
    std::map<std::string, Open> open_;
    std::atomic<int> files_{0};
    std::atomic<int64_t> bytes_{0};
};
