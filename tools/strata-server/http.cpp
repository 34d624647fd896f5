#include "tools/strata-server/http.h"

#include <chrono>
#include <cstdio>
#include <random>

using json = nlohmann::json;

namespace {

const char* kJson = "application/json";

void send_error(httplib::Response& res, int status, const std::string& message,
                const std::string& param = "", const std::string& code = "") {
    res.status = status;
    res.set_content(error_body(status, message, param, code), kJson);
}

std::string request_id(bool chat) {
    static std::mt19937_64 rng{std::random_device{}()};
    static std::mutex mu;
    std::lock_guard<std::mutex> lock(mu);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)rng());
    return std::string(chat ? "chatcmpl-" : "cmpl-") + buf;
}

long unix_now() {
    return long(std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count());
}

std::string sse(const std::string& data) { return "data: " + data + "\n\n"; }

// The endpoint name for metrics: a known route, else "other" (no unbounded label values).
std::string endpoint(const std::string& path) {
    for (const char* known :
         {"/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics"})
        if (path == known) return known;
    return path.rfind("/v1/models/", 0) == 0 ? "/v1/models" : "other";
}

void generate(const httplib::Request& req, httplib::Response& res, bool chat, Scheduler& scheduler,
              const ModelText& model, const ServerOptions& options) {
    auto parsed = std::make_shared<ParsedRequest>();
    try {
        *parsed = parse_request(req.body, chat, model);
    } catch (const ApiError& e) {
        return send_error(res, e.status, e.what(), e.param, e.code);
    }
    auto job = std::make_shared<Job>();
    job->params = parsed->params;
    job->deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(options.request_timeout_s));
    switch (scheduler.submit(job)) {
    case Scheduler::Submit::Accepted:
        break;
    case Scheduler::Submit::QueueFull:
        res.set_header("Retry-After", "1");
        return send_error(res, 503, "the server is busy: every slot and queue place is taken", "",
                          "queue_full");
    case Scheduler::Submit::ShuttingDown:
        res.set_header("Retry-After", "5");
        return send_error(res, 503, "the server is shutting down", "", "shutting_down");
    }
    const std::string id = request_id(chat);
    const long created = unix_now();
    if (!parsed->stream) {
        std::string text;
        std::vector<TokenProb> probs;
        std::unique_lock<std::mutex> lock(job->mu);
        for (;;) {
            job->cv.wait(lock, [&] { return job->done || !job->pieces.empty(); });
            for (Piece& p : job->pieces) {
                text += p.text;
                for (TokenProb& tp : p.probs) probs.push_back(std::move(tp));
            }
            job->pieces.clear();
            if (job->done) break;
        }
        if (job->error_status)
            return send_error(res, job->error_status == 499 ? 500 : job->error_status,
                              job->error_message);
        res.set_content(dump(reply_json(*parsed, model, id, created, text, probs, *job)), kJson);
        return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no"); // a proxy in front should not buffer the stream
    auto first = std::make_shared<bool>(true);
    auto idle_since =
        std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
    res.set_chunked_content_provider(
        "text/event-stream",
        [job, parsed, first, idle_since, id, created, &model](size_t, httplib::DataSink& sink) {
            std::deque<Piece> pieces;
            bool done;
            {
                std::unique_lock<std::mutex> lock(job->mu);
                job->cv.wait_for(lock, std::chrono::milliseconds(200),
                                 [&] { return job->done || !job->pieces.empty(); });
                pieces.swap(job->pieces);
                done = job->done;
            }
            std::string out;
            for (const Piece& p : pieces) {
                out += sse(dump(chunk_json(*parsed, model, id, created, &p, nullptr, *first)));
                *first = false;
            }
            const auto now = std::chrono::steady_clock::now();
            if (out.empty() && !done) {
                // nothing to say for a while (a long prompt): a comment finds a client gone
                if (now - *idle_since < std::chrono::seconds(1)) return true;
                out = ": waiting\n\n";
            }
            *idle_since = now;
            if (done) {
                if (job->error_status) {
                    out += sse(error_body(job->error_status, job->error_message));
                } else {
                    if (*first && parsed->chat) { // the role, even when nothing was generated
                        Piece empty;
                        out += sse(
                            dump(chunk_json(*parsed, model, id, created, &empty, nullptr, true)));
                    }
                    out += sse(dump(chunk_json(*parsed, model, id, created, nullptr,
                                               &job->finish_reason, false)));
                    if (parsed->include_usage) {
                        json usage =
                            chunk_json(*parsed, model, id, created, nullptr, nullptr, false);
                        usage["choices"] = json::array();
                        usage["usage"] = usage_json(*job);
                        out += sse(dump(usage));
                    }
                }
                out += "data: [DONE]\n\n";
            }
            if (!sink.write(out.data(), out.size())) return false; // the client went away
            if (done) sink.done();
            return true;
        },
        [job](bool success) {
            if (!success || !job->done) job->cancelled = true; // frees its slot at the next step
        });
}

} // namespace

void install_routes(httplib::Server& server, Scheduler& scheduler, Metrics& metrics,
                    const ModelText& model, const ServerOptions& options) {
    server.set_pre_routing_handler([&options](const httplib::Request& req, httplib::Response& res) {
        if (options.api_key.empty() || req.path.rfind("/v1/", 0) != 0)
            return httplib::Server::HandlerResponse::Unhandled;
        if (req.get_header_value("Authorization") == "Bearer " + options.api_key)
            return httplib::Server::HandlerResponse::Unhandled;
        send_error(res, 401,
                   req.has_header("Authorization")
                       ? "Incorrect API key provided"
                       : "You didn't provide an API key (Authorization: Bearer KEY)",
                   "", "invalid_api_key");
        return httplib::Server::HandlerResponse::Handled;
    });
    // Statuses the library answers itself (unknown route, body too large) get an error body too.
    server.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
            std::string message = "HTTP " + std::to_string(res.status);
            if (res.status == 404) message = "no such endpoint: " + req.method + " " + req.path;
            if (res.status == 413) message = "the request body is too large";
            if (res.status == 405) message = "method not allowed";
            if (res.status == 400) message = "malformed HTTP request";
            res.set_content(error_body(res.status, message), kJson);
            return httplib::Server::HandlerResponse::Handled;
        }));
    server.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
            std::string message = "internal error";
            try {
                std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                message = e.what();
            } catch (...) {
            }
            send_error(res, 500, message);
        });
    server.set_logger([&metrics](const httplib::Request& req, const httplib::Response& res) {
        metrics.count_request(endpoint(req.path), res.status);
    });
    server.Get("/health", [&scheduler](const httplib::Request&, httplib::Response& res) {
        const SchedulerGauges g = scheduler.gauges();
        res.set_content(dump({{"status", "ok"},
                              {"slots_idle", g.slots - g.active},
                              {"slots_processing", g.active},
                              {"queue_length", g.queue_length}}),
                        kJson);
    });
    server.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
        res.set_content(metrics.render(scheduler.gauges()), "text/plain; version=0.0.4");
    });
    const long started = unix_now();
    auto model_json = [&model, started] {
        return json{{"id", model.id},
                    {"object", "model"},
                    {"created", started},
                    {"owned_by", "strata"},
                    {"context_length", model.n_ctx}};
    };
    server.Get("/v1/models", [model_json](const httplib::Request&, httplib::Response& res) {
        res.set_content(dump({{"object", "list"}, {"data", json::array({model_json()})}}), kJson);
    });
    server.Get(R"(/v1/models/(.+))", [model_json, &model](const httplib::Request& req,
                                                          httplib::Response& res) {
        if (req.matches[1] != model.id)
            return send_error(res, 404,
                              "The model '" + std::string(req.matches[1]) + "' does not exist",
                              "model", "model_not_found");
        res.set_content(dump(model_json()), kJson);
    });
    server.Post("/v1/chat/completions", [&](const httplib::Request& req, httplib::Response& res) {
        generate(req, res, true, scheduler, model, options);
    });
    server.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
        generate(req, res, false, scheduler, model, options);
    });
}
