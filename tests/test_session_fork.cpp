// Forked sessions (copy-on-write branches of the KV cache) and saved/restored session files:
// every branch continues exactly as a fresh run of its own token history, pages stay shared
// until written, and a parent rewriting what a fork shares never changes the fork.
#include "formats/convert.h"
#include "core/error.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "tests/fixtures.h"
#include "tests/golden.h"

#include <cstring>
#include <filesystem>
#include <unistd.h>

using namespace strata;
using namespace strata::test;

namespace {

std::shared_ptr<const Model> tiny_model(const TempDir& dir, uint64_t seed = 1) {
    SyntheticOptions syn;
    syn.shape = "test-tiny";
    syn.seed = seed;
    const std::string path = dir.file("tiny" + std::to_string(seed) + ".strata");
    ModelSource src = make_synthetic(syn);
    convert_model(src, path, {DType::F32, 0});
    return Model::load(path);
}

SessionOptions options(int n_ctx = 256) {
    SessionOptions o;
    o.n_ctx = n_ctx;
    o.kv_type = DType::F32; // exact comparisons
    return o;
}

// Feeds `first` (when not -1) and then n greedy tokens; returns the tokens fed.
std::vector<int32_t> run_greedy(Session& s, int32_t first, int n) {
    std::vector<int32_t> fed;
    const int V = int(s.model().config().n_vocab);
    int32_t next = first >= 0 ? first : argmax(s.last_logits(), V);
    for (int i = 0; i < n; i++) {
        fed.push_back(next);
        next = argmax(s.decode(&next, 1), V);
    }
    return fed;
}

// A fresh session fed `prompt` as one batch and then `rest` one token at a time (the schedule
// the branches used): its final logits.
std::vector<float> fresh_logits(const std::shared_ptr<const Model>& m,
                                const std::vector<int32_t>& prompt,
                                const std::vector<int32_t>& rest) {
    Session s(m, options());
    const float* l = s.decode(prompt.data(), int(prompt.size()));
    for (int32_t t : rest) l = s.decode(&t, 1);
    return {l, l + m->config().n_vocab};
}

std::vector<float> logits_of(const Session& s) {
    return {s.last_logits(), s.last_logits() + s.model().config().n_vocab};
}

std::vector<int32_t> prompt_of(int n, int stride = 37) {
    std::vector<int32_t> p;
    for (int i = 0; i < n; i++) p.push_back(int32_t(1 + (i * stride) % 300));
    return p;
}

std::vector<int32_t> tail(const Session& s, size_t from) {
    return {s.history().begin() + long(from), s.history().end()};
}

} // namespace

TEST(SessionFork, ParentAndForkContinueDifferentlyAndEachMatchesAFreshRun) {
    TempDir dir;
    auto m = tiny_model(dir);
    const auto prompt = prompt_of(40);
    for (bool file_backed : {false, true}) {
        SCOPED_TRACE(file_backed ? "file-backed parent" : "in-memory parent");
        SessionOptions o = options();
        if (file_backed) o.kv_file = dir.file("parent.kv");
        Session parent(m, o);
        parent.decode(prompt.data(), int(prompt.size()));
        auto child = parent.fork();
        EXPECT_EQ(child->history(), parent.history());
        EXPECT_EQ(logits_of(*child), logits_of(parent));
        const int32_t best = argmax(parent.last_logits(), int(m->config().n_vocab));
        run_greedy(parent, -1, 30);
        run_greedy(*child, (best + 1) % int(m->config().n_vocab), 30); // another first token
        EXPECT_NE(tail(parent, prompt.size()), tail(*child, prompt.size()));
        EXPECT_EQ(logits_of(parent), fresh_logits(m, prompt, tail(parent, prompt.size())));
        EXPECT_EQ(logits_of(*child), fresh_logits(m, prompt, tail(*child, prompt.size())));
        std::filesystem::remove(dir.file("parent.kv"));
    }
}

TEST(SessionFork, PagesAreSharedUntilWrittenAndAParentRewriteNeverReachesTheFork) {
    TempDir dir;
    auto m = tiny_model(dir);
    const auto prompt = prompt_of(200);
    for (bool file_backed : {false, true}) {
        SCOPED_TRACE(file_backed ? "session-file parent" : "in-memory parent");
        SessionOptions po = options();
        if (file_backed) po.kv_file = dir.file("parent.kv");
        Session parent(m, po);
        parent.decode(prompt.data(), int(prompt.size()));
        auto child = parent.fork();
        ASSERT_TRUE(child->cache().is_fork());
        const int64_t page = sysconf(_SC_PAGESIZE);
        const int sections = child->cache().n_sections();
        EXPECT_EQ(child->cache().private_bytes(), 0) << "a fresh fork copies nothing";
        run_greedy(*child, 5, 1); // one row per section written
        const int64_t after_one = child->cache().private_bytes();
        EXPECT_GT(after_one, 0);
        EXPECT_LE(after_one, 2 * sections * page) << "only the written pages are copied";
        const int64_t shared_prefix = int64_t(200 * child->cache().head_bytes()) * sections;
        EXPECT_LT(after_one, shared_prefix / 2);

        // The parent forgets most of its prefix and writes other tokens over it: the fork must
        // first take private copies of what it still shared, and continue unchanged.
        parent.truncate(10);
        const auto other = prompt_of(150, 11); // other tokens over the same positions
        parent.decode(other.data() + 10, 140);
        EXPECT_GE(child->cache().private_bytes(),
                  int64_t(190 * child->cache().head_bytes()) * sections)
            << "the rewritten range was copied into the fork";
        run_greedy(*child, -1, 20);
        EXPECT_EQ(logits_of(*child), fresh_logits(m, prompt, tail(*child, prompt.size())));
        {
            Session fresh(m, options()); // the parent's schedule, without a fork
            fresh.decode(prompt.data(), int(prompt.size()));
            fresh.truncate(10);
            const float* l = fresh.decode(other.data() + 10, 140);
            EXPECT_EQ(logits_of(parent), std::vector<float>(l, l + m->config().n_vocab));
        }
    }
}

TEST(SessionFork, AForkOutlivesItsParentAndForksOfForksAreCopies) {
    TempDir dir;
    auto m = tiny_model(dir);
    const auto prompt = prompt_of(60);
    std::unique_ptr<Session> child;
    {
        Session parent(m, options());
        parent.decode(prompt.data(), int(prompt.size()));
        child = parent.fork();
    } // the parent's pages go away: the fork keeps its own copies
    auto grandchild = child->fork();
    EXPECT_FALSE(grandchild->cache().is_fork());
    run_greedy(*child, -1, 15);
    run_greedy(*grandchild, 7, 15);
    EXPECT_EQ(logits_of(*child), fresh_logits(m, prompt, tail(*child, prompt.size())));
    EXPECT_EQ(logits_of(*grandchild), fresh_logits(m, prompt, tail(*grandchild, prompt.size())));
}

TEST(SessionSave, SavedSessionsRestoreAndContinueIdentically) {
    TempDir dir;
    auto m = tiny_model(dir);
    const auto prompt = prompt_of(50);
    Session s(m, options());
    s.decode(prompt.data(), int(prompt.size()));
    run_greedy(s, -1, 10);
    const std::string path = dir.file("saved.kv");
    write_file(path, "an older file that must be replaced whole");
    s.save(path);
    for (const auto& e : std::filesystem::directory_iterator(dir.path))
        EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
    const auto expected = run_greedy(s, -1, 12);

    Session r(m, options());
    const auto junk = prompt_of(7);
    r.decode(junk.data(), int(junk.size())); // replaced by the restore
    r.restore(path);
    EXPECT_EQ(r.n_past(), 60);
    EXPECT_EQ(run_greedy(r, -1, 12), expected);

    // into a file-backed session, which then resumes the restored state by itself
    SessionOptions fo = options();
    fo.kv_file = dir.file("backed.kv");
    {
        Session f(m, fo);
        f.decode(junk.data(), int(junk.size()));
        f.restore(path);
    }
    Session resumed(m, fo);
    EXPECT_EQ(resumed.n_past(), 60);
    resumed.truncate(59);
    const int32_t last = s.history()[59];
    resumed.decode(&last, 1);
    EXPECT_EQ(run_greedy(resumed, -1, 12), expected);
}

TEST(SessionSave, RestoreRefusesMissingForeignAndOversizeFiles) {
    TempDir dir;
    auto m = tiny_model(dir);
    auto other = tiny_model(dir, 2);
    const auto prompt = prompt_of(100);
    Session s(m, options());
    s.decode(prompt.data(), int(prompt.size()));
    s.save(dir.file("s.kv"));
    auto refused = [&](Session& target, const std::string& path, const std::string& needle) {
        try {
            target.restore(path);
            ADD_FAILURE() << "accepted " << path;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    Session o(other, options());
    refused(o, dir.file("s.kv"), "another model");
    Session small(m, options(64));
    refused(small, dir.file("s.kv"), "more than this session's context of 64");
    refused(small, dir.file("absent.kv"), "not found");
    EXPECT_FALSE(std::filesystem::exists(dir.file("absent.kv")));
    SessionOptions q = options();
    q.kv_type = DType::F16;
    Session f16(m, q);
    refused(f16, dir.file("s.kv"), "holds a f32 KV cache, but f16");
}
