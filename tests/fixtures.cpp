#include "tests/fixtures.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

namespace strata::test {

namespace fs = std::filesystem;

std::string fixtures_dir() {
    static const std::string dir = [] {
        if (const char* env = std::getenv("STRATA_FIXTURES")) return std::string(env);
        const fs::path p = fs::path(STRATA_SOURCE_DIR) / ".." / "shared" / "fixtures";
        std::error_code ec;
        return fs::is_directory(p, ec) ? fs::canonical(p).string() : std::string();
    }();
    return dir;
}

std::string fixture(const std::string& relative) { return fixtures_dir() + "/" + relative; }

std::string test_name(std::string s) {
    for (char& ch : s)
        if (ch == '-') ch = '_';
    return s;
}

TempDir::TempDir() {
    std::string templ = (fs::temp_directory_path() / "strata-test-XXXXXX").string();
    if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    path = templ;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
}

CommandResult run_command(const std::string& command, bool with_stderr) {
    std::string full = command + (with_stderr ? " 2>&1" : " 2>/dev/null");
    FILE* p = popen(full.c_str(), "r");
    if (!p) return {-1, "popen failed"};
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)),
                                std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const void* data, size_t size) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(static_cast<const char*>(data), std::streamsize(size));
}

} // namespace strata::test
