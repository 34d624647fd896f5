// strata-convert: turn Hugging Face, GGUF or llama2.c weights into a `.strata` file; describe
// (--info) or check (--verify) one; write random-weight models of real shapes (--synthetic).
#include "strata.h"
#include "tools/capi_helpers.h"

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

static const char* kUsage = R"(usage:
  strata-convert SRC -o OUT.strata [--type TYPE] [--cla N] [--tokenizer tok.bin] [--row-major]
  strata-convert --synthetic SHAPE -o OUT.strata [--type TYPE] [--layers N] [--kv-heads N] [--cla N] [--seed S]
  strata-convert SRC|--synthetic SHAPE --dry-run [--type TYPE] ...
  strata-convert --info FILE.strata
  strata-convert --verify FILE.strata

SRC is a Hugging Face model directory (config.json + *.safetensors + tokenizer), a .gguf file
(v2/v3), or a llama2.c checkpoint .bin (give its tokenizer with --tokenizer).

options:
  -o, --output PATH   file to write (written to a temporary file, then renamed)
  --type TYPE         weight type for the matrices: f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1
                      iq4_nl q2_k q3_k q4_k q5_k q6_k iq4_xs, or a K-quant mix q3_k_s q3_k_m
                      q3_k_l q4_k_s q4_k_m q5_k_s q5_k_m (its base type, with larger types for
                      the output and for attn_v/ffn_down/attn_output where llama.cpp's mix of
                      that name puts them) (default: keep the source's types; synthetic models:
                      f16). Matrices whose rows don't fill 256-value blocks get the type's
                      32-value fallback (q4_k: q4_0, q5_k: q5_1, q6_k: q8_0, q2_k/q3_k/iq4_xs:
                      iq4_nl) where rows are whole 32-value blocks, else a float type; the
                      summary says which.
  --cla N             cross-layer attention: the first layer of each group of N keeps its K/V
                      projections, the others reuse its K/V (KV cache / N). Quality drops unless
                      the model was trained that way.
  --row-major         keep every matrix row-major (GGUF's blocks byte for byte) instead of
                      the interleave8 layout (8 rows' blocks together) that the kernels read
                      fastest, which matrices of most integer types take (listed below; the
                      summary counts the matrices)
  --tokenizer PATH    llama2.c tokenizer .bin (llama2.c checkpoints only)
  --synthetic SHAPE   random weights in a real model's shape (listed below; test-tiny is for
                      tests)
  --layers N          synthetic: override the layer count
  --kv-heads N        synthetic: override the KV head count (1 = MQA)
  --seed S            synthetic: random seed (default 1)
  --dry-run           check the source and plan the file (types, size, parameters, KV bytes)
                      without writing it; -o is optional
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

// The progress bar on stderr (a terminal only), fed by strata_convert's callback.
void progress_bar(void*, int done, int total, int64_t bytes_done, int64_t bytes_total) {
    const int width = 30;
    const double frac = bytes_total ? double(bytes_done) / double(bytes_total) : 1.0;
    const int fill = int(frac * width);
    std::fprintf(stderr, "\r[%.*s%*s] %3d%%  %d/%d tensors  %.1f MiB", fill,
                 "==============================", width - fill, "", int(frac * 100), done, total,
                 double(bytes_done) / (1 << 20));
    if (done == total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
}

int fail_with(const char* what) {
    std::fprintf(stderr, "strata-convert: error: %s\n", what);
    return 1;
}

} // namespace

int main(int argc, char** argv) {
    // A file-size limit (ulimit -f) must be an error we report and clean up after, not a signal
    // that kills us with the temporary file left behind.
    std::signal(SIGXFSZ, SIG_IGN);
    std::string src, out, tokenizer, info, verify, synthetic, type_name;
    strata_convert_options opt;
    strata_convert_options_init(&opt);
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
            std::printf("\nsynthetic shapes: %s\ntypes: %s\ninterleave8 layout: %s\n",
                        strata_synthetic_shapes(), strata_convert_types(),
                        strata_interleave8_types());
            return 0;
        } else if (a == "-o" || a == "--output")
            out = value(i, "-o");
        else if (a == "--type")
            type_name = value(i, "--type");
        else if (a == "--cla")
            opt.cla = int32_t(number(i, "--cla"));
        else if (a == "--row-major")
            opt.row_major = 1;
        else if (a == "--dry-run")
            opt.dry_run = 1;
        else if (a == "--tokenizer")
            tokenizer = value(i, "--tokenizer");
        else if (a == "--info")
            info = value(i, "--info");
        else if (a == "--verify")
            verify = value(i, "--verify");
        else if (a == "--synthetic")
            synthetic = value(i, "--synthetic");
        else if (a == "--layers")
            opt.layers = int32_t(number(i, "--layers"));
        else if (a == "--kv-heads")
            opt.kv_heads = int32_t(number(i, "--kv-heads"));
        else if (a == "--seed")
            opt.seed = uint64_t(number(i, "--seed"));
        else if (a == "-q" || a == "--quiet")
            quiet = true;
        else if (a.size() > 1 && a[0] == '-')
            usage_error("unknown option " + a);
        else if (src.empty())
            src = a;
        else
            usage_error("more than one source given (" + src + ", " + a + ")");
    }
    if (!info.empty()) {
        const char* text = nullptr;
        if (strata_file_describe(info.c_str(), &text) != STRATA_OK)
            return fail_with(strata_errmsg());
        std::fputs(text, stdout);
        return 0;
    }
    if (!verify.empty()) {
        int n = 0;
        if (strata_file_verify(verify.c_str(), &n) != STRATA_OK) {
            std::string problems = strata_errmsg();
            for (size_t at = 0, nl; at < problems.size(); at = nl + 1) {
                nl = problems.find('\n', at);
                if (nl == std::string::npos) nl = problems.size();
                std::fprintf(stderr, "strata-convert: %s\n", problems.substr(at, nl - at).c_str());
            }
            return 1;
        }
        std::printf("%s: OK (%d tensors, structure and checksums verified)\n", verify.c_str(), n);
        return 0;
    }
    if (src.empty() && synthetic.empty()) usage_error("no source given");
    if (!src.empty() && !synthetic.empty())
        usage_error("give either a source or --synthetic, not both");
    if (out.empty() && !opt.dry_run) usage_error("no output given (-o OUT.strata)");
    if (!type_name.empty()) {
        if (!is_convert_type(type_name))
            usage_error("--type " + type_name + " is not one of " + strata_convert_types());
        opt.type = type_name.c_str();
    }
    if (!tokenizer.empty()) opt.tokenizer = tokenizer.c_str();
    if (!quiet && isatty(2)) opt.progress = progress_bar;
    const auto t0 = std::chrono::steady_clock::now();
    strata_convert_report r;
    const int status = synthetic.empty()
                           ? strata_convert(src.c_str(), out.c_str(), &opt, &r)
                           : strata_convert_synthetic(synthetic.c_str(), out.c_str(), &opt, &r);
    if (status != STRATA_OK) return fail_with(strata_errmsg());
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (quiet && !opt.dry_run) return 0;
    const double p = double(r.n_params);
    const bool billions = p >= 1e9;
    if (opt.dry_run)
        std::printf("dry run: would write %s%s%lld bytes (%.1f MiB): %.2f%s parameters, tensors: "
                    "%s; KV %lld bytes/token (f16); %d of %d layers store K/V\n",
                    out.c_str(), out.empty() ? "" : ", ", (long long)r.file_bytes,
                    double(r.file_bytes) / (1 << 20), billions ? p / 1e9 : p / 1e6,
                    billions ? "B" : "M", r.tensor_types, (long long)r.kv_bytes_per_token,
                    int(r.n_kv_layers), int(r.n_layers));
    else
        std::fprintf(stderr,
                     "wrote %s in %.2f s: %.2f%s parameters, tensors: %s; KV %lld bytes/token "
                     "(f16)\n",
                     out.c_str(), secs, billions ? p / 1e9 : p / 1e6, billions ? "B" : "M",
                     r.tensor_types, (long long)r.kv_bytes_per_token);
    if (r.n_interleaved > 0)
        std::fprintf(stderr, "%d matrices in the interleave8 layout (--row-major: none)\n",
                     int(r.n_interleaved));
    if (*r.fallbacks)
        std::fprintf(stderr, "rows that don't fill %s blocks got another type: %s\n",
                     type_name.c_str(), r.fallbacks);
    std::string notes = r.notes;
    for (size_t at = 0, nl; at < notes.size(); at = nl + 1) {
        nl = notes.find('\n', at);
        if (nl == std::string::npos) nl = notes.size();
        std::fprintf(stderr, "note: %s\n", notes.substr(at, nl - at).c_str());
    }
    return 0;
}
