// libFuzzer target: the session-file (--kv-file) reader on arbitrary bytes. The input becomes a
// memfd opened by path, as a user's file would be; an accepted file must yield committed tokens
// inside the vocabulary and K/V rows inside the mapping, and take a commit.
#include "core/error.h"
#include "formats/model_config.h"
#include "runtime/kv_cache.h"
#include "runtime/session_file.h"

#include <cstdint>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace {
// The seed corpus's files are made for this model shape and fingerprint (make_corpus.sh).
constexpr uint64_t kFingerprint = 0x5354524154414b56ull;

strata::ModelConfig config() {
    strata::ModelConfig c;
    c.arch = "llama";
    c.n_vocab = 320, c.n_embd = 64, c.n_layer = 4, c.n_head = 2, c.n_head_kv = 2, c.head_dim = 32;
    c.n_ff = 96, c.n_ctx_train = 256;
    c.kv_source = {0, 0, 2, 2}; // two source layers (CLA2)
    return c;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0; // an empty file is a new session: not a reader input
    const int fd = memfd_create("fuzz.kv", MFD_CLOEXEC);
    if (fd < 0) return 0;
    if (write(fd, data, size) != ssize_t(size)) {
        close(fd);
        return 0;
    }
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    static const strata::ModelConfig c = config();
    for (strata::DType t : {strata::DType::F16, strata::DType::Q8_0}) {
        try {
            strata::SessionFile f(path, kFingerprint, c, 0, 64, t, 0);
            auto tokens = f.committed_tokens();
            for (int32_t x : tokens)
                if (x < 0 || uint32_t(x) >= c.n_vocab) __builtin_trap();
            strata::KvCache kv(c, f.n_ctx(), t, f.ring(), f.kv_base(), f.fd(), f.kv_offset());
            volatile uint8_t sink =
                kv.section(kv.n_sections() - 1)[kv.bytes() / kv.n_sections() - 1];
            (void)sink;
            if (!tokens.empty()) tokens.pop_back();
            f.commit(tokens, int(kv.bytes_per_token()));
        } catch (const strata::Error&) {
        }
    }
    close(fd);
    return 0;
}
