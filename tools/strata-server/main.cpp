// strata-server: an OpenAI-compatible HTTP server over libstrata (docs/server.md).
#include "tools/strata-server/http.h"

#include "tools/capi_helpers.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <unistd.h>

static const char* kUsage = R"(usage: strata-server -m MODEL.strata [options]

An OpenAI-compatible HTTP server: POST /v1/chat/completions and /v1/completions (streaming with
"stream": true), GET /v1/models, /health and /metrics (Prometheus). See docs/server.md.

options:
  -m, --model PATH        model file (.strata)
  --alias NAME            the model's name in the API (default: the file name without .strata)
  --host ADDR             address to listen on (default 127.0.0.1)
  --port N                port (default 8080; 0: any free port, printed at start)
  --parallel N            requests generated at once (default 1)
  --queue N               requests that may wait for a slot; more get 503 (default 4 x parallel)
  --ctx-size N            context per request (default: the model's, at most 4096)
  --threads N             threads (default: all cores)
  --prefill-chunk N       prompt tokens computed per step, so streams keep flowing (default 64)
  --api-key KEY           require "Authorization: Bearer KEY" on /v1/
  --cache-dir DIR         prompt cache: conversations' KV as session files, kept across restarts
                          (default: a temporary folder, removed at exit)
  --cache-size-mb N       disk the prompt cache may take; least recently used files go past it
                          (default 4096)
  --chat-template NAME    override the model's chat template (llama-2 llama-3 chatml ...)
  --kv-type TYPE          KV cache type: f16 (default), q8_0, f32
  --max-body-kb N         largest request body (default 4096)
  --timeout S             a request's generation stops after S seconds (default 600)
  --drain S               on SIGTERM/SIGINT, running requests may finish for S seconds (default 30)
  -h, --help              this text
)";

static int g_signal_pipe[2] = {-1, -1};

static void on_stop_signal(int sig) {
    const char c = char(sig);
    if (::write(g_signal_pipe[1], &c, 1) < 0) {
    }
}

[[noreturn]] static void usage_error(const std::string& m) {
    std::fprintf(stderr, "strata-server: %s\n(see strata-server --help)\n", m.c_str());
    std::exit(2);
}

static ServerOptions parse_args(int argc, char** argv) {
    ServerOptions o;
    o.threads = int(std::max(1u, std::thread::hardware_concurrency()));
    auto value = [&](int& i) -> std::string {
        if (i + 1 >= argc) usage_error(std::string(argv[i]) + " needs a value");
        return argv[++i];
    };
    auto number = [&](int& i, double lo, double hi) {
        const std::string flag = argv[i], v = value(i);
        char* end = nullptr;
        const double x = std::strtod(v.c_str(), &end);
        if (v.empty() || *end || !(x >= lo && x <= hi))
            usage_error(flag + ": '" + v + "' is not a number from " + std::to_string(long(lo)) +
                        " to " + std::to_string(long(hi)));
        return x;
    };
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else if (a == "-m" || a == "--model")
            o.model = value(i);
        else if (a == "--alias")
            o.model_id = value(i);
        else if (a == "--host")
            o.host = value(i);
        else if (a == "--port")
            o.port = int(number(i, 0, 65535));
        else if (a == "--parallel" || a == "-np")
            o.parallel = int(number(i, 1, 256));
        else if (a == "--queue")
            o.queue = int(number(i, 0, 100000));
        else if (a == "--ctx-size" || a == "-c")
            o.ctx_size = int(number(i, 0, 1 << 24));
        else if (a == "--threads" || a == "-t")
            o.threads = int(number(i, 1, 1024));
        else if (a == "--prefill-chunk")
            o.prefill_chunk = int(number(i, 1, 65536));
        else if (a == "--api-key")
            o.api_key = value(i);
        else if (a == "--cache-dir")
            o.cache_dir = value(i);
        else if (a == "--cache-size-mb")
            o.cache_bytes = int64_t(number(i, 0, 1e9)) << 20;
        else if (a == "--chat-template")
            o.chat_template = value(i);
        else if (a == "--kv-type")
            o.kv_type = value(i);
        else if (a == "--max-body-kb")
            o.max_body_bytes = size_t(number(i, 1, 1 << 20)) << 10;
        else if (a == "--timeout")
            o.request_timeout_s = number(i, 0.001, 1e7);
        else if (a == "--drain")
            o.drain_s = number(i, 0, 1e6);
        else
            usage_error("unknown argument " + a);
    }
    if (o.model.empty()) usage_error("no model given (-m MODEL.strata)");
    if (!is_kv_type(o.kv_type))
        usage_error("--kv-type " + o.kv_type + " is not one of " + strata_kv_types());
    if (o.queue == 0) o.queue = 4 * o.parallel;
    if (o.model_id.empty()) o.model_id = std::filesystem::path(o.model).stem().string();
    return o;
}

int main(int argc, char** argv) {
    ServerOptions o = parse_args(argc, argv);
    // A client that hangs up must not kill the server through a write to its socket. SIGTERM
    // and SIGINT write to a pipe that one thread waits on (the libraries' own threads, started
    // before main, would otherwise take them with the default action); that thread drains and
    // stops the server.
    std::signal(SIGPIPE, SIG_IGN);
    if (::pipe(g_signal_pipe) != 0) usage_error("cannot create a pipe");
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    try {
        strata_model* m = nullptr;
        check(strata_model_open(o.model.c_str(), &m));
        std::unique_ptr<strata_model, void (*)(strata_model*)> model_handle(m, strata_model_close);
        strata_model_info info;
        check(strata_model_info_get(m, &info));
        if (o.ctx_size == 0)
            o.ctx_size = std::min(info.n_ctx_train > 0 ? info.n_ctx_train : 4096, 4096);
        ModelText text;
        text.model = m, text.id = o.model_id, text.eos = info.eos, text.n_ctx = o.ctx_size;
        if (!o.chat_template.empty()) {
            const std::string names = std::string(" ") + strata_chat_template_names() + " ";
            if (names.find(" " + o.chat_template + " ") == std::string::npos &&
                o.chat_template != "qwen")
                usage_error("--chat-template " + o.chat_template +
                            " is not one of: " + strata_chat_template_names());
            text.tmpl = o.chat_template;
        } else if (const char* name = strata_chat_template(m)) {
            text.tmpl = name;
        }
        if (!text.tmpl.empty()) check(strata_chat_turn_end(m, text.tmpl.c_str(), &text.turn_end));

        PromptCache cache(m, o.cache_dir, o.ctx_size, o.kv_type, o.threads, o.cache_bytes);
        Metrics metrics;
        auto scheduler = std::make_unique<Scheduler>(m, o, cache, metrics);
        httplib::Server server;
        const size_t workers = size_t(o.parallel + o.queue + 8);
        server.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
        server.set_payload_max_length(o.max_body_bytes);
        server.set_read_timeout(60);
        server.set_write_timeout(60);
        install_routes(server, *scheduler, metrics, text, o);
        int port = o.port;
        if (port == 0)
            port = server.bind_to_any_port(o.host);
        else if (!server.bind_to_port(o.host, port))
            port = -1;
        if (port < 0)
            throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port));
        std::fprintf(stderr,
                     "strata-server: model %s (%s), context %d, %d slot(s), %d thread(s), chat "
                     "template %s, prompt cache %s (%d conversation(s) found)\n",
                     o.model_id.c_str(), info.architecture, o.ctx_size, o.parallel, o.threads,
                     text.tmpl.empty() ? "none (messages joined as plain text)" : text.tmpl.c_str(),
                     cache.dir().c_str(), cache.loaded());
        std::fprintf(stderr, "strata-server: listening on http://%s:%d\n", o.host.c_str(), port);
        std::fflush(stderr);

        std::atomic<bool> signalled{false};
        std::thread signals([&] {
            char sig = 0;
            while (::read(g_signal_pipe[0], &sig, 1) < 0 && errno == EINTR) {
            }
            if (sig == 0) return; // woken by main: the server stopped on its own
            signalled = true;
            std::fprintf(stderr, "strata-server: %s: finishing running requests (at most %.0f s)\n",
                         sig == SIGINT ? "SIGINT" : "SIGTERM", o.drain_s);
            scheduler->drain(o.drain_s);
            server.stop();
        });
        const bool listened = server.listen_after_bind();
        if (!signalled) { // the server stopped on its own: wake the signal thread
            const char zero = 0;
            if (::write(g_signal_pipe[1], &zero, 1) != 1) std::abort();
        }
        if (!listened && !signalled) std::fprintf(stderr, "strata-server: the listener failed\n");
        signals.join();
        scheduler.reset();
        std::fprintf(stderr, "strata-server: stopped\n");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "strata-server: error: %s\n", e.what());
        return 1;
    }
}
