// strata-convert as a user runs it: exit codes, messages, --info, --verify, --synthetic, --cla.
#include "core/interleave.h"
#include "formats/convert.h"
#include "formats/strata_reader.h"
#include "tests/fixtures.h"

#include <filesystem>

using namespace strata::test;

namespace {
const std::string kTool = STRATA_CONVERT_BIN;
CommandResult convert(const std::string& args) { return run_command(kTool + " " + args); }
} // namespace

TEST(ConvertCli, HelpListsTheContractFlags) {
    auto r = convert("--help");
    EXPECT_EQ(r.exit_code, 0);
    for (const char* flag :
         {"--type", "--cla", "--info", "--verify", "--synthetic", "--tokenizer", "-o", "--dry-run"})
        EXPECT_NE(r.output.find(flag), std::string::npos) << flag;
    // the types that take the interleave8 layout, from the type table
    EXPECT_NE(r.output.find("interleave8 layout: " + strata::interleave8_type_names()),
              std::string::npos)
        << r.output;
}

TEST(ConvertCli, BadArgumentsFailWithAMessage) {
    auto r = convert("");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("no source"), std::string::npos);
    r = convert("--synthetic test-tiny -o /dev/null --type iq2_xxs");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("iq2_xxs"), std::string::npos);
    r = convert("--synthetic no-such-shape -o x.strata");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("unknown synthetic shape"), std::string::npos);
    r = convert("--info /nonexistent.strata");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("cannot open /nonexistent.strata"), std::string::npos);
}

TEST(ConvertCli, InfoListsQuantizedTensorTypes) {
    REQUIRE_FIXTURES();
    TempDir dir;
    for (const auto& [name, types] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"tiny-gqa-q4_k_m", {"q4_k", "q6_k", "f32"}},
             {"tiny-gqa-q4_0", {"q4_0", "q6_k"}},
             {"tiny-mqa-q8_0", {"q8_0"}}}) {
        auto r =
            convert(fixture("gguf-quant/" + name + ".gguf") + " -o " + dir.file(name + ".strata"));
        ASSERT_EQ(r.exit_code, 0) << r.output;
        r = convert("--info " + dir.file(name + ".strata"));
        ASSERT_EQ(r.exit_code, 0) << r.output;
        for (const auto& t : types)
            EXPECT_NE(r.output.find(" " + t + " "), std::string::npos) << name << " lacks " << t;
        EXPECT_NE(r.output.find("blk.1.ffn_down.weight"), std::string::npos);
        r = convert("--verify " + dir.file(name + ".strata"));
        EXPECT_EQ(r.exit_code, 0) << r.output;
    }
}

TEST(ConvertCli, VerifyDetectsBitRot) {
    TempDir dir;
    const std::string f = dir.file("m.strata");
    ASSERT_EQ(convert("--synthetic test-tiny --type q4_0 -o " + f).exit_code, 0);
    auto bytes = read_file(f);
    bytes[bytes.size() - 100] ^= 1;
    write_file(f, bytes.data(), bytes.size());
    auto r = convert("--verify " + f);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("checksum mismatch"), std::string::npos) << r.output;
}

// The planned size of a dry run ("... N bytes (...").
static uint64_t dry_run_bytes(const std::string& output) {
    const auto at = output.find(" bytes (");
    if (at == std::string::npos) return 0;
    auto from = output.rfind(' ', at - 1);
    return std::stoull(output.substr(from + 1, at - from - 1));
}

// The full 1.1B model is planned, not written (620 MB of disk is not ours to take on a shared CI
// machine); a two-layer cut of the same shape is written and must have exactly the planned size.
TEST(ConvertCli, SyntheticTinyLlamaQ4_0IsAbout600MBWithOneBillionParameters) {
    TempDir dir;
    const std::string f = dir.file("tinyllama.strata");
    auto r = convert("--synthetic tinyllama-1.1b --type q4_0 --dry-run -o " + f);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_FALSE(std::filesystem::exists(f)) << "a dry run wrote the file";
    const uint64_t size = dry_run_bytes(r.output);
    EXPECT_GT(size, 580u << 20) << r.output;
    EXPECT_LT(size, 640u << 20) << r.output;
    EXPECT_NE(r.output.find("1.10B parameters"), std::string::npos) << r.output;
    // 22 layers x 4 KV heads x 64 x (K, V) x 2 bytes = 22528
    EXPECT_NE(r.output.find("KV 22528 bytes/token"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("22 of 22 layers store K/V"), std::string::npos) << r.output;

    r = convert("--synthetic tinyllama-1.1b --type q4_0 --cla 2 --dry-run");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("quality drops"), std::string::npos); // the tool says so
    EXPECT_NE(r.output.find("KV 11264 bytes/token"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("11 of 22 layers store K/V"), std::string::npos) << r.output;
    EXPECT_LT(dry_run_bytes(r.output), size); // the consumers' K/V projections are gone

    for (const std::string cla : {"", " --cla 2"}) {
        const std::string args = "--synthetic tinyllama-1.1b --layers 2 --type q4_0" + cla;
        r = convert(args + " --dry-run");
        ASSERT_EQ(r.exit_code, 0) << r.output;
        const uint64_t planned = dry_run_bytes(r.output);
        const std::string g = dir.file("cut" + std::to_string(cla.size()) + ".strata");
        r = convert(args + " -o " + g);
        ASSERT_EQ(r.exit_code, 0) << r.output;
        EXPECT_EQ(std::filesystem::file_size(g), planned) << args;
        r = convert("--info " + g);
        ASSERT_EQ(r.exit_code, 0) << r.output;
        EXPECT_NE(r.output.find("synthetic"), std::string::npos);
        // 2 layers x 4 KV heads x 64 x (K, V) x 2 bytes = 2048, half of it with CLA 2
        EXPECT_NE(r.output.find(cla.empty() ? "KV bytes/token: 2048 (f16 cache)"
                                            : "KV bytes/token: 1024 (f16 cache)"),
                  std::string::npos)
            << r.output;
        if (!cla.empty()) {
            EXPECT_NE(r.output.find("1 of 2 layers store K/V"), std::string::npos) << r.output;
        }
    }
}

TEST(ConvertCli, ConvertsLlama2cAndGgufAndRefusesExistingStrataAsSource) {
    REQUIRE_FIXTURES();
    TempDir dir;
    auto r =
        convert(fixture("stories260K/stories260K.bin") + " --tokenizer " +
                fixture("stories260K/tok512.bin") + " -o " + dir.file("a.strata") + " --type q8_0");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("blk.0.ffn_down.weight (f32)"), std::string::npos)
        << r.output; // ffn_down rows of 172
    r = convert(dir.file("a.strata") + " -o " + dir.file("b.strata"));
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("already a .strata file"), std::string::npos);
    r = convert(fixture("stories260K/stories260K.bin") + " -o " + dir.file("c.strata"));
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("--tokenizer"), std::string::npos);
}

TEST(ConvertCli, AFullDiskLeavesTheExistingFileAndNoTemporaryFile) {
    // A file-size limit stands in for a full disk: reserving the output's space fails.
    TempDir dir;
    const std::string out = dir.file("model.strata");
    write_file(out, std::string("precious"));
    const CommandResult r = run_command("bash -c 'ulimit -f 64; " + kTool +
                                        " --synthetic test-tiny --type f32 -o " + out + "'");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("cannot reserve"), std::string::npos) << r.output;
    const auto kept = read_file(out);
    EXPECT_EQ(std::string(kept.begin(), kept.end()), "precious");
    size_t files = 0;
    for (auto& e : std::filesystem::directory_iterator(dir.path)) files += e.is_regular_file();
    EXPECT_EQ(files, 1u) << "a temporary file was left behind";
}

// --type q4_k_m picks Q6_K where llama.cpp's Q4_K_M does: checked against the types llama.cpp
// chose in the fixture's Q4_K_M GGUF, and on synthetic models through the tool.
TEST(ConvertCli, Q4_K_MMixMatchesLlamaCppsChoice) {
    TempDir dir;
    if (!fixtures_dir().empty()) {
        const auto f = strata::StrataFile::open([&] {
            const std::string out = dir.file("km.strata");
            auto r = convert(fixture("gguf-quant/tiny-gqa-q4_k_m.gguf") + " -q -o " + out);
            EXPECT_EQ(r.exit_code, 0) << r.output;
            return out;
        }());
        int matrices = 0;
        for (const auto& t : f.tensors()) {
            if (t.type != strata::DType::Q4_K && t.type != strata::DType::Q6_K) continue;
            EXPECT_EQ(t.type == strata::DType::Q6_K, strata::q4_k_m_wants_q6_k(t.name, 2))
                << t.name;
            matrices++;
        }
        EXPECT_GE(matrices, 16);
    }
    // 8 layers: Q6_K for layers 0, 3, 6, 7 (attn_v, ffn_down) and the output: 9 matrices
    // (planned, not written: the tensor types are the plan's)
    auto r = convert("--synthetic tinyllama-1.1b --layers 8 --type q4_k_m --dry-run");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("q4_k x49"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("q6_k x9"), std::string::npos) << r.output;
    // rows of 576 (SmolLM) are not whole K-quant blocks: Q4_0 for Q4_K, Q8_0 for Q6_K
    r = convert("--synthetic smollm-135m --layers 4 --type q4_k_m -o " + dir.file("sm.strata"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("blk.0.attn_q.weight (q4_0)"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("blk.3.attn_v.weight (q8_0)"), std::string::npos) << r.output;
}

// Every type and mix --type lists converts a model; test-tiny's rows (64 and 96 values) don't
// fill 256-value blocks, so the super-block types land on their 32-value fallbacks, as the
// summary says.
TEST(ConvertCli, EveryListedTypeAndMixConverts) {
    TempDir dir;
    const std::string names = strata::convert_type_names();
    size_t start = 0, n = 0;
    while (start < names.size()) {
        const size_t end = std::min(names.find(' ', start), names.size());
        const std::string type = names.substr(start, end - start);
        start = end + 1;
        const std::string out = dir.file(type + ".strata");
        auto r = convert("--synthetic test-tiny --type " + type + " -o " + out);
        ASSERT_EQ(r.exit_code, 0) << type << ": " << r.output;
        const auto t = strata::dtype_from_name(type);
        const strata::DType want = t ? strata::dtype_info(*t).fallback32 : strata::DType::F32;
        if (t) {
            EXPECT_NE(r.output.find(std::string(strata::dtype_name(want)) + " x"),
                      std::string::npos)
                << type << ": " << r.output;
        }
        r = convert("--verify " + out);
        EXPECT_EQ(r.exit_code, 0) << type << ": " << r.output;
        n++;
    }
    EXPECT_EQ(n, 22u) << names;
}
