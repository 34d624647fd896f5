// strata-tokenize: token ids of a text, from any tokenizer source strata reads.
#include "strata.h"
#include "tools/capi_helpers.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static const char* kUsage =
    R"(usage: strata-tokenize -m SOURCE [--no-bos] [--no-special] [--pieces] [TEXT | -f FILE]

Prints the token ids of TEXT (or of FILE's contents), space-separated, on one line.
SOURCE is a .strata model, a .gguf (vocab-only files too), a tokenizer.json (its
tokenizer_config.json beside it is read for BOS/EOS), a SentencePiece tokenizer.model, or a
llama2.c tokenizer .bin.

options:
  --no-bos       add no BOS/EOS
  --no-special   do not match control-token text (<|...|>, <s>) as those tokens
                 (added, user-defined tokens still are, as in llama.cpp and HF)
  --pieces       print id:'piece' pairs instead of bare ids
  -h, --help     this text
)";

[[noreturn]] static void usage_error(const std::string& m) {
    std::fprintf(stderr, "strata-tokenize: %s\n(see strata-tokenize --help)\n", m.c_str());
    std::exit(2);
}

static int fail_with(const std::string& what) {
    std::fprintf(stderr, "strata-tokenize: error: %s\n", what.c_str());
    return 1;
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
    if (!file.empty()) {
        std::ifstream in(file, std::ios::binary);
        if (!in) return fail_with("cannot open " + file);
        std::stringstream all;
        all << in.rdbuf();
        text = all.str();
    }
    strata_model* vocab = nullptr;
    if (strata_vocab_open(source.c_str(), &vocab) != STRATA_OK) return fail_with(strata_errmsg());
    const int flags =
        (bos ? STRATA_TOKENIZE_ADD_SPECIAL : 0) | (special ? STRATA_TOKENIZE_PARSE_SPECIAL : 0);
    std::vector<int32_t> ids;
    try {
        ids = tokenize(vocab, text, flags);
    } catch (const std::exception& e) {
        strata_model_close(vocab);
        return fail_with(e.what());
    }
    const int n = int(ids.size());
    std::string line;
    std::vector<char> piece(256);
    for (int i = 0; i < n; i++) {
        if (i) line += ' ';
        line += std::to_string(ids[size_t(i)]);
        if (!pieces) continue;
        int len = 0;
        if (strata_token_to_piece(vocab, ids[size_t(i)], piece.data(), int(piece.size()), &len) ==
            STRATA_BUFFER_TOO_SMALL) {
            piece.resize(size_t(len));
            strata_token_to_piece(vocab, ids[size_t(i)], piece.data(), len, &len);
        }
        line += ":'" + std::string(piece.data(), size_t(len)) + "'";
    }
    std::printf("%s\n", line.c_str());
    strata_model_close(vocab);
    return 0;
}
