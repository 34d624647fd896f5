// llama2.c checkpoints (Karpathy's run.c format, legacy v0): a 7 x int32 header
// (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size
// means the classifier is stored separately), then float32 tensors in a fixed order.
#include "formats/byte_reader.h"
#include "core/error.h"
#include "formats/model_source.h"

#include <cstring>

namespace strata {

TokenizerData read_llama2c_tokenizer(const std::string& path, uint32_t n_vocab) {
    auto file = MappedFile::open(path);
    TokenizerData t;
    t.model = "spm";
    t.pre = "default";
    try {
        ByteReader r(file->data(), file->size(), "llama2.c tokenizer");
        const int32_t max_len = r.read<int32_t>("max_token_length");
        if (max_len <= 0 || max_len > 4096)
            fail("max_token_length " + std::to_string(max_len) + " is invalid");
        // n_vocab 0: as many tokens as the file holds (strata-tokenize reads a bare tokenizer)
        const uint32_t limit = n_vocab ? n_vocab : UINT32_MAX;
        t.tokens.reserve(n_vocab);
        for (uint32_t i = 0; i < limit && (n_vocab || r.remaining() > 0); i++) {
            const float score = r.read<float>("token score");
            const int32_t len = r.read<int32_t>("token length");
            if (len < 0 || len > max_len)
                fail("token " + std::to_string(i) + " has length " + std::to_string(len));
            std::string piece(r.string(uint64_t(len), "token bytes"));
            // llama2.c's exporter decorates BOS/EOS and writes SentencePiece's U+2581 as a
            // space; undo both so pieces are spelled as in every other source.
            if (i == 1 && piece == "\n<s>\n") piece = "<s>";
            if (i == 2 && piece == "\n</s>\n") piece = "</s>";
            std::string spelled;
            for (char c : piece)
                spelled += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
            int32_t type = int32_t(TokenType::Normal);
            if (i == 0)
                type = int32_t(TokenType::Unknown);
            else if (i == 1 || i == 2)
                type = int32_t(TokenType::Control);
            else if (spelled.size() == 6 && spelled.compare(0, 3, "<0x") == 0 && spelled[5] == '>')
                type = int32_t(TokenType::Byte);
            t.tokens.push_back(std::move(spelled));
            t.scores.push_back(score);
            t.types.push_back(type);
        }
        if (r.remaining() != 0)
            fail("has " + std::to_string(r.remaining()) + " bytes after " +
                 std::to_string(n_vocab) +
                 " tokens: it belongs to a model with a larger vocabulary");
    } catch (const Error& e) {
        throw Error(path + ": " + e.what());
    }
    t.unk_id = 0;
    t.bos_id = 1;
    t.eos_id = 2;
    t.add_bos = true;
    return t;
}

ModelSource import_llama2c(const std::string& checkpoint, const std::string& tokenizer_bin) {
    ModelSource src;
    auto file = MappedFile::open(checkpoint);
    src.mappings.push_back(file);
    const uint8_t* base = file->data();
    const size_t size = file->size();
    ModelConfig& c = src.config;
    try {
        ByteReader r(base, size, "llama2.c checkpoint");
        if (size >= 4 && std::memcmp(base, "ak42", 4) == 0)
            fail("this is a llama2.c export of version 1 or 2 (magic ak42); only the legacy "
                 "version 0 float32 checkpoint is supported");
        int32_t h[7];
        for (auto& v : h) v = r.read<int32_t>("header");
        const char* names[] = {"dim",        "hidden_dim", "n_layers", "n_heads",
                               "n_kv_heads", "vocab_size", "seq_len"};
        for (int i = 0; i < 7; i++)
            if ((i == 5 ? std::abs(int64_t(h[i])) : h[i]) <= 0 ||
                std::abs(int64_t(h[i])) > (1 << 24))
                fail(std::string("header field ") + names[i] + " = " + std::to_string(h[i]) +
                     " is invalid");
        c.arch = "llama";
        c.name = "llama2.c";
        c.n_embd = uint32_t(h[0]);
        c.n_ff = uint32_t(h[1]);
        c.n_layer = uint32_t(h[2]);
        c.n_head = uint32_t(h[3]);
        c.n_head_kv = uint32_t(h[4]);
        c.tied_output = h[5] > 0;
        c.n_vocab = uint32_t(std::abs(h[5]));
        c.n_ctx_train = uint32_t(h[6]);
        if (c.n_embd % c.n_head != 0) fail("dim is not a multiple of n_heads");
        c.head_dim = c.n_embd / c.n_head;
        c.rope_dim = c.head_dim;
        c.rope_style = RopeStyle::Normal; // run.c rotates adjacent pairs
        c.rope_theta = 10000.0f;
        c.norm_eps = 1e-5f;
        c.kv_source = cla_kv_source(c.n_layer, 1);
        c.validate();

        const uint64_t L = c.n_layer, D = c.n_embd, F = c.n_ff, V = c.n_vocab;
        const uint64_t Q = uint64_t(c.n_head) * c.head_dim, KV = uint64_t(c.n_head_kv) * c.head_dim;
        // Layout in floats, in file order.
        const uint64_t freq_cis = uint64_t(c.n_ctx_train) * c.head_dim; // real + imag halves
        const uint64_t floats = V * D + L * D + L * Q * D + 2 * L * KV * D + L * D * Q + L * D +
                                3 * L * F * D + D + freq_cis + (c.tied_output ? 0 : V * D);
        if (28 + floats * 4 != size)
            fail("is " + std::to_string(size) + " bytes but a model with this header takes " +
                 std::to_string(28 + floats * 4) + (size < 28 + floats * 4 ? " (truncated)" : ""));
        const float* p = reinterpret_cast<const float*>(base + 28);
        auto add = [&](const std::string& name, std::vector<uint64_t> shape, const float* data) {
            uint64_t n = 1;
            for (auto d : shape) n *= d;
            src.tensors.push_back({name,
                                   DType::F32,
                                   std::move(shape),
                                   reinterpret_cast<const uint8_t*>(data),
                                   n * 4,
                                   {}});
        };
        auto per_layer = [&](const char* name, std::vector<uint64_t> shape) {
            uint64_t n = 1;
            for (auto d : shape) n *= d;
            for (uint64_t l = 0; l < L; l++)
                add("blk." + std::to_string(l) + "." + name, shape, p + l * n);
            p += L * n;
        };
        add("token_embd.weight", {V, D}, p);
        p += V * D;
        per_layer("attn_norm.weight", {D});
        per_layer("attn_q.weight", {Q, D});
        per_layer("attn_k.weight", {KV, D});
        per_layer("attn_v.weight", {KV, D});
        per_layer("attn_output.weight", {D, Q});
        per_layer("ffn_norm.weight", {D});
        per_layer("ffn_gate.weight", {F, D}); // w1
        per_layer("ffn_down.weight", {D, F}); // w2
        per_layer("ffn_up.weight", {F, D});   // w3
        add("output_norm.weight", {D}, p);
        p += D + freq_cis; // run.c's precomputed RoPE table is not needed
        if (!c.tied_output) add("output.weight", {V, D}, p);
    } catch (const Error& e) {
        throw Error(checkpoint + ": " + e.what());
    }
    if (tokenizer_bin.empty())
        fail(checkpoint + ": a llama2.c checkpoint carries no vocabulary; pass its tokenizer with "
                          "--tokenizer tok.bin");
    src.tokenizer = read_llama2c_tokenizer(tokenizer_bin, c.n_vocab);
    src.description = "llama2.c checkpoint " + checkpoint + " + tokenizer " + tokenizer_bin;
    return src;
}

} // namespace strata
