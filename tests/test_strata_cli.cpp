// The strata tool as a script uses it: one-shot generation prints the continuation on stdout.
#include "tests/fixtures.h"

using namespace strata::test;

namespace {
const std::string kStrata = STRATA_BIN;
const std::string kConvert = STRATA_CONVERT_BIN;

std::string stories(const TempDir& dir) {
    const std::string out = dir.file("stories260K.strata");
    run_command(kConvert + " " + fixture("stories260K/stories260K.bin") + " --tokenizer " +
                fixture("stories260K/tok512.bin") + " -q -o " + out);
    return out;
}
} // namespace

TEST(StrataCli, OneShotGreedyPrintsTheGoldenContinuation) {
    REQUIRE_FIXTURES();
    TempDir dir;
    const std::string model = stories(dir);
    const auto golden_bytes = read_file(fixture("stories260K/golden/once_upon_a_time.txt"));
    const std::string golden(golden_bytes.begin(), golden_bytes.end());
    const std::string prompt = "Once upon a time";
    ASSERT_EQ(golden.compare(0, prompt.size(), prompt), 0);
    const std::string continuation =
        golden.substr(prompt.size(), golden.size() - prompt.size() - 1); // no final \n
    for (const char* isa : {"", "STRATA_ISA=ref "}) {
        const CommandResult r = run_command(std::string(isa) + kStrata + " -m " + model + " -p \"" +
                                                prompt + "\" -n 64 --temp 0",
                                            false);
        ASSERT_EQ(r.exit_code, 0) << r.output;
        EXPECT_EQ(r.output.substr(0, continuation.size()), continuation) << isa << "stdout was:\n"
                                                                         << r.output;
    }
    // stdout carries nothing but the text; timings go to stderr
    const CommandResult both =
        run_command(kStrata + " -m " + model + " -p \"" + prompt + "\" -n 8 --temp 0");
    EXPECT_NE(both.output.find("tok/s"), std::string::npos);
}

TEST(StrataCli, SamplingIsSeededAndStopsAtN) {
    REQUIRE_FIXTURES();
    TempDir dir;
    const std::string model = stories(dir);
    const std::string cmd = kStrata + " -m " + model +
                            " -p \"Once upon a time\" -n 20 --temp 0.9 --top-k 40 --top-p 0.9 "
                            "--min-p 0.02 --repeat-penalty 1.1 --seed 42";
    const CommandResult a = run_command(cmd, false), b = run_command(cmd, false);
    ASSERT_EQ(a.exit_code, 0) << a.output;
    EXPECT_EQ(a.output, b.output);
    const CommandResult c = run_command(
        kStrata + " -m " + model + " -p \"Once upon a time\" -n 20 --temp 0.9 --seed 43", false);
    EXPECT_NE(a.output, c.output);
}

TEST(StrataCli, BadInputGivesAClearErrorAndNonZeroExit) {
    TempDir dir;
    auto r = run_command(kStrata + " -m " + dir.file("missing.strata") + " -p hi");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("cannot open"), std::string::npos) << r.output;
    r = run_command(kStrata + " -m x.strata -p hi --temp -1");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.output.find("--temp"), std::string::npos);
    r = run_command(kStrata + " --bogus");
    EXPECT_EQ(r.exit_code, 2);
    write_file(dir.file("junk.strata"), std::string(5000, 'x'));
    r = run_command(kStrata + " -m " + dir.file("junk.strata") + " -p hi");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("bad magic"), std::string::npos) << r.output;
}

TEST(StrataCli, PromptLongerThanTheContextIsRefused) {
    REQUIRE_FIXTURES();
    TempDir dir;
    const std::string model = stories(dir);
    const CommandResult r =
        run_command(kStrata + " -m " + model + " --ctx 4 -p \"Once upon a time there was\"");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("does not fit the context"), std::string::npos) << r.output;
}

TEST(StrataTokenizeCli, EverySourceKindGivesTheReferenceIds) {
    REQUIRE_FIXTURES();
    TempDir dir;
    const std::string tool = STRATA_TOKENIZE_BIN;
    const std::string model = stories(dir);
    // stories260K: llama2.c's tokenization of the golden prompt, from the .strata, the GGUF and
    // tok512.bin
    for (const std::string& src :
         {model, fixture("stories260K/stories260K.gguf"), fixture("stories260K/tok512.bin")}) {
        const CommandResult r = run_command(tool + " -m " + src + " \"Once upon a time\"", false);
        EXPECT_EQ(r.exit_code, 0) << src;
        EXPECT_EQ(r.output, "1 403 407 261 378\n") << src;
    }
    // llama3 tokenizer.json (vector "Hello world" -> 9906 1917), with and without BOS
    const std::string json = fixture("tokenizers/llama3/tokenizer.json");
    EXPECT_EQ(run_command(tool + " -m " + json + " --no-bos \"Hello world\"", false).output,
              "9906 1917\n");
    EXPECT_EQ(run_command(tool + " -m " + json + " \"Hello world\"", false).output,
              "128000 9906 1917\n");
    // Llama 2 tokenizer.model
    EXPECT_EQ(run_command(tool + " -m " + fixture("tokenizers/llama2-spm/tokenizer.model") +
                              " --no-bos \"Hello world\"",
                          false)
                  .output,
              "15043 3186\n");
    write_file(dir.file("text.txt"), std::string("Hello world"));
    EXPECT_EQ(
        run_command(tool + " -m " + json + " --no-bos -f " + dir.file("text.txt"), false).output,
        "9906 1917\n");
    const CommandResult bad = run_command(tool + " -m " + dir.file("nope.json") + " hi");
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.output.find("cannot open"), std::string::npos);
    EXPECT_EQ(run_command(tool + " hi").exit_code, 2);
}

TEST(StrataPerplexityCli, TheModelsOwnStoryIsLikelyAndNoiseIsNot) {
    REQUIRE_FIXTURES();
    TempDir dir;
    const std::string tool = STRATA_PERPLEXITY_BIN;
    const std::string model = stories(dir);
    std::string story;
    for (const char* f : {"bos_only.txt", "bos_only.txt", "once_upon_a_time.txt"}) {
        const auto b = read_file(fixture(std::string("stories260K/golden/") + f));
        story.append(b.begin(), b.end());
    }
    write_file(dir.file("story.txt"), story);
    std::string noise;
    uint32_t x = 12345;
    for (int i = 0; i < 3000; i++) noise += char('!' + (x = x * 1103515245u + 12345u) % 90);
    write_file(dir.file("noise.txt"), noise);
    auto ppl = [&](const std::string& file) {
        const CommandResult r =
            run_command(tool + " -m " + model + " -f " + file + " --ctx 64", false);
        EXPECT_EQ(r.exit_code, 0) << r.output;
        const size_t at = r.output.find("PPL = ");
        return at == std::string::npos ? -1.0 : std::stod(r.output.substr(at + 6));
    };
    const double story_ppl = ppl(dir.file("story.txt")), noise_ppl = ppl(dir.file("noise.txt"));
    std::printf("perplexity: story %.3f, noise %.1f\n", story_ppl, noise_ppl);
    EXPECT_GT(story_ppl, 1.0);
    EXPECT_LT(story_ppl, 3.0); // its own greedy text
    EXPECT_GT(noise_ppl, 100.0);
    write_file(dir.file("short.txt"), std::string("Once"));
    const CommandResult r =
        run_command(tool + " -m " + model + " -f " + dir.file("short.txt") + " --ctx 64");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("are needed for one chunk"), std::string::npos) << r.output;
}
