// Chooses the importer for a conversion source.
#include "core/error.h"
#include "formats/model_source.h"

#include <cstring>
#include <filesystem>
#include <fstream>

namespace strata {

ModelSource import_model(const std::string& source, const std::string& tokenizer_bin) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_directory(source, ec)) return import_hf(source);
    if (!fs::exists(source, ec)) fail(source + ": no such file or directory");
    char magic[4] = {};
    std::ifstream(source, std::ios::binary).read(magic, 4);
    if (std::memcmp(magic, "GGUF", 4) == 0) return import_gguf(source);
    if (std::memcmp(magic, "STRA", 4) == 0) fail(source + " is already a .strata file");
    return import_llama2c(source, tokenizer_bin);
}

} // namespace strata
