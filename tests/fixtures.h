// Shared test helpers: where the reference fixtures are, temporary directories, running tools.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace strata::test {

// ../shared/fixtures beside the project (or $STRATA_FIXTURES); empty when absent.
std::string fixtures_dir();
std::string fixture(const std::string& relative);

// Skips the current test with a clear message when the fixtures are absent.
#define REQUIRE_FIXTURES()                                                                         \
    do {                                                                                           \
        if (strata::test::fixtures_dir().empty())                                                  \
            GTEST_SKIP() << "reference fixtures not found: expected ../shared/fixtures beside "    \
                            "the project (or set STRATA_FIXTURES)";                                \
    } while (0)

// The fixtures' quantized llama.cpp models (gguf-quant/NAME.gguf), and a test-name-safe
// spelling of a parameter ("tiny-gqa-q4_0" -> "tiny_gqa_q4_0").
#define STRATA_QUANT_GGUF_NAMES "tiny-gqa-q4_k_m", "tiny-gqa-q4_0", "tiny-mqa-q8_0"
std::string test_name(std::string s);

// A fresh directory removed (with its contents) when the object goes away.
struct TempDir {
    TempDir();
    ~TempDir();
    std::string path;
    std::string file(const std::string& name) const { return path + "/" + name; }
};

struct CommandResult {
    int exit_code;
    std::string output; // stdout and stderr together
};
// Runs `command` through the shell; output holds stdout, plus stderr when `with_stderr`.
CommandResult run_command(const std::string& command, bool with_stderr = true);

std::vector<uint8_t> read_file(const std::string& path);
void write_file(const std::string& path, const void* data, size_t size);
inline void write_file(const std::string& path, const std::string& s) {
    write_file(path, s.data(), s.size());
}

} // namespace strata::test
