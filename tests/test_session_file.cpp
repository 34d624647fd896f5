// Persistent sessions: the KV cache in a file, resumed without recomputing, refused when it
// belongs to something else, and consistent after its writer is killed at random points.
#include "core/error.h"
#include "formats/checksum.h"
#include "formats/convert.h"
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
                   "format version 1 is not the supported 2 or 3 (written by an older strata");
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

// One writer per session file: a second session on a file a live session holds is refused at
// once, naming the holder; closing (or the holder's death) frees it.
TEST(SessionFile, ASecondWriterIsRefusedNamingTheFirstAndClosingFreesTheFile) {
    TempDir dir;
    SyntheticOptions syn;
    syn.shape = "test-tiny";
    const std::string model_path = dir.file("m.strata");
    ModelSource src = make_synthetic(syn);
    convert_model(src, model_path, {});
    auto model = Model::load(model_path);
    SessionOptions o;
    o.n_ctx = 64;
    o.kv_file = dir.file("s.kv");
    const std::vector<int32_t> t = {1, 5, 6};
    {
        Session first(model, o);
        first.decode(t.data(), 3);
        try {
            Session second(model, o);
            ADD_FAILURE() << "a second writer was accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.status, Status::busy);
            EXPECT_EQ(std::string(e.what()), "session file " + o.kv_file +
                                                 " is in use by another strata process (pid " +
                                                 std::to_string(getpid()) + ")");
        }
        // a refusal leaves the holder's file alone
        first.decode(t.data(), 3);
        EXPECT_EQ(first.n_past(), 6);
    }
    Session again(model, o); // closed: free, and it resumes
    EXPECT_EQ(again.n_past(), 6);
}

namespace {

// Runs `args` with stdout and stderr to files; returns the child's pid.
pid_t spawn(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
    const pid_t pid = fork();
    if (pid == 0) {
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        if (!freopen(out.c_str(), "w", stdout) || !freopen(err.c_str(), "w", stderr)) _exit(126);
        execv(argv[0], argv.data());
        _exit(127);
    }
    return pid;
}

int exit_status(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string file_text(const std::string& path) {
    const auto b = read_file(path);
    return std::string(b.begin(), b.end());
}

} // namespace

// Two `strata --kv-file S -p ...` processes started together, many times: one writes, the other
// is refused at once naming the writer's pid, and the file afterwards is byte for byte what the
// writer alone makes (its conversation, never a mix), except the writer-pid field.
TEST(SessionFile, TwoProcessesOnOneFileOneWritesTheOtherIsRefused) {
    TempDir dir;
    SyntheticOptions syn; // slow enough (a second or so per run) that the two always overlap
    syn.shape = "smollm-135m";
    syn.layers = 4;
    const std::string model = dir.file("m.strata");
    ModelSource src = make_synthetic(syn);
    convert_model(src, model, {DType::Q8_0, 0});
    const std::string prompts[2] = {"the first conversation", "another one entirely"};
    auto command = [&](int who, const std::string& kv) {
        return std::vector<std::string>{STRATA_BIN, "-m",  model,       "--kv-file", kv,
                                        "--ctx",    "128", "--threads", "1",         "--temp",
                                        "0",        "-n",  "40",        "-p",        prompts[who]};
    };
    std::vector<uint8_t> alone[2]; // each command's file when it runs alone
    for (int who = 0; who < 2; who++) {
        const std::string kv = dir.file("alone" + std::to_string(who) + ".kv");
        ASSERT_EQ(exit_status(spawn(command(who, kv), dir.file("o"), dir.file("e"))), 0)
            << file_text(dir.file("e"));
        alone[who] = read_file(kv);
    }
    ASSERT_NE(alone[0], alone[1]);
    auto without_pid = [](std::vector<uint8_t> b) { // bytes 88..91: the writer's pid
        if (b.size() >= 92) std::fill(b.begin() + 88, b.begin() + 92, 0);
        return b;
    };
    int wins[2] = {0, 0};
    const int kTrials = 10;
    for (int trial = 0; trial < kTrials; trial++) {
        const std::string kv = dir.file("race" + std::to_string(trial) + ".kv");
        pid_t pid[2];
        std::string err[2];
        for (int who = 0; who < 2; who++) {
            err[who] = dir.file("err" + std::to_string(who));
            pid[who] = spawn(command(who, kv), dir.file("out" + std::to_string(who)), err[who]);
        }
        const int status[2] = {exit_status(pid[0]), exit_status(pid[1])};
        ASSERT_TRUE((status[0] == 0) != (status[1] == 0))
            << "trial " << trial << ": exits " << status[0] << " and " << status[1] << "\n"
            << file_text(err[0]) << file_text(err[1]);
        const int winner = status[0] == 0 ? 0 : 1, loser = 1 - winner;
        wins[winner]++;
        EXPECT_EQ(status[loser], 1);
        EXPECT_NE(file_text(err[loser])
                      .find("strata: error: session file " + kv +
                            " is in use by another strata process (pid " +
                            std::to_string(pid[winner]) + ")"),
                  std::string::npos)
            << file_text(err[loser]);
        EXPECT_TRUE(without_pid(read_file(kv)) == without_pid(alone[winner]))
            << "trial " << trial << ": the file is not the writer's conversation alone";
    }
    std::printf("%d trials: the first command wrote %d times, the second %d; every loser was "
                "refused\n",
                kTrials, wins[0], wins[1]);
}
