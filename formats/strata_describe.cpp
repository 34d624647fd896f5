#include "formats/strata_describe.h"

#include "formats/strata_reader.h"

#include <cstdarg>
#include <cstdio>
#include <map>

namespace strata {

namespace {

void append(std::string& out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void append(std::string& out, const char* fmt, ...) {
    va_list a, b;
    va_start(a, fmt);
    va_copy(b, a);
    const int n = std::vsnprintf(nullptr, 0, fmt, a);
    va_end(a);
    const size_t at = out.size();
    out.resize(at + size_t(n) + 1);
    std::vsnprintf(&out[at], size_t(n) + 1, fmt, b);
    va_end(b);
    out.resize(at + size_t(n));
}

// "1.10B", "135.00M"; "591.23 MiB".
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
    if (c.n_kv_layers() == c.n_layer) return "every layer owns its K/V";
    std::string s;
    for (uint32_t l = 0; l < c.n_layer; l++) {
        if (l) s += ' ';
        s += std::to_string(c.kv_source[l]);
    }
    return s;
}

void describe_config(std::string& out, const ModelConfig& c) {
    const uint32_t group = c.n_head / c.n_head_kv;
    append(out, "architecture:   %s%s\n", c.arch.c_str(),
           c.synthetic ? " (synthetic: random weights)" : "");
    append(out, "name:           %s\n", c.name.c_str());
    append(out, "parameters:     %s (%llu)\n", human_count(double(parameter_count(c))).c_str(),
           (unsigned long long)parameter_count(c));
    append(out, "n_vocab %u  n_embd %u  n_layer %u  n_ff %u  n_ctx_train %u\n", c.n_vocab, c.n_embd,
           c.n_layer, c.n_ff, c.n_ctx_train);
    append(out, "attention:      %u query heads, %u KV heads (%s), head_dim %u\n", c.n_head,
           c.n_head_kv,
           c.n_head_kv == 1 ? "MQA"
           : group == 1     ? "MHA"
                            : ("GQA, " + std::to_string(group) + " per group").c_str(),
           c.head_dim);
    append(out, "rope:           theta %g, dim %u, %s%s\n", double(c.rope_theta), c.rope_dim,
           c.rope_style == RopeStyle::NeoX ? "neox (halves)" : "normal (adjacent pairs)",
           c.rope_scaling.type == "none" ? "" : (", scaling " + c.rope_scaling.type).c_str());
    append(out, "norm_eps:       %g\n", double(c.norm_eps));
    std::string f; // the architecture-specific hyperparameters that are set
    auto add = [&](const std::string& s) { f += (f.empty() ? "" : ", ") + s; };
    auto num = [](double v) {
        char b[32];
        std::snprintf(b, sizeof b, "%g", v);
        return std::string(b);
    };
    if (c.rope_freqs) add("rope frequency factors");
    if (c.embd_scale != 1.0f) add("embedding x " + num(c.embd_scale));
    if (c.residual_scale != 1.0f) add("residual x " + num(c.residual_scale));
    if (c.attn_scale > 0) add("attention scale " + num(c.attn_scale));
    if (c.logit_scale != 1.0f) add("logits / " + num(c.logit_scale));
    if (c.attn_softcap > 0) add("attention soft-cap " + num(c.attn_softcap));
    if (c.final_softcap > 0) add("final soft-cap " + num(c.final_softcap));
    uint32_t sliding = 0, no_rope = 0;
    for (uint32_t l = 0; l < c.n_layer; l++) sliding += c.sliding(l), no_rope += !c.has_rope(l);
    if (sliding)
        add("sliding window " + std::to_string(c.sliding_window) + " on " +
            std::to_string(sliding) + " layers" +
            (c.rope_theta_swa > 0 ? " (rope theta " + num(c.rope_theta_swa) + ")" : ""));
    if (no_rope) add(std::to_string(no_rope) + " layers without RoPE");
    if (c.n_expert)
        add(std::to_string(c.n_expert) + " experts, " + std::to_string(c.n_expert_used) +
            " per token (width " + std::to_string(c.n_ff_expert) +
            (c.expert_norm_topk ? ", renormalized; " : "; ") +
            human_count(double(active_parameter_count(c))) + " parameters active)");
    if (!f.empty()) append(out, "features:       %s\n", f.c_str());
    append(out, "output:         %s%s\n",
           c.tied_output ? "tied to token_embd" : "own output.weight",
           c.attn_bias ? "; Q/K/V biases" : "");
    append(out, "kv_source:      %s (%u of %u layers store K/V)\n", kv_source_string(c).c_str(),
           c.n_kv_layers(), c.n_layer);
    append(out, "KV bytes/token: %llu (f16 cache), %llu (q8_0 cache)\n",
           (unsigned long long)c.kv_bytes_per_token(2.0),
           (unsigned long long)c.kv_bytes_per_token(34.0 / 32.0));
    if (c.n_kv_windowed_layers() > 0) // their rings hold the window (+ a batch's rows), no more
        append(out, "KV window:      %u sliding layers keep %u positions: %llu bytes (f16 cache)\n",
               c.n_kv_windowed_layers(), c.sliding_window,
               (unsigned long long)c.kv_window_bytes(2.0));
}

} // namespace

std::string describe_strata_file(const std::string& path) {
    StrataFile f = StrataFile::open(path);
    const TokenizerData& t = f.tokenizer();
    std::string out;
    append(out, "file:           %s (%s, format v%u)\n", path.c_str(),
           human_bytes(double(f.file_bytes())).c_str(), f.version());
    append(out, "source:         %s\n", provenance_from_metadata(f.metadata()).source.c_str());
    describe_config(out, f.config());
    append(out, "tokenizer:      %s, %s, %zu tokens, %zu merges, bos %d eos %d%s\n",
           t.model == "spm" ? "SentencePiece-style BPE (spm)" : "byte-level BPE (bpe)",
           t.model == "spm" ? (t.add_space_prefix ? "space prefix" : "no space prefix")
                            : ("pre-tokenizer " + t.pre).c_str(),
           t.tokens.size(), t.merges.size(), t.bos_id, t.eos_id,
           t.chat_template.empty() ? ", no chat template" : ", chat template");
    std::map<std::string, std::pair<int, uint64_t>> by_type;
    for (const auto& e : f.tensors()) {
        auto& [n, b] = by_type[dtype_name(e.type)];
        n++;
        b += e.bytes;
    }
    append(out, "tensor types:  ");
    for (const auto& [name, nb] : by_type)
        append(out, " %s x%d (%s)", name.c_str(), nb.first, human_bytes(double(nb.second)).c_str());
    append(out, "\n\n%-32s %-6s %-12s %s\n", "tensor", "type", "layout", "shape");
    for (const auto& e : f.tensors())
        append(out, "%-32s %-6s %-12s %s\n", e.name.c_str(), dtype_name(e.type),
               layout_name(e.layout), shape_string(e.shape).c_str());
    return out;
}

} // namespace strata
