// Persistent sessions: the KV cache in a file, resumed without recomputing, refused when it
// belongs to something else, and consistent after its writer is killed at random points.
#include "formats/checksum.h"
#include "formats/convert.h"
#include "core/error.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "tests/fixtures.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <random>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace strata;
using namespace strata::test;

namespace {

std::string stories_model(const TempDir& dir, std::optional<DType> type = std::nullopt) {
    std::string name = "stories";
    if (type) name.append("-").append(dtype_name(*type));
    const std::string out = dir.file(name + ".strata");
    ModelSource src =
        import_llama2c(fixture("stories260K/stories260K.bin"), fixture("stories260K/tok512.bin"));
    convert_model(src, out, {type, 0});
    return out;
}

// Greedy continuation of whatever the session holds (its last token's logits recomputed).
std::vector<int32_t> continue_greedy(Session& s, int n) {
    std::vector<int32_t> out;
    const int32_t last = s.history().back();
    s.truncate(s.n_past() - 1);
    const float* logits = s.decode(&last, 1);
    for (int i = 0; i < n; i++) {
        const int32_t next = argmax(logits, int(s.model().config().n_vocab));
        out.push_back(next);
        logits = s.decode(&next, 1);
    }
    return out;
}

void expect_refused(const std::shared_ptr<const Model>& m, const SessionOptions& o,
                    const std::string& needle) {
    try {
        Session s(m, o);
        ADD_FAILURE() << "accepted (expected: " << needle << ")";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}

} // namespace

TEST(SessionFile, ReopeningResumesWithoutRecomputingAndContinuesIdentically) {
    REQUIRE_FIXTURES();
    TempDir dir;
    auto model = Model::load(stories_model(dir));
    const std::vector<int32_t> prompt = {1, 403, 407, 261, 378};
    // the uninterrupted run
    SessionOptions mem;
    mem.n_ctx = 128;
    Session ref(model, mem);
    ref.decode(prompt.data(), int(prompt.size()));
    const auto ref_tokens = continue_greedy(ref, 30);

    SessionOptions f = mem;
    f.kv_file = dir.file("s.kv");
    std::vector<int32_t> first;
    {
        Session s(model, f);
        EXPECT_EQ(s.n_past(), 0);
        s.decode(prompt.data(), int(prompt.size()));
        first = continue_greedy(s, 12);
    }
    EXPECT_EQ(first, std::vector<int32_t>(ref_tokens.begin(), ref_tokens.begin() + 12));
    EXPECT_EQ(std::filesystem::file_size(dir.file("s.kv")),
              4096 + 4096 +
                  size_t(128) * model->config().kv_bytes_per_token(2.0)); // header, 128 tokens, K/V
    f.n_ctx = 0; // adopt the file's context
    Session again(model, f);
    ASSERT_EQ(again.n_past(), 5 + 12); // the prompt and every fed token: nothing to recompute
    EXPECT_EQ(again.n_ctx(), 128);
    EXPECT_EQ(std::vector<int32_t>(again.history().begin(), again.history().begin() + 5), prompt);
    // Continue from the file: the last held token was fed; its successor comes next.
    const float* logits = nullptr;
    {
        // recompute nothing but the logits of the last position
        const int32_t last = again.history().back();
        again.truncate(again.n_past() - 1);
        logits = again.decode(&last, 1);
    }
    std::vector<int32_t> rest;
    for (int i = 0; i < 10; i++) {
        const int32_t next = argmax(logits, 512);
        rest.push_back(next);
        logits = again.decode(&next, 1);
    }
    EXPECT_EQ(rest, std::vector<int32_t>(ref_tokens.begin() + 12, ref_tokens.begin() + 22));
}

TEST(SessionFile, FilesOfAnotherModelTypeContextOrVersionAreRefused) {
    REQUIRE_FIXTURES();
    TempDir dir;
    auto model = Model::load(stories_model(dir));
    SessionOptions o;
    o.n_ctx = 64;
    o.kv_file = dir.file("s.kv");
    {
        Session s(model, o);
        const std::vector<int32_t> t = {1, 403};
        s.decode(t.data(), 2);
    }
    auto other = Model::load(stories_model(dir, DType::Q8_0));
    expect_refused(other, o, "another model");
    SessionOptions f32 = o;
    f32.kv_type = DType::F32;
    expect_refused(model, f32, "holds a f16 KV cache, but f32 was asked for");
    SessionOptions ctx = o;
    ctx.n_ctx = 32;
    expect_refused(model, ctx, "context of 64 tokens, but 32");
    auto bytes = read_file(o.kv_file);
    auto write_variant = [&](size_t off, uint8_t v, const std::string& name) {
        auto b = bytes;
        b[off] = v;
        write_file(dir.file(name), b.data(), b.size());
        SessionOptions x = o;
        x.kv_file = dir.file(name);
        return x;
    };
    expect_refused(model, write_variant(0, 'X', "magic.kv"), "bad magic");
    expect_refused(model, write_variant(8, 9, "version.kv"), "format version 9");
    // version 1 kept each position's heads in one row: its K/V would be read as garbage
    expect_refused(model, write_variant(8, 1, "v1.kv"),
                   "format version 1 is not the supported 2 (written by an older strata");
    expect_refused(model, write_variant(28, 1, "header.kv"), "header checksum");
    write_file(dir.file("cut.kv"), bytes.data(), bytes.size() - 4096);
    SessionOptions cut = o;
    cut.kv_file = dir.file("cut.kv");
    expect_refused(model, cut, "truncated");
}

// A process generating into a session file is SIGKILLed at 50 random points; each reopen must
// hold a prefix of the uninterrupted run, and continuing from it must give the uninterrupted
// run's logits bit for bit.
TEST(SessionFile, KilledWritersLeaveAConsistentPrefix) {
    TempDir dir;
    SyntheticOptions syn; // slow enough (hundreds of tokens per second) to be killed mid-run
    syn.shape = "smollm-135m";
    syn.layers = 4;
    ModelSource src = make_synthetic(syn);
    const std::string model_path = dir.file("m.strata");
    convert_model(src, model_path, {DType::Q8_0, 0});
    auto model = Model::load(model_path);
    const std::vector<int32_t> prompt = {1, 300, 301, 302};
    const int kGen = 200;
    SessionOptions mem;
    mem.n_ctx = 256;
    Session ref(model, mem);
    const auto t0 = std::chrono::steady_clock::now();
    ref.decode(prompt.data(), int(prompt.size()));
    std::vector<int32_t> all = prompt;
    const auto gen = continue_greedy(ref, kGen);
    all.insert(all.end(), gen.begin(), gen.end());
    // Each position's logits, as a checksum: a resumed file must reproduce them bit for bit (the
    // greedy tokens of a random model can repeat one token and would hide a wrong K/V row).
    const size_t V = model->config().n_vocab;
    std::vector<uint64_t> ref_logits(all.size());
    {
        Session r(model, mem);
        const float* l = r.decode(prompt.data(), 3);
        for (size_t p = 3; p < all.size(); p++) {
            l = r.decode(&all[p], 1);
            ref_logits[p] = checksum64(l, V * 4);
        }
    }
    // kill points spread over the writer's whole run (its speed depends on the kernels)
    const long run_us = long(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count());
    const long window_us = std::min(run_us * 3 / 2 + 20000, 3000000L); // (sanitizer builds)

    std::mt19937 rng(7);
    int prefixes = 0, refusals = 0;
    for (int run = 0; run < 50; run++) {
        std::string name = "k";
        name += std::to_string(run);
        name += ".kv";
        const std::string kv = dir.file(name);
        const pid_t pid = fork();
        if (pid == 0) { // the writer: feeds the prompt, then generates greedily into the file
            SessionOptions o = mem;
            o.kv_file = kv;
            Session s(model, o);
            const float* logits = s.decode(prompt.data(), int(prompt.size()));
            for (int i = 0; i < kGen; i++) {
                const int32_t next = argmax(logits, int(model->config().n_vocab));
                logits = s.decode(&next, 1);
            }
            _exit(0);
        }
        std::this_thread::sleep_for(std::chrono::microseconds(long(rng()) % window_us));
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        try {
            SessionOptions o = mem;
            o.kv_file = kv;
            Session s(model, o);
            const std::vector<int32_t> h = s.history(); // a copy: continuing changes history
            ASSERT_LE(h.size(), all.size());
            ASSERT_EQ(h, std::vector<int32_t>(all.begin(), all.begin() + long(h.size())))
                << "run " << run;
            if (h.size() >= prompt.size()) { // recompute the last position, then go on
                s.truncate(int(h.size()) - 1);
                for (size_t p = h.size() - 1; p < std::min(all.size(), h.size() + 5); p++) {
                    const float* l = s.decode(&all[p], 1);
                    ASSERT_EQ(checksum64(l, V * 4), ref_logits[p])
                        << "run " << run << " resumed at " << h.size() << ", position " << p;
                }
            }
            prefixes++;
        } catch (const Error& e) { // killed while creating the file: refused, never wrong
            refusals++;
            EXPECT_FALSE(std::string(e.what()).empty());
        }
    }
    std::printf("killed 50 writers: %d consistent prefixes, %d clean refusals\n", prefixes,
                refusals);
    EXPECT_EQ(prefixes + refusals, 50);
    EXPECT_GT(prefixes, 40);
}
