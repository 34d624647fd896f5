// Sliding-window layers keep only their window in the KV cache (a ring of window + batch rows,
// runtime/kv_cache.h). Every test compares a ring session with the same session run with the
// ring disabled (every slot n_ctx positions): contexts many windows long, prefill in batches,
// batched decode of several sequences, session files resumed, forks, truncates near and far.
#include "core/error.h"
#include "formats/checksum.h"
#include "formats/convert.h"
#include "formats/model_source.h"
#include "runtime/session.h"
#include "tests/fixtures.h"
#include "tests/golden.h"

#include <cmath>
#include <cstring>
#include <filesystem>

using namespace strata;
using namespace strata::test;

namespace {

// test-tiny (4 layers) with a window of `window` on layers 0, 1 and 3 (layer 2 global).
std::shared_ptr<const Model> sliding_model(const TempDir& dir, int window) {
    SyntheticOptions syn;
    syn.shape = "test-tiny";
    ModelSource src = make_synthetic(syn);
    src.config.sliding_window = uint32_t(window);
    src.config.layer_sliding.assign(src.config.n_layer, 1);
    src.config.layer_sliding[2] = 0;
    const std::string path = dir.file("sliding" + std::to_string(window) + ".strata");
    convert_model(src, path, {DType::Q8_0, 0});
    return Model::load(path);
}

SessionOptions options(int n_batch, bool ring, DType kv = DType::F32) {
    SessionOptions o;
    o.n_ctx = 512;
    o.n_batch = n_batch;
    o.kv_type = kv;
    o.kv_window_ring = ring;
    return o;
}

std::vector<int32_t> tokens_of(int n, int seed, int n_vocab) {
    std::vector<int32_t> t;
    for (int i = 0; i < n; i++) t.push_back(int32_t(1 + (i * 37 + seed * 11) % (n_vocab - 1)));
    return t;
}

std::vector<float> copy_logits(const Session& s, const float* l) {
    return {l, l + s.model().config().n_vocab};
}

// The logits after feeding `prompt` (one call) then each of `rest` alone.
std::vector<float> run(Session& s, const std::vector<int32_t>& prompt,
                       const std::vector<int32_t>& rest) {
    const float* l = prompt.empty() ? s.last_logits() : s.decode(prompt.data(), int(prompt.size()));
    for (int32_t t : rest) l = s.decode(&t, 1);
    return copy_logits(s, l);
}

} // namespace

// 300 prompt positions in batches of 4 and 60 single tokens, window 7: the ring (11 positions)
// wraps ~30 times, and every position's logits equal the full cache's, bit for bit, in both KV
// types test-tiny allows (the same values are read; only their addresses differ).
TEST(KvRing, ContextManyWindowsLongEqualsTheFullCache) {
    TempDir dir;
    auto m = sliding_model(dir, 7);
    const int V = int(m->config().n_vocab);
    const auto prompt = tokens_of(300, 1, V), rest = tokens_of(60, 2, V);
    for (DType kv : {DType::F32, DType::F16}) {
        Session ring(m, options(4, true, kv)), full(m, options(4, false, kv));
        EXPECT_EQ(ring.cache().ring(), 11);
        EXPECT_EQ(full.cache().ring(), 0);
        const size_t V2 = size_t(V);
        const float* a = ring.decode(prompt.data(), 300, true);
        const float* b = full.decode(prompt.data(), 300, true);
        ASSERT_EQ(std::memcmp(a, b, 300 * V2 * 4), 0) << dtype_name(kv);
        for (int32_t t : rest) {
            const float* x = ring.decode(&t, 1);
            const float* y = full.decode(&t, 1);
            ASSERT_EQ(std::memcmp(x, y, V2 * 4), 0) << dtype_name(kv) << " at " << ring.n_past();
        }
        // 3 of the 4 slots hold 11 positions instead of 512
        EXPECT_EQ(full.cache().bytes(), 4 * 512 * full.cache().bytes_per_token() / 4);
        EXPECT_EQ(ring.cache().bytes_per_token(), full.cache().bytes_per_token() / 4);
        EXPECT_EQ(ring.cache().bytes(), (512 + 3 * 11) * full.cache().bytes_per_token() / 4);
        EXPECT_EQ(ring.cache().ring_bytes(), 3 * 11 * full.cache().bytes_per_token() / 4);
    }
    // the model reports what a token adds: the global layer's K/V only
    EXPECT_EQ(m->config().kv_bytes_per_token(2.0),
              1u * 2 * m->config().n_head_kv * m->config().head_dim * 2);
    EXPECT_EQ(m->config().kv_window_bytes(2.0),
              3u * 7 * 2 * m->config().n_head_kv * m->config().head_dim * 2);
}

// A batch larger than the ring's rows is split by decode; the abort-sized batches too.
TEST(KvRing, PrefillBatchesLargerThanTheRingAreSplit) {
    TempDir dir;
    auto m = sliding_model(dir, 5);
    const int V = int(m->config().n_vocab);
    const auto prompt = tokens_of(200, 3, V);
    Session ring(m, options(16, true)), full(m, options(16, false));
    SessionOptions o = options(64, false);
    o.kv_window_ring = true;
    Session wide(m, o); // ring 5 + 64 rows, fed 200 at once: four passes
    EXPECT_EQ(wide.cache().max_batch_rows(), 64);
    const auto a = run(wide, prompt, {});
    const auto b = run(full, prompt, {});
    const auto c = run(ring, prompt, {});
    // (different batch sizes order the float sums alike here: test-tiny's q8_0 matrices)
    EXPECT_EQ(a, c);
    EXPECT_EQ(b, c);
}

// The zoo's gemma2 (soft-capped) and gemma3 with a window of 300, wider than an attention
// chunk (256): a single token's chunked attention then reads a ring that wraps inside the
// window. 700 positions: equal to the full cache.
TEST(KvRing, ZooGemmaWindowWiderThanAChunkEqualsTheFullCache) {
    REQUIRE_FIXTURES();
    TempDir dir;
    for (const char* name : {"gemma2-q8_0", "gemma3-q8_0"}) {
        ModelSource src = import_gguf(fixture(std::string("zoo/") + name + ".gguf"));
        ASSERT_FALSE(src.config.layer_sliding.empty());
        src.config.sliding_window = 300;
        convert_model(src, dir.file("g.strata"), {DType::Q8_0, 0});
        auto m = Model::load(dir.file("g.strata"));
        SessionOptions o = options(32, true);
        o.n_ctx = 1024;
        o.n_threads = 2;
        Session ring(m, o);
        o.kv_window_ring = false;
        Session full(m, o);
        EXPECT_EQ(ring.cache().ring(), 332);
        const int V = int(m->config().n_vocab);
        const auto prompt = tokens_of(650, 4, V), rest = tokens_of(50, 5, V);
        EXPECT_EQ(run(ring, prompt, rest), run(full, prompt, rest)) << name;
        EXPECT_LT(ring.cache().bytes(), full.cache().bytes() * 3 / 4) << name;
    }
}

// The zoo's gemma2 and gemma3 with their own window (16) fed their 65 teacher-forced positions
// in batches of 4: the ring (20 positions) wraps three times, and the logits equal the full
// cache's and stay within the zoo criterion of llama.cpp's (max |dlogit| <= 10% of the golden
// logits' standard deviation).
TEST(KvRing, ZooGemmaLogitsThroughAWrappingRingMatchLlamaCpp) {
    REQUIRE_FIXTURES();
    TempDir dir;
    for (const char* name : {"gemma2-q8_0", "gemma3-q8_0"}) {
        const std::string zoo = std::string("zoo/") + name;
        ModelSource src = import_gguf(fixture(zoo + ".gguf"));
        convert_model(src, dir.file("g.strata"), {});
        auto m = Model::load(dir.file("g.strata"));
        const auto positions = read_positions(fixture(zoo + ".prompt1.positions"));
        const auto golden = read_golden_logits(fixture(zoo + ".prompt1.logits.bin"));
        ASSERT_EQ(positions.size(), golden.size());
        double sum = 0, sum2 = 0, count = 0;
        for (const auto& r : golden)
            for (float v : r.logits) sum += v, sum2 += double(v) * v, count++;
        const double sd = std::sqrt(sum2 / count - (sum / count) * (sum / count));
        SessionOptions o = options(4, true, DType::F16);
        Session ring(m, o);
        o.kv_window_ring = false;
        Session full(m, o);
        EXPECT_EQ(ring.cache().ring(), 20) << name;
        const int V = int(m->config().n_vocab);
        double worst = 0;
        auto check = [&](size_t p, const float* a, const float* b) {
            ASSERT_EQ(std::memcmp(a, b, size_t(V) * 4), 0) << name << " position " << p;
            for (int i = 0; i < V; i++)
                worst = std::max(worst, double(std::fabs(a[i] - golden[p].logits[size_t(i)])));
        };
        const int n_prompt = 34; // BOS + the prompt, one call (batches of 4), as test_zoo.cpp
        const float* a = ring.decode(positions.data(), n_prompt, true);
        const std::vector<float> prompt_logits(a, a + size_t(n_prompt) * size_t(V));
        const float* b = full.decode(positions.data(), n_prompt, true);
        for (int p = 0; p < n_prompt; p++)
            check(size_t(p), prompt_logits.data() + size_t(p) * size_t(V),
                  b + size_t(p) * size_t(V));
        for (size_t p = size_t(n_prompt); p < positions.size(); p++) {
            const auto x = run(ring, {}, {positions[p]}), y = run(full, {}, {positions[p]});
            check(p, x.data(), y.data());
        }
        EXPECT_LE(worst, 0.1 * sd) << name;
    }
}

// Session::decode_batch over sessions at different positions, each its own ring: every row
// equals its session decoded alone with a full cache.
TEST(KvRing, BatchedDecodeOfSeveralSequencesEqualsTheFullCache) {
    TempDir dir;
    auto m = sliding_model(dir, 6);
    const int V = int(m->config().n_vocab);
    std::vector<std::unique_ptr<Session>> rings, fulls;
    for (int i = 0; i < 3; i++) {
        rings.push_back(std::make_unique<Session>(m, options(4, true)));
        fulls.push_back(std::make_unique<Session>(m, options(4, false)));
        const auto p = tokens_of(40 + 17 * i, 10 + i, V);
        run(*rings.back(), p, {});
        run(*fulls.back(), p, {});
    }
    for (int step = 0; step < 20; step++) {
        std::vector<int32_t> toks = {int32_t(3 + step), int32_t(50 + step), int32_t(90 + step)};
        Session* batch[3] = {rings[0].get(), rings[1].get(), rings[2].get()};
        Session::decode_batch(batch, toks.data(), 3);
        for (int i = 0; i < 3; i++) {
            const auto want = run(*fulls[size_t(i)], {}, {toks[size_t(i)]});
            ASSERT_EQ(copy_logits(*rings[size_t(i)], rings[size_t(i)]->last_logits()), want)
                << "row " << i << " step " << step;
        }
    }
}

// Truncating a few tokens back keeps the ring; far back (the window before the new end was
// overwritten) recomputes. Either way the next tokens' logits equal a fresh full-cache run of
// the kept history. A fork continues on its own copy of the ring.
TEST(KvRing, TruncateNearAndFarAndForksMatchAFreshRun) {
    TempDir dir;
    auto m = sliding_model(dir, 6);
    const int V = int(m->config().n_vocab);
    const auto prompt = tokens_of(120, 6, V), more = tokens_of(9, 7, V);
    auto fresh = [&](const std::vector<int32_t>& history, const std::vector<int32_t>& rest) {
        Session s(m, options(4, false));
        return run(s, history, rest);
    };
    for (bool file_backed : {false, true}) {
        SessionOptions o = options(4, true);
        if (file_backed) o.kv_file = dir.file("t.kv");
        Session s(m, o);
        run(s, prompt, {});
        EXPECT_EQ(s.cache().ring(), 10);
        // a fork continues differently; the parent's rewrites do not reach it
        auto fork = s.fork();
        EXPECT_EQ(run(*fork, {}, more), fresh(prompt, more));
        // near: 3 back (the ring of 10 still holds the 6 before position 117)
        EXPECT_FALSE(s.truncate_recomputes(117));
        s.truncate(117);
        std::vector<int32_t> kept(prompt.begin(), prompt.begin() + 117);
        EXPECT_EQ(run(s, {}, more), fresh(kept, more)) << "file " << file_backed;
        kept.insert(kept.end(), more.begin(), more.end());
        // far: 50 back
        EXPECT_TRUE(s.truncate_recomputes(76));
        s.truncate(76);
        EXPECT_EQ(s.n_past(), 76);
        EXPECT_EQ(s.last_logits(), nullptr);
        kept.resize(76);
        EXPECT_EQ(run(s, {}, more), fresh(kept, more)) << "file " << file_backed;
        // the fork still equals its own history's fresh run
        const int32_t t = 5;
        std::vector<int32_t> fork_history(prompt);
        fork_history.insert(fork_history.end(), more.begin(), more.end());
        EXPECT_EQ(run(*fork, {}, {t}), fresh(fork_history, {t}));
    }
}

// A session file of a sliding model records its ring: it is smaller, reopens (resuming with no
// recompute) and continues like a full-cache run; save/restore copies the ring; a file of the
// old layout (version 2, every slot n_ctx positions) still opens with its own layout; a ring
// the model cannot have is refused.
TEST(KvRing, SessionFilesRecordTheRingAndResume) {
    TempDir dir;
    auto m = sliding_model(dir, 6);
    const int V = int(m->config().n_vocab);
    const auto prompt = tokens_of(150, 8, V), more = tokens_of(12, 9, V);
    std::vector<int32_t> all(prompt);
    all.insert(all.end(), more.begin(), more.end());
    Session reference(m, options(4, false));
    const auto want = run(reference, prompt, more);
    SessionOptions ro = options(4, true), fo = options(4, false);
    ro.kv_file = dir.file("ring.kv");
    fo.kv_file = dir.file("full.kv");
    {
        Session a(m, ro), b(m, fo);
        run(a, prompt, {});
        run(b, prompt, {});
    }
    EXPECT_LT(std::filesystem::file_size(ro.kv_file), std::filesystem::file_size(fo.kv_file) / 2);
    {
        Session a(m, ro); // resumed
        EXPECT_EQ(a.n_past(), 150);
        EXPECT_EQ(a.cache().ring(), 10);
        // the last batch (4 rows at 146) overwrote positions below 140 (and a killed writer's
        // one-row batch would overwrite 140): 147 still has its window, 143 not
        EXPECT_FALSE(a.truncate_recomputes(147));
        EXPECT_TRUE(a.truncate_recomputes(143));
        EXPECT_EQ(run(a, {}, more), want);
        a.save(dir.file("saved.kv"));
    }
    {
        SessionOptions other = options(32, true); // another batch size: the file's ring is kept
        other.kv_file = fo.kv_file;               // the full-layout file
        Session b(m, other);
        EXPECT_EQ(b.cache().ring(), 0);
        EXPECT_EQ(run(b, {}, more), want);
    }
    for (bool ring : {true, false}) { // restore into a ring session and into a full one
        Session r(m, options(8, ring));
        r.restore(dir.file("saved.kv"));
        EXPECT_EQ(r.history(), all);
        const int32_t t = 7;
        std::vector<int32_t> h(all);
        Session fresh(m, options(4, false));
        EXPECT_EQ(run(r, {}, {t}), run(fresh, h, {t})) << "ring " << ring;
        // far back after a restore: recomputed, not read from positions the file lacked
        r.truncate(100);
        h.resize(100);
        Session fresh2(m, options(8, false)); // (recomputed in batches of 8)
        EXPECT_EQ(run(r, {}, {t}), run(fresh2, h, {t})) << "ring " << ring;
    }
    // a ring no larger than the window (with a valid checksum) is refused, naming it
    std::vector<char> bytes(std::filesystem::file_size(dir.file("saved.kv")));
    {
        FILE* f = std::fopen(dir.file("saved.kv").c_str(), "rb");
        ASSERT_EQ(std::fread(bytes.data(), 1, bytes.size(), f), bytes.size());
        std::fclose(f);
    }
    const uint32_t small = 6;
    std::memcpy(bytes.data() + 44, &small, 4);
    const uint64_t sum = checksum64(bytes.data(), 72);
    std::memcpy(bytes.data() + 72, &sum, 8);
    {
        FILE* f = std::fopen(dir.file("bad.kv").c_str(), "wb");
        std::fwrite(bytes.data(), 1, bytes.size(), f);
        std::fclose(f);
    }
    SessionOptions bad = options(4, true);
    bad.kv_file = dir.file("bad.kv");
    try {
        Session s(m, bad);
        ADD_FAILURE() << "a bad ring was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("K/V ring of 6 positions does not fit"),
                  std::string::npos)
            << e.what();
    }
}

// What the C API's strata_kv_stats reports (KvCache::bytes_per_token, bytes_used, bytes): per
// token only the slots that grow; in use, the rings' rows as well (all of them once the ring is
// full); mapped, the whole cache, smaller than without rings.
TEST(KvRing, KvBytesCountTheRingsRowsInUse) {
    TempDir dir;
    const int window = 7;
    const auto model = sliding_model(dir, window);
    Session s(model, options(4, true));
    Session full(model, options(4, false));
    const KvCache& c = s.cache();
    EXPECT_EQ(c.bytes_used(0), 0u);
    // test-tiny: 4 layers, 2 KV heads of 16 values; layer 2 alone keeps every position (f32)
    const size_t per_token = 1 * 2 * 2 * 16 * 4, ring_row = 3 * 2 * 2 * 16 * 4;
    const size_t ring = size_t(window) + 4; // window + n_batch
    EXPECT_EQ(c.ring(), int(ring));
    EXPECT_EQ(c.bytes_per_token(), per_token);
    EXPECT_EQ(c.bytes_used(3), 3 * per_token + 3 * ring_row);
    EXPECT_EQ(c.bytes_used(40), 40 * per_token + ring * ring_row);
    EXPECT_EQ(full.cache().bytes_used(40), 40 * (per_token + ring_row));
    EXPECT_EQ(c.bytes(), 512 * per_token + ring * ring_row);
    EXPECT_LT(c.bytes(), full.cache().bytes());
}
