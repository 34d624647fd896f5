// strata-tokenize: token ids of a text, from any tokenizer source strata reads.
#include "formats/error.h"
#include "formats/gguf_reader.h"
#include "formats/mapped_file.h"
#include "formats/model_source.h"
#include "formats/strata_reader.h"
#include "runtime/tokenizer.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

using namespace strata;

static const char* kUsage =
    R"(usage: strata-tokenize -m SOURCE [--no-bos] [--no-special] [--pieces] [TEXT | -f FILE]

Prints the token ids of TEXT (or of FILE's contents), space-separated, on one line.
SOURCE is a .strata model, a .gguf (vocab-only files too), a tokenizer.json (its
tokenizer_config.json beside it is read for BOS/EOS), a SentencePiece tokenizer.model, or a
llama2.c tokenizer .bin.

options:
  --no-bos       add no BOS/EOS
  --no-special   do not match special-token text (<|...|>, <s>) as special tokens
  --pieces       print id:'piece' pairs instead of bare ids
  -h, --help     this text
)";

[[noreturn]] static void usage_error(const std::string& m) {
    std::fprintf(stderr, "strata-tokenize: %s\n(see strata-tokenize --help)\n", m.c_str());
    std::exit(2);
}

static TokenizerData load_tokenizer(const std::string& source) {
    namespace fs = std::filesystem;
    auto file = MappedFile::open(source);
    const uint8_t* p = file->data();
    const size_t n = file->size();
    if (n >= 8 && std::memcmp(p, "STRATA\0\0", 8) == 0) return StrataFile::open(source).tokenizer();
    if (n >= 4 && std::memcmp(p, "GGUF", 4) == 0)
        return tokenizer_from_gguf(GgufFile::open(source));
    const std::string name = fs::path(source).filename().string();
    if (name.size() >= 5 && name.compare(name.size() - 5, 5, ".json") == 0) {
        const fs::path config = fs::path(source).parent_path() / "tokenizer_config.json";
        return read_hf_tokenizer_json(source, fs::exists(config) ? config.string() : "");
    }
    if (name.size() >= 6 && name.compare(name.size() - 6, 6, ".model") == 0)
        return read_sentencepiece_model(source);
    return read_llama2c_tokenizer(source, 0); // 0: as many tokens as the file holds
}

int main(int argc, char** argv) {
    std::string source, text, file;
    bool have_text = false, bos = true, special = true, pieces = false;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "-m" || a == "--model") {
            if (i + 1 >= argc) usage_error("-m needs a value");
            source = argv[++i];
        } else if (a == "-f" || a == "--file") {
            if (i + 1 >= argc) usage_error("-f needs a value");
            file = argv[++i];
        } else if (a == "--no-bos")
            bos = false;
        else if (a == "--no-special")
            special = false;
        else if (a == "--pieces")
            pieces = true;
        else if (a.size() > 1 && a[0] == '-')
            usage_error("unknown option " + a);
        else if (!have_text)
            text = a, have_text = true;
        else
            usage_error("more than one text given");
    }
    if (source.empty()) usage_error("no tokenizer source given (-m SOURCE)");
    if (have_text && !file.empty()) usage_error("give either TEXT or -f FILE, not both");
    if (!have_text && file.empty()) usage_error("no text given (TEXT or -f FILE)");
    try {
        if (!file.empty()) text = read_text_file(file);
        const TokenizerData data = load_tokenizer(source);
        Tokenizer tok(data);
        const auto ids = tok.encode(text, bos, special);
        std::string line;
        for (size_t i = 0; i < ids.size(); i++) {
            if (i) line += ' ';
            line += std::to_string(ids[i]);
            if (pieces) line += ":'" + tok.piece(ids[i], false) + "'";
        }
        std::printf("%s\n", line.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "strata-tokenize: error: %s\n", e.what());
        return 1;
    }
}
