// libFuzzer target: encoding arbitrary bytes (invalid UTF-8 included) with real vocabularies
// (SentencePiece Llama 2; byte-level GPT-2, Llama 3, Falcon, DeepSeek LLM: pre-tokenizers with
// one regex and with several), then decoding. Byte-level BPE is
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
    strata::TokenizerData spm, gpt2, llama3, falcon, deepseek;
    std::unique_ptr<strata::Tokenizer> t_spm, t_gpt2, t_llama3, t_falcon, t_deepseek;
    bool lossless[4] = {}; // gpt2, llama3, falcon, deepseek: every byte has a token
};

// Falcon's vocabulary lacks tokens for bytes no UTF-8 text holds (0xFF, ...): such bytes are
// dropped, as llama.cpp drops them, so only vocabularies with all 256 round-trip every input.
bool every_byte_round_trips(const strata::Tokenizer& t) {
    for (int b = 0; b < 256; b++) {
        const std::string one(1, char(b));
        if (t.decode(t.encode(one, false, false)) != one) return false;
    }
    return true;
}

Vocabs* load() {
    const char* dir = std::getenv("STRATA_FIXTURES");
    const std::string base = std::string(dir ? dir : STRATA_DEFAULT_FIXTURES) + "/tokenizers/";
    auto* v = new Vocabs;
    v->spm = strata::tokenizer_from_gguf(
        strata::GgufFile::open(base + "vectors/ggml-vocab-llama-spm.gguf"));
    v->gpt2 =
        strata::tokenizer_from_gguf(strata::GgufFile::open(base + "vectors/ggml-vocab-gpt-2.gguf"));
    v->llama3 = strata::read_hf_tokenizer_json(base + "llama3/tokenizer.json", "");
    v->falcon = strata::tokenizer_from_gguf(
        strata::GgufFile::open(base + "vectors/ggml-vocab-falcon.gguf"));
    v->deepseek = strata::tokenizer_from_gguf(
        strata::GgufFile::open(base + "vectors/ggml-vocab-deepseek-llm.gguf"));
    v->t_spm = std::make_unique<strata::Tokenizer>(v->spm);
    v->t_gpt2 = std::make_unique<strata::Tokenizer>(v->gpt2);
    v->t_llama3 = std::make_unique<strata::Tokenizer>(v->llama3);
    v->t_falcon = std::make_unique<strata::Tokenizer>(v->falcon);
    v->t_deepseek = std::make_unique<strata::Tokenizer>(v->deepseek);
    const strata::Tokenizer* bpe[] = {v->t_gpt2.get(), v->t_llama3.get(), v->t_falcon.get(),
                                      v->t_deepseek.get()};
    for (int i = 0; i < 4; i++) v->lossless[i] = every_byte_round_trips(*bpe[i]);
    return v;
}
} // namespace

// The first byte picks the vocabulary (one encode per input, five times the rate of running
// all five), the rest is the text.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Vocabs* v = load();
    if (size == 0) return 0;
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] % 5 == 0) {
        v->t_spm->decode(v->t_spm->encode(text, true));
        return 0;
    }
    strata::Tokenizer* const bpe[] = {v->t_gpt2.get(), v->t_llama3.get(), v->t_falcon.get(),
                                      v->t_deepseek.get()};
    const int k = data[0] % 5 - 1;
    const auto ids = bpe[k]->encode(text, false, /*parse_special=*/false);
    if (bpe[k]->decode(ids) != text && v->lossless[k]) {
        std::fprintf(stderr, "byte-level BPE round trip lost bytes\n");
        std::abort();
    }
    return 0;
}
