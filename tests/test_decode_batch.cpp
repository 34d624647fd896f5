// Batched decoding (Session::decode_batch, strata-server's continuous batching): several
// sessions' next tokens in one forward pass must give each session exactly the logits that
// decoding its token alone gives — batching must not change results — at different positions,
// in caches of different lengths, for float and quantized weights, also past the long-context
// attention split.
#include "core/error.h"
#include "formats/convert.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "tests/fixtures.h"

#include <cstring>

using namespace strata;
using namespace strata::test;

namespace {

std::shared_ptr<const Model> tiny_model(const TempDir& dir, DType type) {
    SyntheticOptions syn;
    syn.shape = "test-tiny";
    const std::string path = dir.file("tiny.strata");
    ModelSource src = make_synthetic(syn);
    convert_model(src, path, {type, 0});
    return Model::load(path);
}

std::vector<int32_t> prompt_of(int n, int stride) {
    std::vector<int32_t> p;
    for (int i = 0; i < n; i++) p.push_back(int32_t(1 + (i * stride) % 300));
    return p;
}

// Decodes `steps` greedy tokens for sessions with these prompt lengths, batched and alone, and
// expects the same logits bit for bit.
void expect_batch_equals_alone(const std::shared_ptr<const Model>& m, std::vector<int> lengths,
                               int steps, int threads) {
    SessionOptions o;
    o.n_ctx = 640;
    o.n_threads = threads;
    const int n = int(lengths.size());
    const int V = int(m->config().n_vocab);
    std::vector<std::unique_ptr<Session>> batched, alone;
    for (int i = 0; i < n; i++) {
        const auto p = prompt_of(lengths[size_t(i)], 7 + i);
        for (auto* v : {&batched, &alone}) {
            v->push_back(std::make_unique<Session>(m, o));
            v->back()->decode(p.data(), int(p.size()));
        }
    }
    std::vector<Session*> rows;
    for (auto& s : batched) rows.push_back(s.get());
    for (int step = 0; step < steps; step++) {
        std::vector<int32_t> next;
        for (auto& s : alone) next.push_back(argmax(s->last_logits(), V));
        Session::decode_batch(rows.data(), next.data(), n);
        for (int i = 0; i < n; i++) {
            alone[size_t(i)]->decode(&next[size_t(i)], 1);
            const float* a = batched[size_t(i)]->last_logits();
            const float* b = alone[size_t(i)]->last_logits();
            float worst = 0;
            for (int v = 0; v < V; v++) worst = std::max(worst, std::abs(a[v] - b[v]));
            ASSERT_EQ(std::memcmp(a, b, size_t(V) * sizeof(float)), 0)
                << "session " << i << " step " << step << ": largest difference " << worst;
            ASSERT_EQ(batched[size_t(i)]->history(), alone[size_t(i)]->history());
        }
    }
}

} // namespace

TEST(DecodeBatch, EqualsDecodingAloneF32) {
    TempDir dir;
    expect_batch_equals_alone(tiny_model(dir, DType::F32), {5, 17, 1, 40}, 12, 1);
}

TEST(DecodeBatch, EqualsDecodingAloneQ8_0TwoThreads) {
    TempDir dir;
    expect_batch_equals_alone(tiny_model(dir, DType::Q8_0), {3, 29, 11}, 12, 2);
}

TEST(DecodeBatch, EqualsDecodingAloneQ4_0NineRowsPastTheAttentionSplit) {
    TempDir dir;
    // nine rows (more than a kernel pass takes); one session past 256 positions, where one
    // token's attention is split into chunks
    expect_batch_equals_alone(tiny_model(dir, DType::Q4_0), {300, 2, 9, 14, 1, 33, 5, 70, 21}, 6,
                              2);
}

TEST(DecodeBatch, RefusesAFullContextAndRepeatedSessions) {
    TempDir dir;
    auto m = tiny_model(dir, DType::F32);
    SessionOptions o;
    o.n_ctx = 8;
    Session a(m, o), b(m, o);
    const auto p = prompt_of(8, 3);
    a.decode(p.data(), 8);
    b.decode(p.data(), 2);
    Session* rows[2] = {&a, &b};
    const int32_t next[2] = {1, 2};
    EXPECT_THROW(Session::decode_batch(rows, next, 2), Error);
    EXPECT_EQ(b.n_past(), 2); // nothing decoded
    Session* twice[2] = {&b, &b};
    EXPECT_THROW(Session::decode_batch(twice, next, 2), Error);
}

TEST(DecodeBatch, EqualsDecodingAloneF16TenRows) {
    TempDir dir;
    // float weights with eight rows or more go to the library GEMM in prefill; a batch must not
    expect_batch_equals_alone(tiny_model(dir, DType::F16), {4, 9, 1, 12, 7, 3, 15, 2, 6, 10}, 4, 2);
}

TEST(DecodeBatch, EqualsDecodingAloneQ4_0SevenRows) {
    TempDir dir;
    // seven rows: the kernels' passes of 4, 2 and 1 tokens (fewer than a full pass of 8)
    expect_batch_equals_alone(tiny_model(dir, DType::Q4_0), {6, 1, 19, 3, 40, 2, 11}, 6, 2);
}

TEST(DecodeBatch, EqualsDecodingAloneQ4_0EightRowsThreeThreads) {
    TempDir dir;
    // eight rows, a full pass of the multi-token kernels, on an odd thread count: every row's
    // attention in one parallel region (two rows past the split run theirs in chunks, as alone)
    expect_batch_equals_alone(tiny_model(dir, DType::Q4_0), {260, 3, 1, 18, 300, 7, 40, 2}, 5, 3);
}
