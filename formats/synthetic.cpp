// Random-weight models in the shapes of real ones, for benchmarks and tests. Weights are drawn
// directly in the target type (random quant blocks with plausible scales), so a 1B model is
// written in seconds. The metadata marks them synthetic.
#include "core/error.h"
#include "core/half.h"
#include "formats/arch.h"
#include "formats/model_source.h"
#include "core/quant_blocks.h"
#include "core/quantize_ref.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace strata {

namespace {

struct Shape {
    const char* name;
    const char* arch;
    uint32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx;
    float rope_theta, norm_eps;
    bool tied;
    uint32_t head_dim = 0;                    // 0: n_embd / n_head
    uint32_t n_expert = 0, n_expert_used = 0; // mixture of experts (each expert n_ff wide)
};

const Shape kShapes[] = {
    {"tinyllama-1.1b", "llama", 32000, 2048, 22, 32, 4, 5632, 2048, 10000.0f, 1e-5f, false},
    {"llama-3.2-1b", "llama", 128256, 2048, 16, 32, 8, 8192, 131072, 500000.0f, 1e-5f, true},
    {"smollm-135m", "llama", 49152, 576, 30, 9, 3, 1536, 2048, 10000.0f, 1e-5f, true},
    {"qwen2.5-0.5b", "qwen2", 151936, 896, 24, 14, 2, 4864, 32768, 1000000.0f, 1e-6f, true},
    // window 512 and period 6: gemma3's defaults
    {"gemma-3-1b", "gemma3", 262144, 1152, 26, 4, 1, 6912, 32768, 1000000.0f, 1e-6f, true, 256},
    {"qwen3-0.6b", "qwen3", 151936, 1024, 28, 16, 8, 3072, 40960, 1000000.0f, 1e-6f, true, 128},
    {"phi-3-mini", "phi3", 32064, 3072, 32, 32, 32, 8192, 4096, 10000.0f, 1e-5f, false},
    // OLMoE-1B-7B: 64 experts of width 1024, 8 per token (1.3B of 6.9B parameters active)
    {"olmoe-1b-7b", "olmoe", 50304, 2048, 16, 16, 16, 1024, 4096, 10000.0f, 1e-5f, false, 0, 64, 8},
    {"test-tiny", "llama", 320, 64, 4, 4, 2, 96, 256, 10000.0f, 1e-5f, false}, // for tests
};

struct Rng { // splitmix64
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    float uniform() { return float(next() >> 40) * (1.0f / 16777216.0f); } // [0, 1)
    float normalish() { // sum of 4 uniforms, scaled to unit variance
        return (uniform() + uniform() + uniform() + uniform() - 2.0f) * 1.7320508f;
    }
};

uint64_t hash_name(const std::string& s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

void fill_random_bytes(Rng& rng, uint8_t* dst, uint64_t n) {
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint64_t v = rng.next();
        std::memcpy(dst + i, &v, 8);
    }
    for (; i < n; i++) dst[i] = uint8_t(rng.next());
}

// Fills `bytes` of type `t` with values of standard deviation about `sigma`.
void generate(DType t, uint8_t* dst, uint64_t bytes, uint64_t seed, float sigma) {
    Rng rng{seed};
    switch (t) {
    case DType::F32:
        for (uint64_t i = 0; i < bytes / 4; i++) {
            const float v = sigma * rng.normalish();
            std::memcpy(dst + 4 * i, &v, 4);
        }
        return;
    case DType::F16:
    case DType::BF16:
        for (uint64_t i = 0; i < bytes / 2; i++) {
            const float v = sigma * rng.normalish();
            const uint16_t h = t == DType::F16 ? f32_to_f16(v) : f32_to_bf16(v);
            std::memcpy(dst + 2 * i, &h, 2);
        }
        return;
    case DType::Q8_0:
    case DType::Q4_0:
    case DType::Q4_K:
    case DType::Q6_K:
        break;
    default: { // the other quantized types: normal values through the reference quantizer
        const DTypeInfo& info = dtype_info(t);
        const uint64_t n = bytes / uint64_t(info.block_bytes) * uint64_t(info.block_size);
        std::vector<float> v(n);
        for (auto& x : v) x = sigma * rng.normalish();
        quantize_row_ref(t, v.data(), dst, int64_t(n));
        return;
    }
    }
    // Quantized (Q8_0, Q4_0, Q4_K, Q6_K): random payload bits, then each block's scales set so values have ~sigma.
    fill_random_bytes(rng, dst, bytes);
    const int bb = dtype_info(t).block_bytes;
    for (uint64_t off = 0; off + bb <= bytes; off += bb) {
        uint8_t* b = dst + off;
        const float jitter = 0.75f + 0.5f * rng.uniform();
        switch (t) {
        case DType::Q8_0:
            reinterpret_cast<BlockQ8_0*>(b)->d = f32_to_f16(jitter * sigma / 73.0f);
            break;
        case DType::Q4_0:
            reinterpret_cast<BlockQ4_0*>(b)->d = f32_to_f16(jitter * sigma / 4.6f);
            break;
        case DType::Q4_K: {
            auto* k = reinterpret_cast<BlockQ4_K*>(b);
            k->d = f32_to_f16(jitter * sigma / (4.6f * 32.0f));
            k->dmin = f32_to_f16(jitter * sigma / (32.0f * 4.0f));
            break;
        }
        case DType::Q6_K: {
            auto* k = reinterpret_cast<BlockQ6_K*>(b);
            for (auto& s : k->scales) s = int8_t(32 + (rng.next() & 63)); // positive, 32..95
            k->d = f32_to_f16(jitter * sigma / (18.5f * 64.0f));
            break;
        }
        default:
            fail("synthetic weights: unsupported type");
        }
    }
}

TokenizerData synthetic_tokenizer(uint32_t n_vocab) {
    TokenizerData t;
    t.model = "spm";
    t.tokens = {"<unk>", "<s>", "</s>"};
    t.types = {int32_t(TokenType::Unknown), int32_t(TokenType::Control),
               int32_t(TokenType::Control)};
    static const char* hex = "0123456789ABCDEF";
    for (int b = 0; b < 256 && t.tokens.size() < n_vocab; b++) {
        t.tokens.push_back(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">");
        t.types.push_back(int32_t(TokenType::Byte));
    }
    while (t.tokens.size() < n_vocab) {
        t.tokens.push_back("\xE2\x96\x81w" + std::to_string(t.tokens.size()));
        t.types.push_back(int32_t(TokenType::Normal));
    }
    t.scores.resize(t.tokens.size());
    for (size_t i = 0; i < t.scores.size(); i++) t.scores[i] = i < 259 ? 0.0f : -float(i - 259);
    t.unk_id = 0, t.bos_id = 1, t.eos_id = 2;
    return t;
}

} // namespace

std::vector<std::string> synthetic_shape_names() {
    std::vector<std::string> names;
    for (const auto& s : kShapes) names.push_back(s.name);
    return names;
}

ModelSource make_synthetic(const SyntheticOptions& o) {
    const Shape* shape = nullptr;
    for (const auto& s : kShapes)
        if (o.shape == s.name) shape = &s;
    if (!shape) {
        std::string known;
        for (const auto& n : synthetic_shape_names()) known += " " + n;
        fail("unknown synthetic shape '" + o.shape + "' (known:" + known + ")");
    }
    ModelSource src;
    ModelConfig& c = src.config;
    c.arch = shape->arch;
    c.name = std::string("synthetic ") + shape->name;
    c.synthetic = true;
    c.n_vocab = shape->n_vocab;
    c.n_embd = shape->n_embd;
    c.n_layer = o.layers > 0 ? uint32_t(o.layers) : shape->n_layer;
    c.n_head = shape->n_head;
    c.n_head_kv = o.kv_heads > 0 ? uint32_t(o.kv_heads) : shape->n_head_kv;
    c.head_dim = shape->head_dim ? shape->head_dim : c.n_embd / c.n_head;
    c.n_ff = shape->n_ff;
    c.n_expert = shape->n_expert;
    c.n_expert_used = shape->n_expert_used;
    c.n_ff_expert = shape->n_expert ? shape->n_ff : 0;
    c.n_ctx_train = shape->n_ctx;
    c.rope_theta = shape->rope_theta;
    c.rope_dim = c.head_dim;
    c.norm_eps = shape->norm_eps;
    c.tied_output = shape->tied;
    arch_format(c.arch).defaults(c); // RoPE style, biases: the architecture's own facts
    if (o.shape == "llama-3.2-1b") {
        c.rope_scaling.type = "llama3";
        c.rope_scaling.factor = 32.0f;
        c.rope_scaling.original_ctx = 8192;
    }
    c.kv_source = cla_kv_source(c.n_layer, 1);
    c.validate();
    src.tokenizer = synthetic_tokenizer(c.n_vocab);
    for (const auto& spec : expected_tensors(c)) {
        SourceTensor t;
        t.name = spec.name;
        t.shape = spec.shape;
        t.type = DType::F32;
        const uint64_t seed = o.seed ^ hash_name(spec.name);
        const bool is_norm = spec.name.find("norm") != std::string::npos;
        const float sigma = spec.name == "token_embd.weight" ? 1.0f : 0.02f;
        if (is_norm) {
            t.generate = [](DType, uint8_t* dst, uint64_t bytes) {
                const float one = 1.0f;
                for (uint64_t i = 0; i < bytes / 4; i++) std::memcpy(dst + 4 * i, &one, 4);
            };
        } else {
            t.generate = [seed, sigma](DType type, uint8_t* dst, uint64_t bytes) {
                generate(type, dst, bytes, seed, sigma);
            };
        }
        src.tensors.push_back(std::move(t));
    }
    src.description =
        "synthetic " + o.shape + " (random weights, seed " + std::to_string(o.seed) + ")";
    return src;
}

} // namespace strata
