#include "tools/strata-server/prompt_cache.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

int64_t disk_bytes(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 ? int64_t(st.st_blocks) * 512 : 0;
}

int64_t mtime_ns(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return 0;
    return int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::vector<int32_t> session_tokens(const strata_session* s) {
    std::vector<int32_t> tokens(size_t(strata_n_past(s)));
    int n = 0;
    strata_session_tokens(s, tokens.data(), int(tokens.size()), &n);
    tokens.resize(size_t(n));
    return tokens;
}

} // namespace

PromptCache::PromptCache(strata_model* model, std::string dir, int n_ctx,
                         const std::string& kv_type, int threads, int64_t limit_bytes)
    : model_(model), dir_(std::move(dir)), n_ctx_(n_ctx), threads_(threads), kv_type_(kv_type),
      limit_bytes_(limit_bytes) {
    if (dir_.empty()) {
        std::string tmpl = (fs::temp_directory_path() / "strata-server-XXXXXX").string();
        if (!::mkdtemp(tmpl.data()))
            throw std::runtime_error("cannot create a temporary folder for the prompt cache");
        dir_ = tmpl, temporary_ = true;
    }
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (!fs::is_directory(dir_))
        throw std::runtime_error("--cache-dir " + dir_ + " is not a folder that can be created");
    // Index what an earlier run left: files this model and context can resume from.
    for (const auto& f : fs::directory_iterator(dir_, ec)) {
        const std::string path = f.path().string();
        if (f.path().extension() != ".session") {
            if (path.find(".session.tmp") != std::string::npos) fs::remove(path, ec); // torn save
            continue;
        }
        strata_session_options o;
        strata_session_options_init(&o);
        o.kv_file = path.c_str(), o.kv_type = kv_type_.c_str(), o.n_ctx = 0;
        strata_session* s = nullptr;
        if (strata_session_open(model_, &o, &s) != STRATA_OK) {
            std::fprintf(stderr, "strata-server: prompt cache: skipping %s: %s\n", path.c_str(),
                         strata_errmsg());
            continue;
        }
        strata_kv_stats kv;
        strata_kv_stats_get(s, &kv);
        CacheEntry e;
        e.tokens = session_tokens(s);
        strata_session_close(s);
        if (kv.n_ctx != n_ctx_ || e.tokens.empty()) {
            if (kv.n_ctx != n_ctx_)
                std::fprintf(stderr,
                             "strata-server: prompt cache: skipping %s: its context is %d, this "
                             "server's %d\n",
                             path.c_str(), kv.n_ctx, n_ctx_);
            continue;
        }
        e.disk_bytes = disk_bytes(path);
        e.last_used_ns = mtime_ns(path);
        entries_[path] = std::move(e);
        loaded_++;
    }
    evict();
}

PromptCache::~PromptCache() {
    open_.clear();
    if (temporary_) {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
}

std::string PromptCache::best(const std::vector<int32_t>& prompt, size_t* common) const {
    std::string found;
    *common = 0;
    for (const auto& [path, e] : entries_) {
        const size_t n = std::min(prompt.size(), e.tokens.size());
        size_t c = 0;
        while (c < n && prompt[c] == e.tokens[c]) c++;
        // ties: the most recently used
        if (c > *common ||
            (c == *common && c > 0 && e.last_used_ns > entries_.at(found).last_used_ns))
            *common = c, found = path;
    }
    return found;
}

const CacheEntry* PromptCache::entry(const std::string& path) const {
    auto it = entries_.find(path);
    return it == entries_.end() ? nullptr : &it->second;
}

strata_session* PromptCache::acquire(const std::string& path) {
    Open& o = open_[path];
    if (!o.session) {
        strata_session_options so;
        strata_session_options_init(&so);
        so.kv_file = path.c_str(), so.kv_type = kv_type_.c_str(), so.n_ctx = 0;
        so.n_threads = threads_;
        strata_session* s = nullptr;
        if (strata_session_open(model_, &so, &s) != STRATA_OK) {
            const std::string m = strata_errmsg();
            open_.erase(path);
            entries_.erase(path); // unusable: forget it (the file stays for a person to look at)
            update_totals();
            throw std::runtime_error("prompt cache " + path + ": " + m);
        }
        o.session.reset(s);
    }
    o.users++;
    auto it = entries_.find(path);
    if (it != entries_.end()) it->second.last_used_ns = now_ns();
    ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0); // (the order of use survives a restart)
    return o.session.get();
}

void PromptCache::release(const std::string& path) {
    auto it = open_.find(path);
    if (it != open_.end() && --it->second.users <= 0) open_.erase(it);
}

std::string PromptCache::new_path() {
    return (fs::path(dir_) /
            ("conv-" + std::to_string(now_ns()) + "-" + std::to_string(::getpid()) + "-" +
             std::to_string(next_id_++) + ".session"))
        .string();
}

bool PromptCache::store(strata_session* session, const std::string& path) {
    if (strata_n_past(session) == 0) return false;
    if (strata_session_save(session, path.c_str()) != STRATA_OK) {
        std::fprintf(stderr, "strata-server: prompt cache: cannot save %s: %s\n", path.c_str(),
                     strata_errmsg());
        return false;
    }
    CacheEntry& e = entries_[path];
    e.tokens = session_tokens(session);
    e.disk_bytes = disk_bytes(path);
    e.last_used_ns = now_ns();
    evict();
    return true;
}

void PromptCache::evict() {
    int64_t total = 0;
    for (const auto& [path, e] : entries_) total += e.disk_bytes;
    while (total > limit_bytes_) {
        auto victim = entries_.end();
        for (auto it = entries_.begin(); it != entries_.end(); ++it)
            if (!open_.count(it->first) &&
                (victim == entries_.end() || it->second.last_used_ns < victim->second.last_used_ns))
                victim = it;
        if (victim == entries_.end()) break; // everything left is in use
        std::error_code ec;
        fs::remove(victim->first, ec);
        total -= victim->second.disk_bytes;
        entries_.erase(victim);
    }
    update_totals();
}

void PromptCache::update_totals() {
    int64_t total = 0;
    for (const auto& [path, e] : entries_) total += e.disk_bytes;
    files_ = int(entries_.size());
    bytes_ = total;
}
