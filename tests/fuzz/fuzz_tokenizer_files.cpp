// libFuzzer target: tokenizer.json (with tokenizer_config.json) and tokenizer.model parsing,
// then encoding and decoding a fixed text with whatever tokenizer came out.
#include "core/error.h"
#include "formats/model_source.h"
#include "runtime/tokenizer.h"

#include <cstdint>
#include <string>

static void exercise(const strata::TokenizerData& t) {
    strata::Tokenizer tok(t);
    const auto ids = tok.encode("Hello world <s> \xE2\x96\x81 \xF0\x9F\xA6\x99 123", true);
    tok.decode(ids);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const size_t split = text.find('\x01');
    try {
        exercise(strata::parse_hf_tokenizer_json(
            text.substr(0, split), split == std::string::npos ? "" : text.substr(split + 1),
            "fuzz/tokenizer.json"));
    } catch (const strata::Error&) {
    }
    try {
        exercise(strata::parse_sentencepiece_model(data, size, "fuzz/tokenizer.model"));
    } catch (const strata::Error&) {
    }
    return 0;
}
