// Tokenizer throughput (MB/s of text encoded) for SentencePiece-style and byte-level BPE on a
// 1 MB text, using the fixtures' real vocabularies (`make bench-tokenizer`).
#include "formats/gguf_reader.h"
#include "formats/model_source.h"
#include "runtime/tokenizer.h"

#include <benchmark/benchmark.h>
#include <cstdio>
#include <filesystem>
#include <string>

using namespace strata;

namespace {

std::string fixtures() {
    return std::string(STRATA_SOURCE_DIR) + "/../shared/fixtures/tokenizers/";
}

// ~1 MB of mixed text: the English, code, numbers and non-Latin scripts of the vector files.
std::string one_megabyte() {
    std::string base = read_text_file(fixtures() + "vectors/ggml-vocab-llama-spm.gguf.inp");
    base += read_text_file(fixtures() + "vectors/llama3-tokenizer-json.inp");
    std::string out;
    while (out.size() < (1u << 20)) out += base;
    out.resize(1u << 20);
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    return out;
}

void run(benchmark::State& state, const TokenizerData& data) {
    Tokenizer tok(data);
    const std::string text = one_megabyte();
    size_t tokens = 0;
    for (auto _ : state) tokens = tok.encode(text, false).size();
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
    state.counters["tokens"] = double(tokens);
}

} // namespace

int main(int argc, char** argv) {
    if (!std::filesystem::exists(fixtures())) {
        std::fprintf(stderr, "strata-bench-tokenizer: fixtures not found at %s\n",
                     fixtures().c_str());
        return 1;
    }
    static const TokenizerData spm =
        tokenizer_from_gguf(GgufFile::open(fixtures() + "vectors/ggml-vocab-llama-spm.gguf"));
    static const TokenizerData gpt2 =
        tokenizer_from_gguf(GgufFile::open(fixtures() + "vectors/ggml-vocab-gpt-2.gguf"));
    static const TokenizerData llama3 =
        read_hf_tokenizer_json(fixtures() + "llama3/tokenizer.json", "");
    benchmark::RegisterBenchmark("encode/spm/llama2", [](benchmark::State& s) {
        run(s, spm);
    })->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("encode/bpe/gpt2", [](benchmark::State& s) {
        run(s, gpt2);
    })->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("encode/bpe/llama3", [](benchmark::State& s) {
        run(s, llama3);
    })->Unit(benchmark::kMillisecond);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
