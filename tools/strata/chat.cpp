// Interactive chat: line editing and history (libedit), streaming replies, Ctrl-C to stop a
// reply (a second Ctrl-C exits), slash commands, the model's chat template (or completion mode
// for a base model), and the KV cache reused across turns (only new tokens are computed).
#include "formats/error.h"
#include "runtime/chat_template.h"
#include "runtime/session.h"
#include "runtime/tokenizer.h"
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
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

using namespace strata;

namespace {

std::atomic<bool> g_generating{false};
std::atomic<int> g_interrupts{0};

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
  /fork            branch the conversation here and continue in the new branch (the KV cache
                   is shared copy-on-write: nothing is copied or recomputed)
  /branches        list the branches
  /branch N        switch to branch N
  /quit            leave (or Ctrl-D)
A line ending in \ continues on the next line. Ctrl-C stops a reply; a second Ctrl-C exits.
)";

struct Chat {
    const Options& o;
    std::shared_ptr<const Model> model;
    std::unique_ptr<Session> session;
    std::unique_ptr<Tokenizer> tok;
    std::unique_ptr<Sampler> sampler;
    std::optional<ChatFamily> family; // nullopt: completion mode
    std::vector<ChatMessage> messages;
    std::string transcript; // completion mode: everything so far
    std::string system;
    double last_prompt_tps = 0, last_gen_tps = 0;
    int last_prompt_tokens = 0, last_gen_tokens = 0;
    int32_t turn_end = -1;

    // Branches (/fork): the current one's state lives in the fields above; the others here.
    struct Branch {
        std::unique_ptr<Session> session;
        std::vector<ChatMessage> messages;
        std::string transcript, system;
    };
    std::vector<Branch> branches{1};
    size_t current = 0;

    explicit Chat(const Options& opts) : o(opts) {}

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
        branches.push_back({session->fork(), messages, transcript, system});
        switch_to(branches.size() - 1);
        std::printf("branch %zu: forked from branch %zu at %d tokens; the KV cache is shared "
                    "copy-on-write (/branches, /branch N)\n",
                    current + 1, from + 1, session->n_past());
    }
    void list_branches() const {
        for (size_t i = 0; i < branches.size(); i++) {
            const Session& s = i == current ? *session : *branches[i].session;
            const size_t n_messages = i == current ? messages.size() : branches[i].messages.size();
            std::string where = "in memory";
            if (s.file()) where = "session file " + s.file()->path();
            if (s.cache().is_fork()) where += ", forked";
            std::printf("%s %zu: %d tokens, %zu messages, %s", i == current ? "*" : " ", i + 1,
                        s.n_past(), n_messages, where.c_str());
            const int64_t priv = s.cache().private_bytes();
            if (s.cache().is_fork() && priv >= 0)
                std::printf(", %.1f KiB of KV copied on write", double(priv) / 1024);
            std::printf("\n");
        }
    }

    std::string text_of(int32_t id) const {
        return id >= 0 ? model->tokenizer().tokens[size_t(id)] : std::string();
    }

    // The whole conversation as tokens: the template's rendering, or the raw transcript.
    std::vector<int32_t> prompt_tokens() const {
        if (!family) return tok->encode(transcript, true);
        std::vector<ChatMessage> all;
        if (!system.empty()) all.push_back({"system", system});
        all.insert(all.end(), messages.begin(), messages.end());
        const std::string text =
            render_chat(*family, all, true, text_of(tok->bos()), text_of(tok->eos()));
        return tok->encode(text, false); // the template writes BOS itself
    }

    // Brings the cache to `tokens`: keeps the common prefix, computes only what is new.
    const float* sync(const std::vector<int32_t>& tokens) {
        const auto& have = session->history();
        size_t common = 0;
        while (common < have.size() && common < tokens.size() && have[common] == tokens[common])
            common++;
        if (common == tokens.size() && common > 0)
            common--;                   // nothing new: recompute the last token
        session->truncate(int(common)); // drop what diverged
        if (int(tokens.size()) >= session->n_ctx()) return nullptr;
        const auto t0 = std::chrono::steady_clock::now();
        const float* logits = session->decode(tokens.data() + common, int(tokens.size() - common));
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        last_prompt_tokens = int(tokens.size() - common);
        last_prompt_tps = last_prompt_tokens / s;
        return logits;
    }

    // Streams a reply; returns its text.
    std::string reply(const float* logits) {
        const int V = int(model->config().n_vocab);
        StreamDecoder out(*tok, session->history().back());
        std::string text;
        long n = 0;
        const long limit = o.n_predict < 0 ? long(1) << 30 : o.n_predict;
        g_interrupts = 0;
        g_generating = true;
        const auto t0 = std::chrono::steady_clock::now();
        bool stopped = false, full = false;
        while (n < limit) {
            if (g_interrupts > 0) {
                stopped = true;
                break;
            }
            const int32_t next = sampler->sample(logits, V, session->history());
            if (next == tok->eos() || next == turn_end) break;
            const std::string piece = out.push(next);
            text += piece;
            std::fwrite(piece.data(), 1, piece.size(), stdout);
            std::fflush(stdout);
            n++;
            if (session->n_past() + 1 >= session->n_ctx()) {
                full = true;
                break;
            }
            logits = session->decode(&next, 1);
        }
        g_generating = false;
        const std::string rest = out.flush();
        text += rest;
        std::fwrite(rest.data(), 1, rest.size(), stdout);
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        last_gen_tokens = int(n);
        last_gen_tps = n / (s > 0 ? s : 1e-9);
        if (stopped) std::printf(" [stopped]");
        if (full)
            std::printf(
                "\n[the context is full: /reset to start over, or run with a larger --ctx]");
        const bool tty = isatty(STDOUT_FILENO) != 0; // dim the statistics line on a terminal only
        std::printf("\n%s[%d tokens, %.1f tok/s | prompt %d tokens, %.1f tok/s | KV %d/%d tokens, "
                    "%.1f MiB]%s\n",
                    tty ? "\033[2m" : "", last_gen_tokens, last_gen_tps, last_prompt_tokens,
                    last_prompt_tps, session->n_past(), session->n_ctx(),
                    double(session->n_past()) * double(session->cache().bytes_per_token()) /
                        (1 << 20),
                    tty ? "\033[0m" : "");
        return text;
    }

    void stats() const {
        const ModelConfig& c = model->config();
        std::printf("model: %s (%s, %u layers, %u/%u heads, %u of %u layers store K/V)\n",
                    o.model.c_str(), c.arch.c_str(), c.n_layer, c.n_head, c.n_head_kv,
                    c.n_kv_layers(), c.n_layer);
        std::printf("mode: %s\n",
                    family ? (std::string("chat, template ") + chat_family_name(*family)).c_str()
                           : "completion (no chat template)");
        std::printf("context: %d of %d tokens used\n", session->n_past(), session->n_ctx());
        std::printf("KV cache: %zu bytes per token, %.2f MiB used, %.2f MiB mapped\n",
                    session->cache().bytes_per_token(),
                    double(session->n_past()) * double(session->cache().bytes_per_token()) /
                        (1 << 20),
                    double(session->cache().bytes()) / (1 << 20));
        std::printf("last reply: %d tokens at %.1f tok/s; prompt %d tokens at %.1f tok/s; kernels "
                    "%s, %ld threads\n",
                    last_gen_tokens, last_gen_tps, last_prompt_tokens, last_prompt_tps,
                    session->kernels().name, o.threads);
    }

    void save(const std::string& path) const {
        nlohmann::json j = {{"model", o.model},
                            {"system", system},
                            {"transcript", transcript},
                            {"messages", nlohmann::json::array()}};
        for (const auto& m : messages)
            j["messages"].push_back({{"role", m.role}, {"content", m.content}});
        const std::string tmp = path + ".tmp";
        std::ofstream(tmp) << j.dump(2) << "\n";
        if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot write " + path);
        std::printf("saved %zu messages to %s\n", messages.size(), path.c_str());
    }

    // With --kv-file the conversation text is kept beside the cache (FILE.chat.json) so a
    // restart resumes it; the tokens it renders to are already in the file's cache.
    std::string sidecar() const { return o.kv_file.empty() ? "" : o.kv_file + ".chat.json"; }
    void save_quietly() const {
        if (sidecar().empty() || !session->file()) return; // forks live in memory only
        nlohmann::json j = {
            {"system", system}, {"transcript", transcript}, {"messages", nlohmann::json::array()}};
        for (const auto& m : messages)
            j["messages"].push_back({{"role", m.role}, {"content", m.content}});
        const std::string tmp = sidecar() + ".tmp";
        std::ofstream(tmp) << j.dump() << "\n";
        std::rename(tmp.c_str(), sidecar().c_str());
    }

    void load(const std::string& path) {
        nlohmann::json j = nlohmann::json::parse(read_text_file(path), nullptr, false);
        if (!j.is_object() || !j.contains("messages") || !j["messages"].is_array())
            fail(path + " is not a conversation saved by /save");
        std::vector<ChatMessage> loaded;
        for (const auto& m : j["messages"]) {
            if (!m.is_object() || !m.contains("role") || !m.contains("content") ||
                !m["role"].is_string() || !m["content"].is_string())
                fail(path + ": a message lacks role or content");
            loaded.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
        }
        messages = loaded;
        system = j.value("system", "");
        transcript = j.value("transcript", "");
        if (path != sidecar()) {
            session->reset();
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
    chat.model = Model::load(o.model);
    const ModelConfig& c = chat.model->config();
    SessionOptions opt;
    opt.kv_file = o.kv_file;
    opt.n_ctx = int(o.ctx ? o.ctx : o.kv_file.empty() ? std::min<long>(c.n_ctx_train, 4096) : 0);
    opt.n_threads = int(o.threads);
    opt.kv_type = o.kv_type == "q8_0" ? DType::Q8_0 : DType::F16;
    chat.session = std::make_unique<Session>(chat.model, opt);
    chat.tok = std::make_unique<Tokenizer>(chat.model->tokenizer());
    chat.sampler = std::make_unique<Sampler>(o.sampling);
    chat.system = o.system;
    if (!o.chat_template.empty()) {
        chat.family = chat_family_from_name(o.chat_template);
        if (!chat.family) {
            std::string names;
            for (const auto& n : chat_family_names()) names += " " + n;
            fail("--chat-template " + o.chat_template + " is not one of:" + names);
        }
    } else {
        chat.family = detect_chat_family(chat.model->tokenizer().chat_template);
    }
    if (chat.family)
        chat.turn_end = chat.tok->find(chat_turn_end(*chat.family, chat.text_of(chat.tok->eos())));

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
    std::printf("strata: %s, %u layers, context %d, kernels %s\n", o.model.c_str(), c.n_layer,
                chat.session->n_ctx(), chat.session->kernels().name);
    if (!o.kv_file.empty() && chat.session->n_past() > 0) {
        if (std::ifstream(chat.sidecar()).good()) chat.load(chat.sidecar());
        std::printf("resumed the session in %s: %d tokens, %zu messages, nothing recomputed\n",
                    o.kv_file.c_str(), chat.session->n_past(), chat.messages.size());
    }
    if (chat.family)
        std::printf("chat template: %s. /help for commands, Ctrl-C stops a reply, Ctrl-D leaves.\n",
                    chat_family_name(*chat.family));
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
                    chat.messages.clear(), chat.transcript.clear(), chat.session->reset();
                    std::printf("conversation cleared\n");
                } else if (cmd == "/system") {
                    chat.system = arg, chat.messages.clear(), chat.session->reset();
                    std::printf("system prompt set; new conversation\n");
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
                        std::printf("on branch %ld: %d tokens, %zu messages\n", n,
                                    chat.session->n_past(), chat.messages.size());
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
            if (chat.family)
                chat.messages.push_back({"user", input});
            else
                chat.transcript += (chat.transcript.empty() ? "" : "\n") + input;
            const float* logits = chat.sync(chat.prompt_tokens());
            if (!logits) {
                if (chat.family) chat.messages.pop_back();
                std::printf("[that does not fit the context of %d tokens: /reset, or run with a "
                            "larger --ctx]\n",
                            chat.session->n_ctx());
                continue;
            }
            const std::string answer = chat.reply(logits);
            if (chat.family)
                chat.messages.push_back({"assistant", answer});
            else
                chat.transcript += answer;
            chat.save_quietly();
        } catch (const Error& e) {
            g_generating = false;
            std::printf("error: %s\n", e.what());
        }
        std::fflush(stdout);
    }
    std::printf("\n");
    return 0;
}
