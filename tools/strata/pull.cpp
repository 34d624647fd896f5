// strata pull: downloads a Hugging Face model repository's files (or some of them) into a cache,
// resumably, checking sizes and SHA-256 digests where the hub gives them, then converts them to
// .strata. Honors HF_ENDPOINT, HF_TOKEN and STRATA_CACHE (default ~/.cache/strata).
#include "strata.h"
#include "tools/strata/options.h"
#include "tools/strata/sha256.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <curl/curl.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using json = nlohmann::json;
using strata::sha256_file;

[[noreturn]] static void fail(const std::string& message) { throw std::runtime_error(message); }

static const char* kPullUsage =
    R"(usage: strata pull HF_REPO [--file NAME]... [-o OUT.strata] [--type TYPE] [--tokenizer NAME]

Downloads HF_REPO's files into the cache ($STRATA_CACHE, default ~/.cache/strata), resuming
partial downloads and checking sizes and SHA-256 digests the hub publishes, then converts them
to OUT.strata (default: the cache's REPO/model.strata).
Without --file: the files a Hugging Face model needs (config, safetensors, tokenizer files).
With --file (repeatable): those files, e.g. a .gguf, or a llama2.c .bin with its tokenizer.
Environment: HF_ENDPOINT (default https://huggingface.co), HF_TOKEN (sent as a bearer token).

options:
  --file NAME        fetch this file of the repository (repeatable)
  -o, --output PATH  the converted model (default: REPO/model.strata in the cache)
  --type TYPE        convert to a type or mix strata-convert --type takes (default: the source's)
  --tokenizer NAME   which fetched .bin is the llama2.c tokenizer (default: the one named tok*)
  -h, --help         this text
)";

namespace {

struct RemoteFile {
    std::string name;
    std::optional<uint64_t> size;
    std::string sha256; // empty when the hub gives none
};

struct Http {
    std::string endpoint, token;
};

size_t to_string_cb(char* p, size_t size, size_t n, void* user) {
    static_cast<std::string*>(user)->append(p, size * n);
    return size * n;
}

size_t to_file_cb(char* p, size_t size, size_t n, void* user) {
    return std::fwrite(p, size, n, static_cast<FILE*>(user));
}

struct Progress {
    std::string name;
    uint64_t offset;
    bool tty;
};

int progress_cb(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
    auto* p = static_cast<Progress*>(user);
    if (!p->tty || total <= 0) return 0;
    const double frac = double(now) / double(total);
    const int fill = int(frac * 30);
    std::fprintf(stderr, "\r%-40.40s [%.*s%*s] %3d%% %.1f MiB", p->name.c_str(), fill,
                 "==============================", 30 - fill, "", int(frac * 100),
                 double(p->offset + uint64_t(now)) / (1 << 20));
    return 0;
}

CURL* make_handle(const Http& http, const std::string& url, curl_slist** headers) {
    CURL* c = curl_easy_init();
    if (!c) fail("cannot start libcurl");
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "strata/" STRATA_VERSION_STRING);
    // Without a network, fail in seconds, not minutes: name resolution and the TCP handshake
    // get 10 s (the hub answers in well under one), a stalled transfer 60 s.
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L); // abort a stalled transfer after 60 s
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    *headers = nullptr;
    if (!http.token.empty())
        *headers = curl_slist_append(*headers, ("Authorization: Bearer " + http.token).c_str());
    if (*headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, *headers);
    return c;
}

// Runs a transfer and releases the handle; returns curl's result and the HTTP status.
std::pair<CURLcode, long> perform(CURL* c, curl_slist* headers) {
    const CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return {rc, status};
}

// A failure to reach the server at all (no network, no DNS, a dropped or refused connection),
// as opposed to one during a transfer, which is worth resuming.
bool unreachable(CURLcode rc, long status) {
    return status == 0 && (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY ||
                           rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT);
}

[[noreturn]] void fail_unreachable(const std::string& url, CURLcode rc) {
    fail("cannot reach " + url + " (" + curl_easy_strerror(rc) +
         "): is there a network? strata pull downloads from the Hugging Face hub (or HF_ENDPOINT); "
         "the default model needs none (make chat converts models/stories260K)");
}

std::string http_error(long status) {
    return "HTTP " + std::to_string(status) +
           (status == 401 || status == 403 ? " (a gated or private repository needs HF_TOKEN)"
                                           : "");
}

std::string get_text(const Http& http, const std::string& url) {
    curl_slist* headers;
    CURL* c = make_handle(http, url, &headers);
    std::string body;
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_string_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    const auto [rc, status] = perform(c, headers);
    if (unreachable(rc, status)) fail_unreachable(url, rc);
    if (rc != CURLE_OK)
        fail(url + ": " + (status ? http_error(status) : std::string(curl_easy_strerror(rc))));
    return body;
}

// Downloads `url` to `path`, resuming from `path`.part; checks size and digest; renames into place.
void download(const Http& http, const std::string& url, const RemoteFile& f, const fs::path& path) {
    if (fs::exists(path) && (!f.size || fs::file_size(path) == *f.size)) {
        std::fprintf(stderr, "%s: cached\n", f.name.c_str());
        return;
    }
    fs::create_directories(path.parent_path());
    const fs::path part = path.string() + ".part";
    for (int attempt = 0; attempt < 5; attempt++) {
        uint64_t have = fs::exists(part) ? fs::file_size(part) : 0;
        if (f.size && have > *f.size) fs::remove(part), have = 0;
        if (!f.size || have < *f.size) {
            FILE* out = std::fopen(part.c_str(), "ab");
            if (!out) fail("cannot write " + part.string());
            curl_slist* headers;
            CURL* c = make_handle(http, url, &headers);
            Progress prog{f.name, have, isatty(2) != 0};
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_file_cb);
            curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
            curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, curl_off_t(have));
            curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
            curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
            curl_easy_setopt(c, CURLOPT_XFERINFODATA, &prog);
            const auto [rc, status] = perform(c, headers);
            std::fclose(out);
            if (prog.tty) std::fprintf(stderr, "\n");
            if (rc != CURLE_OK) {
                if (status >= 400 && status != 416) fail(url + ": " + http_error(status));
                if (unreachable(rc, status) && have == fs::file_size(part))
                    fail_unreachable(url, rc); // nothing came: retrying will not help
                std::fprintf(stderr, "%s: interrupted (%s), resuming\n", f.name.c_str(),
                             curl_easy_strerror(rc));
                continue;
            }
        }
        const uint64_t got = fs::file_size(part);
        if (f.size && got != *f.size) {
            std::fprintf(stderr, "%s: %llu of %llu bytes, resuming\n", f.name.c_str(),
                         (unsigned long long)got, (unsigned long long)*f.size);
            continue;
        }
        if (!f.sha256.empty()) {
            const std::string digest = sha256_file(part.string());
            if (digest != f.sha256) {
                fs::remove(part);
                fail(f.name + ": SHA-256 mismatch (got " + digest + ", the hub says " + f.sha256 +
                     "); the download was removed");
            }
        }
        fs::rename(part, path);
        std::fprintf(stderr, "%s: %llu bytes%s\n", f.name.c_str(), (unsigned long long)got,
                     f.sha256.empty() ? "" : ", SHA-256 verified");
        return;
    }
    fail(f.name + ": the download kept failing; run strata pull again to resume it");
}

bool wanted_by_default(const std::string& name) {
    static const std::set<std::string> exact = {"config.json",
                                                "tokenizer.json",
                                                "tokenizer.model",
                                                "tokenizer_config.json",
                                                "model.safetensors.index.json",
                                                "generation_config.json"};
    return exact.count(name) ||
           (name.size() > 12 && name.compare(name.size() - 12, 12, ".safetensors") == 0);
}

} // namespace

int run_pull(int argc, char** argv) {
    std::string repo, out, tokenizer, type_name;
    std::vector<std::string> files;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "strata pull: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "-h" || a == "--help") {
            std::fputs(kPullUsage, stdout);
            return 0;
        } else if (a == "--file")
            files.push_back(value());
        else if (a == "-o" || a == "--output")
            out = value();
        else if (a == "--type")
            type_name = value();
        else if (a == "--tokenizer")
            tokenizer = value();
        else if (a.size() > 1 && a[0] == '-') {
            std::fprintf(stderr, "strata pull: unknown option %s\n", a.c_str());
            return 2;
        } else if (repo.empty())
            repo = a;
        else {
            std::fprintf(stderr, "strata pull: more than one repository given\n");
            return 2;
        }
    }
    if (repo.empty() || repo.find("..") != std::string::npos ||
        repo.find('/') == std::string::npos || repo[0] == '/') {
        std::fprintf(stderr,
                     "strata pull: give a repository as OWNER/NAME (see strata pull --help)\n");
        return 2;
    }
    try {
        strata_convert_options copt;
        strata_convert_options_init(&copt);
        if (!type_name.empty()) {
            if (!is_convert_type(type_name))
                fail("--type " + type_name + " is not one of " + strata_convert_types());
            copt.type = type_name.c_str();
        }
        Http http;
        const char* ep = std::getenv("HF_ENDPOINT");
        http.endpoint = ep && *ep ? ep : "https://huggingface.co";
        while (!http.endpoint.empty() && http.endpoint.back() == '/') http.endpoint.pop_back();
        if (const char* t = std::getenv("HF_TOKEN")) http.token = t;
        fs::path cache;
        if (const char* c = std::getenv("STRATA_CACHE"); c && *c)
            cache = c;
        else if (const char* home = std::getenv("HOME"))
            cache = fs::path(home) / ".cache" / "strata";
        else
            fail("set STRATA_CACHE or HOME for the download cache");
        const fs::path dir = cache / repo;

        curl_global_init(CURL_GLOBAL_DEFAULT);
        const json info = json::parse(
            get_text(http, http.endpoint + "/api/models/" + repo + "?blobs=true"), nullptr, false);
        if (!info.is_object() || !info.contains("siblings") || !info["siblings"].is_array())
            fail(repo + ": the hub's answer has no file list (is this a model repository?)");
        std::vector<RemoteFile> remote;
        for (const json& s : info["siblings"]) {
            if (!s.is_object() || !s.contains("rfilename") || !s["rfilename"].is_string()) continue;
            RemoteFile f;
            f.name = s["rfilename"].get<std::string>();
            if (f.name.find("..") != std::string::npos || f.name.empty() || f.name[0] == '/')
                continue; // never outside the cache
            if (s.contains("size") && s["size"].is_number_unsigned())
                f.size = s["size"].get<uint64_t>();
            if (s.contains("lfs") && s["lfs"].is_object()) {
                if (s["lfs"].contains("sha256") && s["lfs"]["sha256"].is_string())
                    f.sha256 = s["lfs"]["sha256"].get<std::string>();
                if (s["lfs"].contains("size") && s["lfs"]["size"].is_number_unsigned())
                    f.size = s["lfs"]["size"].get<uint64_t>();
            }
            remote.push_back(f);
        }
        std::vector<RemoteFile> chosen;
        for (const auto& f : remote)
            if (files.empty() ? wanted_by_default(f.name)
                              : std::find(files.begin(), files.end(), f.name) != files.end())
                chosen.push_back(f);
        for (const auto& want : files)
            if (std::none_of(chosen.begin(), chosen.end(),
                             [&](const RemoteFile& f) { return f.name == want; }))
                fail(repo + " has no file " + want);
        if (chosen.empty())
            fail(repo + " has no safetensors model files; name the files to fetch with --file");
        for (const auto& f : chosen)
            download(http, http.endpoint + "/" + repo + "/resolve/main/" + f.name, f, dir / f.name);
        curl_global_cleanup();

        // What was fetched decides the importer: a GGUF, a llama2.c checkpoint + tokenizer, or an
        // HF directory.
        std::string source, tok;
        for (const auto& f : chosen) {
            const std::string path = (dir / f.name).string();
            const std::string base = fs::path(f.name).filename().string();
            if (base.size() > 5 && base.compare(base.size() - 5, 5, ".gguf") == 0)
                source = path;
            else if (base.size() > 4 && base.compare(base.size() - 4, 4, ".bin") == 0) {
                if (base.rfind("tok", 0) == 0 || (!tokenizer.empty() && f.name == tokenizer))
                    tok = path;
                else
                    source = path;
            }
        }
        if (source.empty()) source = dir.string();
        if (out.empty()) out = (dir / "model.strata").string();
        if (!tok.empty()) copt.tokenizer = tok.c_str();
        strata_convert_report r;
        if (strata_convert(source.c_str(), out.c_str(), &copt, &r) != STRATA_OK)
            fail(strata_errmsg());
        std::fprintf(stderr, "converted to %s (%lld parameters)\n", out.c_str(),
                     (long long)r.n_params);
        std::printf("%s\n", out.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "strata pull: error: %s\n", e.what());
        return 1;
    }
}
