// libFuzzer target: encoding arbitrary bytes (invalid UTF-8 included) with real vocabularies
// (SentencePiece Llama 2, byte-level GPT-2 or Llama 3), then decoding. Byte-level BPE is
// lossless, so decode(encode(x)) must give x back; a difference is a finding (abort).
#include "core/error.h"
#include "formats/gguf_reader.h"
#include "formats/model_source.h"
#include "runtime/tokenizer.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace {
struct Vocabs {
    strata::TokenizerData spm, gpt2, llama3;
    std::unique_ptr<strata::Tokenizer> t_spm, t_gpt2, t_llama3;
};

Vocabs* load() {
    const char* dir = std::getenv("STRATA_FIXTURES");
    const std::string base = std::string(dir ? dir : STRATA_DEFAULT_FIXTURES) + "/tokenizers/";
    auto* v = new Vocabs;
    v->spm = strata::tokenizer_from_gguf(
        strata::GgufFile::open(base + "vectors/ggml-vocab-llama-spm.gguf"));
    v->gpt2 =
        strata::tokenizer_from_gguf(strata::GgufFile::open(base + "vectors/ggml-vocab-gpt-2.gguf"));
    v->llama3 = strata::read_hf_tokenizer_json(base + "llama3/tokenizer.json", "");
    v->t_spm = std::make_unique<strata::Tokenizer>(v->spm);
    v->t_gpt2 = std::make_unique<strata::Tokenizer>(v->gpt2);
    v->t_llama3 = std::make_unique<strata::Tokenizer>(v->llama3);
    return v;
}
} // namespace

// The first byte picks the vocabulary (one encode per input, three times the rate of running
// all three), the rest is the text.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Vocabs* v = load();
    if (size == 0) return 0;
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 3) {
    case 0:
        v->t_spm->decode(v->t_spm->encode(text, true));
        break;
    default: {
        strata::Tokenizer* t = data[0] % 3 == 1 ? v->t_gpt2.get() : v->t_llama3.get();
        const auto ids = t->encode(text, false, /*parse_special=*/false);
        if (t->decode(ids) != text) {
            std::fprintf(stderr, "byte-level BPE round trip lost bytes\n");
            std::abort();
        }
    }
    }
    return 0;
}
