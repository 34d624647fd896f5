// Sessions on several threads: one shared model, independent sessions, and forks used on other
// threads while their parent rewrites what they share. Every result must equal a
// single-threaded run's. These run again under ThreadSanitizer (`make test-tsan`).
#include "formats/convert.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "tests/fixtures.h"

#include <thread>

using namespace strata;
using namespace strata::test;

namespace {

std::shared_ptr<const Model> tiny_model(const TempDir& dir) {
    SyntheticOptions syn;
    syn.shape = "test-tiny";
    const std::string path = dir.file("tiny.strata");
    ModelSource src = make_synthetic(syn);
    convert_model(src, path, {DType::Q8_0, 0});
    return Model::load(path);
}

SessionOptions options() {
    SessionOptions o;
    o.n_ctx = 256;
    o.n_threads = 1; // threads here are the test's own
    return o;
}

std::vector<int32_t> prompt_of(int n, int stride) {
    std::vector<int32_t> p;
    for (int i = 0; i < n; i++) p.push_back(int32_t(1 + (i * stride) % 300));
    return p;
}

// Greedy tokens after the session's last logits.
std::vector<int32_t> greedy(Session& s, int n) {
    std::vector<int32_t> out;
    const int V = int(s.model().config().n_vocab);
    const float* l = s.last_logits();
    for (int i = 0; i < n; i++) {
        out.push_back(argmax(l, V));
        l = s.decode(&out.back(), 1);
    }
    return out;
}

std::vector<int32_t> fresh_greedy(const std::shared_ptr<const Model>& m,
                                  const std::vector<int32_t>& prompt, int n) {
    Session s(m, options());
    s.decode(prompt.data(), int(prompt.size()));
    return greedy(s, n);
}

} // namespace

TEST(Concurrency, FourSessionsOnOneModelMatchSingleThreadedRuns) {
    TempDir dir;
    auto m = tiny_model(dir);
    std::vector<std::vector<int32_t>> expected, got(4);
    for (int i = 0; i < 4; i++) expected.push_back(fresh_greedy(m, prompt_of(20 + i, 7 + i), 40));
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; i++)
        threads.emplace_back([&, i] {
            Session s(m, options());
            const auto p = prompt_of(20 + i, 7 + i);
            s.decode(p.data(), int(p.size()));
            got[size_t(i)] = greedy(s, 40);
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(got, expected);
}

TEST(Concurrency, ForksOnOtherThreadsStayIntactWhileTheirParentRewrites) {
    TempDir dir;
    auto m = tiny_model(dir);
    const auto prompt = prompt_of(150, 13);
    Session parent(m, options());
    parent.decode(prompt.data(), int(prompt.size()));
    std::vector<std::unique_ptr<Session>> forks;
    for (int i = 0; i < 3; i++) forks.push_back(parent.fork());
    const auto expected = fresh_greedy(m, prompt, 60);
    std::vector<std::vector<int32_t>> got(3);
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; i++)
        threads.emplace_back([&, i] { got[size_t(i)] = greedy(*forks[size_t(i)], 60); });
    // meanwhile the parent forgets and rewrites its prefix again and again
    for (int round = 0; round < 6; round++) {
        parent.truncate(10 + 20 * round);
        const auto other = prompt_of(150, 17 + round);
        parent.decode(other.data() + parent.n_past(), 150 - parent.n_past());
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < 3; i++) EXPECT_EQ(got[size_t(i)], expected) << "fork " << i;
    forks.clear();
    EXPECT_EQ(greedy(parent, 5).size(), 5u);
}
