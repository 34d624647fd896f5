// strata-server's command line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

struct ServerOptions {
    std::string model;              // -m: the .strata file
    std::string model_id;           // --alias: the name /v1/models reports (default: file stem)
    std::string host = "127.0.0.1"; // --host
    int port = 8080;                // --port
    int parallel = 1;               // --parallel: sequences generated at once (slots)
    int queue = 0;                  // --queue: requests waiting for a slot (0: 4 x parallel)
    int ctx_size = 0;               // --ctx-size: per sequence (0: the model's, at most 4096)
    int threads = 1;                // --threads
    int prefill_chunk = 64;         // --prefill-chunk: prompt tokens per step per sequence
    std::string api_key;            // --api-key
    std::string cache_dir;          // --cache-dir (empty: a temporary folder, removed at exit)
    int64_t cache_bytes = int64_t(4) << 30;  // --cache-size-mb: disk the session files may take
    std::string chat_template;               // --chat-template: override the model's
    std::string kv_type = "f16";             // --kv-type
    size_t max_body_bytes = size_t(4) << 20; // --max-body-kb
    double request_timeout_s = 600;          // --timeout: a request's generation stops after this
    double drain_s = 30; // --drain: on SIGTERM, how long in-flight requests may finish
};
