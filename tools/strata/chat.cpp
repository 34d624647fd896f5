// Interactive chat: line editing and history (libedit), streaming replies, Ctrl-C to stop a
// reply (a second Ctrl-C exits), slash commands, the model's chat template (or completion mode
// for a base model), and the KV cache reused across turns (only new tokens are computed).
#include "tools/strata/options.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <editline/readline.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

std::atomic<bool> g_generating{false};
std::atomic<int> g_interrupts{0};

// The session's abort callback: a Ctrl-C during a reply stops its prompt's computation too.
int interrupted(void*) { return g_interrupts.load() > 0 ? 1 : 0; }

void on_sigint(int) {
    const int n = ++g_interrupts;
    if (!g_generating || n >= 2) {
        const char msg[] = "\n";
        (void)!write(STDOUT_FILENO, msg, 1);
        _exit(130);
    }
}

const char* kHelp = R"(commands:
  /help            this text
  /reset           forget the conversation (and its KV cache)
  /system TEXT     set the system prompt (starts a new conversation)
  /save FILE       save the conversation as JSON
  /load FILE       load a conversation saved with /save (re-reads it into the cache)
  /stats           model, context and KV cache use, last speeds
  /think on|off    Qwen3, SmolLM3: the model thinks before it answers (the default), or not
                   (the template's enable_thinking=false: its -no-think variant)
  /fork            branch the conversation here and continue in the new branch (the KV cache
                   is shared copy-on-write: nothing is copied or recomputed)
  /branches        list the branches
  /branch N        switch to branch N
  /quit            leave (or Ctrl-D)
A line ending in \ continues on the next line. Ctrl-C stops a reply; a second Ctrl-C exits.
)";

struct Message {
    std::string role, content;
};

struct Chat {
    const Options& o;
    ModelPtr model;
    strata_model_info info{};
    SessionPtr session;
    SamplerPtr sampler;
    std::string tmpl; // the chat template's name; empty: completion mode
    std::vector<Message> messages;
    std::string transcript; // completion mode: everything so far
    std::string system;
    double last_prompt_tps = 0, last_gen_tps = 0;
    int last_prompt_tokens = 0, last_gen_tokens = 0;
    int32_t turn_end = -1;

    // Branches (/fork): the current one's state lives in the fields above; the others here.
    struct Branch {
        SessionPtr session;
        std::vector<Message> messages;
        std::string transcript, system;
    };
    std::vector<Branch> branches{1};
    size_t current = 0;

    explicit Chat(const Options& opts) : o(opts) {}

    strata_kv_stats kv() const {
        strata_kv_stats k;
        check(strata_kv_stats_get(session.get(), &k));
        return k;
    }
    int n_past() const { return strata_n_past(session.get()); }
    std::vector<int32_t> history() const {
        int n = n_past();
        std::vector<int32_t> h(static_cast<size_t>(n));
        check(strata_session_tokens(session.get(), h.data(), n, &n));
        return h;
    }

    void park() { branches[current] = {std::move(session), messages, transcript, system}; }
    void switch_to(size_t i) {
        if (i == current) return;
        park();
        Branch& b = branches[i];
        session = std::move(b.session), messages = b.messages, transcript = b.transcript,
        system = b.system;
        current = i;
    }
    void fork() {
        const size_t from = current;
        strata_session* f = nullptr;
        check(strata_session_fork(session.get(), &f));
        branches.push_back({SessionPtr(f), messages, transcript, system});
        switch_to(branches.size() - 1);
        std::printf("branch %zu: forked from branch %zu at %d tokens; the KV cache is shared "
                    "copy-on-write (/branches, /branch N)\n",
                    current + 1, from + 1, n_past());
    }
    void list_branches() const {
        for (size_t i = 0; i < branches.size(); i++) {
            const strata_session* s = i == current ? session.get() : branches[i].session.get();
            const size_t n_messages = i == current ? messages.size() : branches[i].messages.size();
            strata_kv_stats k;
            check(strata_kv_stats_get(s, &k));
            std::string where = "in memory";
            if (const char* file = strata_session_file(s))
                where = std::string("session file ") + file;
            if (k.is_fork) where += ", forked";
            std::printf("%s %zu: %d tokens, %zu messages, %s", i == current ? "*" : " ", i + 1,
                        k.n_tokens, n_messages, where.c_str());
            if (k.is_fork && k.bytes_private >= 0)
                std::printf(", %.1f KiB of KV copied on write", double(k.bytes_private) / 1024);
            std::printf("\n");
        }
    }

    std::vector<int32_t> tokenize(const std::string& text, int flags) const {
        return ::tokenize(model.get(), text, flags);
    }

    // The whole conversation as tokens: the template's rendering, or the raw transcript.
    std::vector<int32_t> prompt_tokens() const {
        if (tmpl.empty())
            return tokenize(transcript,
                            STRATA_TOKENIZE_ADD_SPECIAL | STRATA_TOKENIZE_PARSE_SPECIAL);
        std::vector<strata_chat_message> all;
        if (!system.empty()) all.push_back({"system", system.c_str()});
        for (const auto& m : messages) all.push_back({m.role.c_str(), m.content.c_str()});
        std::string text(4096, '\0');
        int length = 0;
        int status = strata_chat_apply(model.get(), tmpl.c_str(), all.data(), int(all.size()), 1,
                                       text.data(), int(text.size()), &length);
        if (status == STRATA_BUFFER_TOO_SMALL) {
            text.resize(size_t(length) + 1);
            status = strata_chat_apply(model.get(), tmpl.c_str(), all.data(), int(all.size()), 1,
                                       text.data(), int(text.size()), &length);
        }
        check(status);
        text.resize(size_t(length));
        return tokenize(text, STRATA_TOKENIZE_PARSE_SPECIAL); // the template writes BOS itself
    }

    // Brings the cache to `tokens`: keeps the common prefix, computes only what is new.
    // too_long when they don't fit the context; stopped when Ctrl-C interrupted the computation
    // (the cache is then back to the common prefix, as before this turn).
    enum class Synced { ok, too_long, stopped };
    Synced sync(const std::vector<int32_t>& tokens) {
        const std::vector<int32_t> have = history();
        size_t common = 0;
        while (common < have.size() && common < tokens.size() && have[common] == tokens[common])
            common++;
        if (common == tokens.size() && common > 0) common--; // nothing new: recompute the last
        check(strata_session_truncate(session.get(), int(common))); // drop what diverged
        if (int(tokens.size()) >= kv().n_ctx) return Synced::too_long;
        const auto t0 = std::chrono::steady_clock::now();
        check(strata_session_set_abort(session.get(), interrupted, nullptr));
        const int status =
            strata_decode(session.get(), tokens.data() + common, int(tokens.size() - common));
        if (status == STRATA_ABORTED) { // the turn is dropped whole: forget its computed part
            check(strata_session_truncate(session.get(), int(common)));
            return Synced::stopped;
        }
        check(status);
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        last_prompt_tokens = int(tokens.size() - common);
        last_prompt_tps = last_prompt_tokens / s;
        return Synced::ok;
    }

    // Streams a reply; returns its text.
    std::string reply() {
        strata_detokenizer* d = nullptr;
        check(strata_detokenizer_open(model.get(), history().back(), &d));
        DetokenizerPtr out(d);
        std::string text;
        const char* piece = nullptr;
        int length = 0;
        long n = 0;
        const long limit = o.n_predict < 0 ? long(1) << 30 : o.n_predict;
        const int n_ctx = kv().n_ctx;
        const auto t0 = std::chrono::steady_clock::now();
        bool stopped = false, full = false;
        while (n < limit) {
            if (g_interrupts > 0) {
                stopped = true;
                break;
            }
            int32_t next = -1;
            check(strata_sample(sampler.get(), session.get(), &next));
            if (next == info.eos || next == turn_end) break;
            check(strata_detokenizer_push(out.get(), next, &piece, &length));
            text.append(piece, size_t(length));
            std::fwrite(piece, 1, size_t(length), stdout);
            std::fflush(stdout);
            n++;
            if (n_past() + 1 >= n_ctx) {
                full = true;
                break;
            }
            const int status = strata_decode(session.get(), &next, 1);
            if (status == STRATA_ABORTED) { // Ctrl-C after the check above
                stopped = true;
                break;
            }
            check(status);
        }
        g_generating = false;
        check(strata_detokenizer_flush(out.get(), &piece, &length));
        text.append(piece, size_t(length));
        std::fwrite(piece, 1, size_t(length), stdout);
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        last_gen_tokens = int(n);
        last_gen_tps = n / (s > 0 ? s : 1e-9);
        if (stopped) std::printf(" [stopped]");
        if (full)
            std::printf(
                "\n[the context is full: /reset to start over, or run with a larger --ctx]");
        const bool tty = isatty(STDOUT_FILENO) != 0; // dim the statistics line on a terminal only
        const strata_kv_stats k = kv();
        std::printf("\n%s[%d tokens, %.1f tok/s | prompt %d tokens, %.1f tok/s | KV %d/%d tokens, "
                    "%.1f MiB]%s\n",
                    tty ? "\033[2m" : "", last_gen_tokens, last_gen_tps, last_prompt_tokens,
                    last_prompt_tps, k.n_tokens, k.n_ctx, double(k.bytes_used) / (1 << 20),
                    tty ? "\033[0m" : "");
        return text;
    }

    void stats() const {
        std::printf("model: %s (%s, %d layers, %d/%d heads, %d of %d layers store K/V)\n",
                    o.model.c_str(), info.architecture, info.n_layer, info.n_head, info.n_head_kv,
                    info.n_kv_layers, info.n_layer);
        std::printf("mode: %s\n", tmpl.empty() ? "completion (no chat template)"
                                               : ("chat, template " + tmpl).c_str());
        const strata_kv_stats k = kv();
        std::printf("context: %d of %d tokens used\n", k.n_tokens, k.n_ctx);
        std::printf("KV cache: %lld bytes per token, %.2f MiB used, %.2f MiB mapped\n",
                    (long long)k.bytes_per_token, double(k.bytes_used) / (1 << 20),
                    double(k.bytes_mapped) / (1 << 20));
        std::printf("last reply: %d tokens at %.1f tok/s; prompt %d tokens at %.1f tok/s; kernels "
                    "%s, %ld threads\n",
                    last_gen_tokens, last_gen_tps, last_prompt_tokens, last_prompt_tps,
                    strata_kernels(), o.threads);
    }

    nlohmann::json conversation() const {
        nlohmann::json j = {
            {"system", system}, {"transcript", transcript}, {"messages", nlohmann::json::array()}};
        for (const auto& m : messages)
            j["messages"].push_back({{"role", m.role}, {"content", m.content}});
        return j;
    }

    static void write_replacing(const std::string& path, const std::string& text) {
        const std::string tmp = path + ".tmp";
        std::ofstream(tmp) << text << "\n";
        if (std::rename(tmp.c_str(), path.c_str()) != 0)
            throw std::runtime_error("cannot write " + path);
    }

    void save(const std::string& path) const {
        nlohmann::json j = conversation();
        j["model"] = o.model;
        write_replacing(path, j.dump(2));
        std::printf("saved %zu messages to %s\n", messages.size(), path.c_str());
    }

    // With --kv-file the conversation text is kept beside the cache (FILE.chat.json) so a
    // restart resumes it; the tokens it renders to are already in the file's cache.
    std::string sidecar() const { return o.kv_file.empty() ? "" : o.kv_file + ".chat.json"; }
    void save_quietly() const {
        if (sidecar().empty() || !strata_session_file(session.get())) return; // forks: memory
        try {
            write_replacing(sidecar(), conversation().dump());
        } catch (const std::exception&) {
        }
    }

    void load(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw std::runtime_error("cannot open " + path);
        std::stringstream all;
        all << in.rdbuf();
        nlohmann::json j = nlohmann::json::parse(all.str(), nullptr, false);
        if (!j.is_object() || !j.contains("messages") || !j["messages"].is_array())
            throw std::runtime_error(path + " is not a conversation saved by /save");
        std::vector<Message> loaded;
        for (const auto& m : j["messages"]) {
            if (!m.is_object() || !m.contains("role") || !m.contains("content") ||
                !m["role"].is_string() || !m["content"].is_string())
                throw std::runtime_error(path + ": a message lacks role or content");
            loaded.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
        }
        messages = loaded;
        system =
            j.contains("system") && j["system"].is_string() ? j["system"].get<std::string>() : "";
        transcript = j.contains("transcript") && j["transcript"].is_string()
                         ? j["transcript"].get<std::string>()
                         : "";
        if (path != sidecar()) {
            check(strata_session_reset(session.get()));
            std::printf("loaded %zu messages from %s\n", messages.size(), path.c_str());
        }
    }
};

// Reads one (possibly continued) input; false at end of input.
bool read_input(bool tty, std::string* out) {
    out->clear();
    for (bool first = true;; first = false) {
        std::string line;
        if (tty) {
            char* l = readline(first ? "> " : ". ");
            if (!l) return !first;
            line = l;
            std::free(l);
        } else {
            char buf[4096];
            if (!std::fgets(buf, sizeof buf, stdin)) return !first;
            line = buf;
            while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
        }
        if (!line.empty() && line.back() == '\\') {
            line.pop_back();
            *out += line + "\n";
            continue;
        }
        *out += line;
        return true;
    }
}

} // namespace

int run_chat(const Options& o) {
    Chat chat(o);
    strata_model* m = nullptr;
    check(strata_model_open(o.model.c_str(), &m));
    chat.model.reset(m);
    check(strata_model_info_get(chat.model.get(), &chat.info));
    chat.session = open_session(o, chat.model.get());
    strata_sampler* smp = nullptr;
    check(strata_sampler_open(&o.sampling, &smp));
    chat.sampler.reset(smp);
    chat.system = o.system;
    if (!o.chat_template.empty()) {
        const std::string names = std::string(" ") + strata_chat_template_names() + " ";
        if (names.find(" " + o.chat_template + " ") == std::string::npos &&
            o.chat_template != "qwen")
            throw std::runtime_error("--chat-template " + o.chat_template +
                                     " is not one of: " + strata_chat_template_names());
        chat.tmpl = o.chat_template;
    } else if (const char* name = strata_chat_template(chat.model.get())) {
        chat.tmpl = name;
    }
    if (!chat.tmpl.empty())
        check(strata_chat_turn_end(chat.model.get(), chat.tmpl.c_str(), &chat.turn_end));

    const bool tty = isatty(STDIN_FILENO) != 0;
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, nullptr);
    sigset_t interrupt; // a parent may have left SIGINT blocked: Ctrl-C must reach us
    sigemptyset(&interrupt);
    sigaddset(&interrupt, SIGINT);
    sigprocmask(SIG_UNBLOCK, &interrupt, nullptr);
    std::string history_file;
    if (tty) {
        rl_catch_signals = 0;
        if (const char* home = std::getenv("HOME"))
            history_file = std::string(home) + "/.strata_history";
        if (!history_file.empty()) read_history(history_file.c_str());
    }
    std::printf("strata: %s, %d layers, context %d, kernels %s\n", o.model.c_str(),
                chat.info.n_layer, chat.kv().n_ctx, strata_kernels());
    if (!o.kv_file.empty() && chat.n_past() > 0) {
        if (std::ifstream(chat.sidecar()).good()) chat.load(chat.sidecar());
        std::printf("resumed the session in %s: %d tokens, %zu messages, nothing recomputed\n",
                    o.kv_file.c_str(), chat.n_past(), chat.messages.size());
    }
    if (!chat.tmpl.empty())
        std::printf("chat template: %s. /help for commands, Ctrl-C stops a reply, Ctrl-D leaves.\n",
                    chat.tmpl.c_str());
    else
        std::printf("completion mode: this model has no chat template, so what you type is "
                    "continued as text.\n"
                    "/help for commands, Ctrl-C stops a reply, Ctrl-D leaves.\n");
    std::fflush(stdout);

    std::string input;
    while (read_input(tty, &input)) {
        if (input.empty()) continue;
        if (tty) {
            add_history(input.c_str());
            if (!history_file.empty()) write_history(history_file.c_str());
        }
        try {
            if (input[0] == '/') {
                const size_t sp = input.find(' ');
                const std::string cmd = input.substr(0, sp),
                                  arg = sp == std::string::npos ? "" : input.substr(sp + 1);
                if (cmd == "/help")
                    std::fputs(kHelp, stdout);
                else if (cmd == "/quit" || cmd == "/exit")
                    break;
                else if (cmd == "/reset") {
                    chat.messages.clear(), chat.transcript.clear();
                    check(strata_session_reset(chat.session.get()));
                    std::printf("conversation cleared\n");
                } else if (cmd == "/system") {
                    chat.system = arg, chat.messages.clear();
                    check(strata_session_reset(chat.session.get()));
                    std::printf("system prompt set; new conversation\n");
                } else if (cmd == "/think" && (arg == "on" || arg == "off")) {
                    // the families with a thinking switch have a "-no-think" template too
                    const std::string off = "-no-think",
                                      names = std::string(" ") + strata_chat_template_names() + " ";
                    std::string base = chat.tmpl;
                    if (base.size() > off.size() &&
                        base.compare(base.size() - off.size(), off.size(), off) == 0)
                        base.resize(base.size() - off.size());
                    if (base.empty() || names.find(" " + base + off + " ") == std::string::npos) {
                        std::printf("the chat template %s has no thinking switch\n",
                                    chat.tmpl.empty() ? "(none)" : chat.tmpl.c_str());
                    } else {
                        chat.tmpl = arg == "on" ? base : base + off;
                        std::printf("thinking %s (template %s)\n", arg.c_str(), chat.tmpl.c_str());
                    }
                } else if (cmd == "/stats")
                    chat.stats();
                else if (cmd == "/fork")
                    chat.fork();
                else if (cmd == "/branches")
                    chat.list_branches();
                else if (cmd == "/branch" && !arg.empty()) {
                    char* end = nullptr;
                    const long n = std::strtol(arg.c_str(), &end, 10);
                    if (*end != 0 || n < 1 || size_t(n) > chat.branches.size())
                        std::printf("no branch %s (there are %zu)\n", arg.c_str(),
                                    chat.branches.size());
                    else {
                        chat.switch_to(size_t(n - 1));
                        std::printf("on branch %ld: %d tokens, %zu messages\n", n, chat.n_past(),
                                    chat.messages.size());
                    }
                } else if (cmd == "/save" && !arg.empty())
                    chat.save(arg);
                else if (cmd == "/load" && !arg.empty())
                    chat.load(arg);
                else
                    std::printf("unknown command %s (try /help)\n", input.c_str());
                std::fflush(stdout);
                continue;
            }
            const bool templated = !chat.tmpl.empty();
            const std::string transcript_before = chat.transcript;
            if (templated)
                chat.messages.push_back({"user", input});
            else
                chat.transcript += (chat.transcript.empty() ? "" : "\n") + input;
            g_interrupts = 0;
            g_generating = true; // from here a Ctrl-C stops this turn instead of leaving
            const Chat::Synced synced = chat.sync(chat.prompt_tokens());
            if (synced != Chat::Synced::ok) {
                g_generating = false;
                if (templated)
                    chat.messages.pop_back();
                else
                    chat.transcript = transcript_before;
            }
            if (synced == Chat::Synced::stopped) {
                std::printf("[stopped while reading the prompt: the message was dropped (Up "
                            "brings it back)]\n");
                std::fflush(stdout);
                continue;
            }
            if (synced == Chat::Synced::too_long) {
                std::printf("[that does not fit the context of %d tokens: /reset, or run with a "
                            "larger --ctx]\n",
                            chat.kv().n_ctx);
                continue;
            }
            const std::string answer = chat.reply();
            if (templated)
                chat.messages.push_back({"assistant", answer});
            else
                chat.transcript += answer;
            chat.save_quietly();
        } catch (const std::exception& e) {
            g_generating = false;
            std::printf("error: %s\n", e.what());
        }
        std::fflush(stdout);
    }
    std::printf("\n");
    return 0;
}
