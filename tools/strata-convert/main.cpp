// strata-convert: turn Hugging Face, GGUF or llama2.c weights into a `.strata` file; describe
// (--info) or check (--verify) one; write random-weight models of real shapes (--synthetic).
#include "formats/convert.h"
#include "formats/error.h"
#include "formats/strata_reader.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <unistd.h>

using namespace strata;

static const char* kUsage = R"(usage:
  strata-convert SRC -o OUT.strata [--type TYPE] [--cla N] [--tokenizer tok.bin]
  strata-convert --synthetic SHAPE -o OUT.strata [--type TYPE] [--layers N] [--kv-heads N] [--cla N] [--seed S]
  strata-convert --info FILE.strata
  strata-convert --verify FILE.strata

SRC is a Hugging Face model directory (config.json + *.safetensors + tokenizer), a .gguf file
(v2/v3), or a llama2.c checkpoint .bin (give its tokenizer with --tokenizer).

options:
  -o, --output PATH   file to write (written to a temporary file, then renamed)
  --type TYPE         weight type for the matrices: f32 f16 bf16 q8_0 q4_0 q4_k q6_k, or q4_k_m
                      (q4_k with q6_k for the output and for attn_v/ffn_down of about a third
                      of the layers, as llama.cpp's Q4_K_M)
                      (default: keep the source's types; synthetic models: f16). Matrices whose
                      rows don't fill the type's blocks get q4_0 (for q4_k) or q8_0 (for q6_k) where
                      rows are whole 32-value blocks, else a float type; the summary says which.
  --cla N             cross-layer attention: the first layer of each group of N keeps its K/V
                      projections, the others reuse its K/V (KV cache / N). Quality drops unless
                      the model was trained that way.
  --tokenizer PATH    llama2.c tokenizer .bin (llama2.c checkpoints only)
  --synthetic SHAPE   random weights in a real model's shape: tinyllama-1.1b llama-3.2-1b
                      smollm-135m qwen2.5-0.5b (test-tiny for tests)
  --layers N          synthetic: override the layer count
  --kv-heads N        synthetic: override the KV head count (1 = MQA)
  --seed S            synthetic: random seed (default 1)
  --info FILE         describe a .strata file: architecture, hyperparameters, kv_source,
                      tensor types, KV bytes per token
  --verify FILE       validate a .strata file and check every checksum
  -q, --quiet         no progress bar or summary
  -h, --help          this text
)";

namespace {

[[noreturn]] void usage_error(const std::string& msg) {
    std::fprintf(stderr, "strata-convert: %s\n(see strata-convert --help)\n", msg.c_str());
    std::exit(2);
}

std::string human_bytes(double b) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) b /= 1024, u++;
    char buf[32];
    std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", b, units[u]);
    return buf;
}

std::string human_count(double n) {
    char buf[32];
    if (n >= 1e9)
        std::snprintf(buf, sizeof buf, "%.2fB", n / 1e9);
    else if (n >= 1e6)
        std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
    else if (n >= 1e3)
        std::snprintf(buf, sizeof buf, "%.2fK", n / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%.0f", n);
    return buf;
}

std::string kv_source_string(const ModelConfig& c) {
    bool all_own = c.n_kv_layers() == c.n_layer;
    if (all_own) return "every layer owns its K/V";
    std::string s;
    for (uint32_t l = 0; l < c.n_layer; l++) {
        if (l) s += ' ';
        s += std::to_string(c.kv_source[l]);
    }
    return s;
}

void print_config(const ModelConfig& c) {
    const uint32_t group = c.n_head / c.n_head_kv;
    std::printf("architecture:   %s%s\n", c.arch.c_str(),
                c.synthetic ? " (synthetic: random weights)" : "");
    std::printf("name:           %s\n", c.name.c_str());
    std::printf("parameters:     %s (%llu)\n", human_count(double(parameter_count(c))).c_str(),
                (unsigned long long)parameter_count(c));
    std::printf("n_vocab %u  n_embd %u  n_layer %u  n_ff %u  n_ctx_train %u\n", c.n_vocab, c.n_embd,
                c.n_layer, c.n_ff, c.n_ctx_train);
    std::printf("attention:      %u query heads, %u KV heads (%s), head_dim %u\n", c.n_head,
                c.n_head_kv,
                c.n_head_kv == 1 ? "MQA"
                : group == 1     ? "MHA"
                                 : ("GQA, " + std::to_string(group) + " per group").c_str(),
                c.head_dim);
    std::printf("rope:           theta %g, dim %u, %s%s\n", double(c.rope_theta), c.rope_dim,
                c.rope_style == RopeStyle::NeoX ? "neox (halves)" : "normal (adjacent pairs)",
                c.rope_scaling.type == "none" ? "" : (", scaling " + c.rope_scaling.type).c_str());
    std::printf("norm_eps:       %g\n", double(c.norm_eps));
    std::printf("output:         %s%s\n",
                c.tied_output ? "tied to token_embd" : "own output.weight",
                c.attn_bias ? "; Q/K/V biases" : "");
    std::printf("kv_source:      %s (%u of %u layers store K/V)\n", kv_source_string(c).c_str(),
                c.n_kv_layers(), c.n_layer);
    std::printf("KV bytes/token: %llu (f16 cache), %llu (q8_0 cache)\n",
                (unsigned long long)c.kv_bytes_per_token(2.0),
                (unsigned long long)c.kv_bytes_per_token(34.0 / 32.0));
}

int cmd_info(const std::string& path) {
    StrataFile f = StrataFile::open(path);
    const TokenizerData& t = f.tokenizer();
    std::printf("file:           %s (%s, format v%u)\n", path.c_str(),
                human_bytes(double(f.file_bytes())).c_str(), f.version());
    std::printf("source:         %s\n", provenance_from_metadata(f.metadata()).source.c_str());
    print_config(f.config());
    std::printf("tokenizer:      %s, %zu tokens, %zu merges, bos %d eos %d%s\n", t.model.c_str(),
                t.tokens.size(), t.merges.size(), t.bos_id, t.eos_id,
                t.chat_template.empty() ? ", no chat template" : ", chat template");
    std::map<std::string, std::pair<int, uint64_t>> by_type;
    for (const auto& e : f.tensors()) {
        auto& [n, b] = by_type[dtype_name(e.type)];
        n++;
        b += e.bytes;
    }
    std::printf("tensor types:  ");
    for (const auto& [name, nb] : by_type)
        std::printf(" %s x%d (%s)", name.c_str(), nb.first, human_bytes(double(nb.second)).c_str());
    std::printf("\n\n%-32s %-6s %s\n", "tensor", "type", "shape");
    for (const auto& e : f.tensors())
        std::printf("%-32s %-6s %s\n", e.name.c_str(), dtype_name(e.type),
                    shape_string(e.shape).c_str());
    return 0;
}

int cmd_verify(const std::string& path) {
    StrataFile f = StrataFile::open(path);
    auto problems = f.verify_checksums();
    for (const auto& p : problems)
        std::fprintf(stderr, "strata-convert: %s: %s\n", path.c_str(), p.c_str());
    if (!problems.empty()) return 1;
    std::printf("%s: OK (%zu tensors, structure and checksums verified)\n", path.c_str(),
                f.tensors().size());
    return 0;
}

struct ProgressBar {
    bool enabled;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    void operator()(size_t done, size_t total, uint64_t bytes_done, uint64_t bytes_total) const {
        if (!enabled) return;
        const int width = 30;
        const double frac = bytes_total ? double(bytes_done) / double(bytes_total) : 1.0;
        const int fill = int(frac * width);
        std::fprintf(stderr, "\r[%.*s%*s] %3d%%  %zu/%zu tensors  %s", fill,
                     "==============================", width - fill, "", int(frac * 100), done,
                     total, human_bytes(double(bytes_done)).c_str());
        if (done == total) std::fprintf(stderr, "\n");
        std::fflush(stderr);
    }
};

} // namespace

int main(int argc, char** argv) {
    // A file-size limit (ulimit -f) must be an error we report and clean up after, not a signal
    // that kills us with the temporary file left behind.
    std::signal(SIGXFSZ, SIG_IGN);
    std::string src, out, tokenizer, info, verify, synthetic, type_name;
    uint32_t cla = 0;
    SyntheticOptions syn;
    bool quiet = false;
    auto number = [&](int& i, const char* flag) -> long long {
        if (i + 1 >= argc) usage_error(std::string(flag) + " needs a value");
        char* end = nullptr;
        const long long v = std::strtoll(argv[++i], &end, 10);
        if (*end || v < 0 || v > (1 << 20))
            usage_error(std::string(flag) + ": '" + argv[i] + "' is not a valid count");
        return v;
    };
    auto value = [&](int& i, const char* flag) -> std::string {
        if (i + 1 >= argc) usage_error(std::string(flag) + " needs a value");
        return argv[++i];
    };
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "-o" || a == "--output")
            out = value(i, "-o");
        else if (a == "--type")
            type_name = value(i, "--type");
        else if (a == "--cla")
            cla = uint32_t(number(i, "--cla"));
        else if (a == "--tokenizer")
            tokenizer = value(i, "--tokenizer");
        else if (a == "--info")
            info = value(i, "--info");
        else if (a == "--verify")
            verify = value(i, "--verify");
        else if (a == "--synthetic")
            synthetic = value(i, "--synthetic");
        else if (a == "--layers")
            syn.layers = int(number(i, "--layers"));
        else if (a == "--kv-heads")
            syn.kv_heads = int(number(i, "--kv-heads"));
        else if (a == "--seed")
            syn.seed = uint64_t(number(i, "--seed"));
        else if (a == "-q" || a == "--quiet")
            quiet = true;
        else if (a.size() > 1 && a[0] == '-')
            usage_error("unknown option " + a);
        else if (src.empty())
            src = a;
        else
            usage_error("more than one source given (" + src + ", " + a + ")");
    }
    try {
        if (!info.empty()) return cmd_info(info);
        if (!verify.empty()) return cmd_verify(verify);
        if (src.empty() && synthetic.empty()) usage_error("no source given");
        if (!src.empty() && !synthetic.empty())
            usage_error("give either a source or --synthetic, not both");
        if (out.empty()) usage_error("no output given (-o OUT.strata)");
        if (cla == 1) cla = 0;
        ConvertOptions opt;
        opt.cla = cla;
        if (type_name == "q4_k_m") {
            opt.type = DType::Q4_K;
            opt.q4_k_m = true;
        } else if (!type_name.empty()) {
            auto t = dtype_from_name(type_name);
            if (!t || *t == DType::Q8_K)
                usage_error("--type " + type_name +
                            " is not one of f32 f16 bf16 q8_0 q4_0 q4_k q6_k q4_k_m");
            opt.type = *t;
        }
        const auto t0 = std::chrono::steady_clock::now();
        ModelSource source;
        if (!synthetic.empty()) {
            syn.shape = synthetic;
            source = make_synthetic(syn);
        } else {
            source = import_model(src, tokenizer);
        }
        ProgressBar bar{!quiet && isatty(2) != 0};
        ConvertReport r = convert_model(source, out, opt, std::ref(bar));
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (quiet) return 0;
        std::map<std::string, int> counts;
        std::string fallbacks;
        for (const auto& t : r.tensors) {
            counts[dtype_name(t.to)]++;
            if (t.fallback)
                fallbacks.append(fallbacks.empty() ? "" : ", ")
                    .append(t.name)
                    .append(" (")
                    .append(dtype_name(t.to))
                    .append(")");
        }
        std::fprintf(stderr, "wrote %s in %.2f s: %s parameters, tensors:", out.c_str(), secs,
                     human_count(double(r.parameters)).c_str());
        for (const auto& [n, c] : counts) std::fprintf(stderr, " %s x%d", n.c_str(), c);
        std::fprintf(stderr, "; KV %llu bytes/token (f16)\n",
                     (unsigned long long)r.config.kv_bytes_per_token(2.0));
        if (!fallbacks.empty())
            std::fprintf(stderr, "rows that don't fill %s blocks got another type: %s\n",
                         type_name.c_str(), fallbacks.c_str());
        for (const auto& n : r.notes) std::fprintf(stderr, "note: %s\n", n.c_str());
        return 0;
    } catch (const Error& e) {
        std::fprintf(stderr, "strata-convert: error: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "strata-convert: error: %s\n", e.what());
        return 1;
    }
}
