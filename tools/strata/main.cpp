// strata: chat with a model in the terminal, or one-shot generation with -p.
// The decoder runtime is not built yet; until it is, this tool says so and exits non-zero.
#include <cstdio>
#include <cstring>

static const char* kUsage = R"(usage: strata -m MODEL.strata [-p PROMPT -n N] [--temp T] ...

Chat with a model, or print a prompt's continuation with -p.
Not built yet: the decoder runtime (forward pass, KV cache, sampler) and the chat loop are
still open work (issues 4-6); convert models today with strata-convert.
)";

int main(int argc, char** argv) {
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "-h") || !std::strcmp(argv[i], "--help")) {
            std::fputs(kUsage, stdout);
            return 0;
        }
    }
    std::fprintf(stderr, "strata: generation and chat are not built yet: the decoder runtime "
                         "(forward pass, KV cache, sampler) is still open work.\n"
                         "strata-convert works today: strata-convert --help\n");
    return 3;
}
