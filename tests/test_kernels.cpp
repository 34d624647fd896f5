// Every SIMD kernel row this CPU can run, against the scalar reference, on random data with
// sizes 1, tails and odd block counts. Tolerances: integer dot products are exact per block, so
// quantized dots differ from the reference only by float summation order (relative 1e-5 of the
// sum of |terms|); float dots likewise; activation quantizers must be bit-identical.
#include "core/dtype.h"
#include "core/half.h"
#include "core/interleave.h"
#include "core/quantize_ref.h"
#include "ops/attention.h"
#include "ops/dot_ref.h"
#include "ops/kernels.h"
#include "ops/matmul.h"
#include "ops/matmul_onednn.h"
#include "tests/kernel_test_data.h"

#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <random>
#include <vector>

using namespace strata;
using strata::test::random_floats;

namespace {

std::vector<uint8_t> encode(DType t, const std::vector<float>& x) {
    std::vector<uint8_t> out(row_bytes(t, x.size()));
    quantize_row_ref(t, x.data(), out.data(), int64_t(x.size()));
    return out;
}

double abs_sum(DType wt, const std::vector<uint8_t>& w, const std::vector<uint8_t>& a, int n) {
    return test::abs_sum(wt, w.data(), a.data(), n);
}

std::vector<const Kernels*> simd_rows() {
    std::vector<const Kernels*> rows;
    for (const Kernels* k : available_kernels())
        if (std::string(k->name) != "ref") rows.push_back(k);
    return rows;
}

} // namespace

TEST(Kernels, DispatchPicksARowAndHonoursNames) {
    const Kernels& k = kernels();
    EXPECT_NE(k.name, nullptr);
    EXPECT_EQ(kernels_named("ref"), &kKernelsRef);
    std::printf("kernel rows on this CPU:");
    for (const Kernels* r : available_kernels()) std::printf(" %s", r->name);
    std::printf("; in use: %s\n", k.name);
#if defined(__x86_64__)
    EXPECT_NE(kernels_named("avx2"), nullptr) << "every x86-64 CI machine here has AVX2";
#endif
}

// Every weight type of the type table (core/dtype.h), in every row this CPU runs: the row's own
// kernel where it has one, the reference's where it falls back.
std::vector<DType> weight_types() {
    std::vector<DType> out;
    for (const DTypeInfo& info : dtype_table())
        if (info.weight) out.push_back(info.type);
    return out;
}

TEST(Kernels, DotProductsMatchTheReference) {
    const std::vector<DType> types = weight_types();
    EXPECT_GE(types.size(), 15u) << "every SPEC §4 type";
    for (const Kernels* k : simd_rows()) {
        std::printf("%s: own dot products for", k->name);
        for (DType wt : types)
            if ((*k)[wt].dot) std::printf(" %s", dtype_name(wt));
        std::printf("; the reference's for the rest\n");
        for (DType wt : types) {
            const int block =
                dtype_info(wt).block_size == 1 ? 1 : dtype_info(activation_type(wt)).block_size;
            const std::vector<int> counts =
                block == 1 ? std::vector<int>{1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 1023}
                           : std::vector<int>{1, 2, 3, 5, 7, 11, 33};
            for (int count : counts) {
                const int n = count * block;
                for (uint32_t seed = 1; seed <= 3; seed++) {
                    const auto w = encode(wt, random_floats(size_t(n), seed * 7 + uint32_t(n)));
                    const auto a = encode(activation_type(wt),
                                          random_floats(size_t(n), seed * 13 + uint32_t(n), 2.0f));
                    const float ref = kKernelsRef.dot(wt)(n, w.data(), a.data());
                    const float got = k->dot(wt)(n, w.data(), a.data());
                    const double tol = 1e-5 * abs_sum(wt, w, a, n) + 1e-6;
                    ASSERT_NEAR(got, ref, tol)
                        << k->name << " " << dtype_name(wt) << " n=" << n << " seed=" << seed;
                }
            }
        }
    }
}

// GEMV slices (several rows per call, sharing activation loads): every row's result matches
// the reference dot of that row, for row counts around the kernel's group of 8.
TEST(Kernels, DotRowsMatchTheReferencePerRow) {
    int checked = 0;
    for (const Kernels* k : simd_rows()) {
        for (DType wt : weight_types()) {
            const DotRowsFn rows_fn = k->dot_rows(wt);
            if (!rows_fn) continue;
            const bool floats = dtype_info(wt).block_size == 1;
            const int block = floats ? 32 : dtype_info(activation_type(wt)).block_size;
            for (int n_rows : {1, 3, 4, 7, 8, 9, 16, 19}) {
                for (int blocks : {1, 2, 3, 7, 33}) {
                    const int n = blocks * block + (floats && blocks == 3 ? 5 : 0); // a float tail
                    const size_t rb = row_bytes(wt, uint64_t(n));
                    std::vector<uint8_t> w(rb * size_t(n_rows));
                    for (int r = 0; r < n_rows; r++) {
                        const auto row = encode(wt, random_floats(size_t(n), uint32_t(r * 31 + n)));
                        std::memcpy(w.data() + rb * size_t(r), row.data(), rb);
                    }
                    const auto a =
                        encode(activation_type(wt), random_floats(size_t(n), uint32_t(n), 2.0f));
                    std::vector<float> got(size_t(n_rows), -1.0f);
                    rows_fn(n, w.data(), rb, n_rows, a.data(), got.data());
                    for (int r = 0; r < n_rows; r++) {
                        const std::vector<uint8_t> row(w.begin() + long(rb) * r,
                                                       w.begin() + long(rb) * (r + 1));
                        const float ref = kKernelsRef.dot(wt)(n, row.data(), a.data());
                        ASSERT_NEAR(got[size_t(r)], ref, 1e-5 * abs_sum(wt, row, a, n) + 1e-6)
                            << k->name << " " << dtype_name(wt) << " rows=" << n_rows
                            << " row=" << r << " n=" << n;
                        if (floats) { // float slices sum each row as the row's own dot does
                            ASSERT_EQ(got[size_t(r)], k->dot(wt)(n, row.data(), a.data()))
                                << k->name << " " << dtype_name(wt) << " row=" << r;
                        }
                    }
                    checked++;
                }
            }
        }
    }
    std::printf("%d GEMV slices checked\n", checked);
}

// Prefill tiles (rows x tokens per call): every output matches the reference dot of its row
// and token, for row and token counts around the kernel's 8 x 4 step.
TEST(Kernels, DotTilesMatchTheReferencePerRowAndToken) {
    int checked = 0;
    for (const Kernels* k : simd_rows())
        for (DType wt : weight_types()) {
            const DotTileFn tile = k->dot_tile(wt);
            if (!tile) continue;
            const DType at = activation_type(wt);
            for (int n_rows : {1, 8, 9, 17})
                for (int n_tok : {1, 3, 4, 5, 9})
                    for (int blocks : {1, 3, 33}) {
                        const int n = blocks * dtype_info(at).block_size;
                        const size_t rb = row_bytes(wt, uint64_t(n));
                        const size_t ab = row_bytes(at, uint64_t(n));
                        std::vector<uint8_t> w(rb * size_t(n_rows)), act(ab * size_t(n_tok));
                        for (int r = 0; r < n_rows; r++) {
                            const auto row =
                                encode(wt, random_floats(size_t(n), uint32_t(r * 7 + n)));
                            std::memcpy(w.data() + rb * size_t(r), row.data(), rb);
                        }
                        for (int t = 0; t < n_tok; t++) {
                            const auto row =
                                encode(at, random_floats(size_t(n), uint32_t(t * 11 + n), 2.0f));
                            std::memcpy(act.data() + ab * size_t(t), row.data(), ab);
                        }
                        const size_t ys = size_t(n_rows) + 3; // a y stride wider than the tile
                        std::vector<float> y(ys * size_t(n_tok), -1.0f);
                        tile(n, w.data(), rb, n_rows, act.data(), ab, n_tok, y.data(), ys);
                        for (int t = 0; t < n_tok; t++)
                            for (int r = 0; r < n_rows; r++) {
                                const std::vector<uint8_t> row(w.begin() + long(rb) * r,
                                                               w.begin() + long(rb) * (r + 1));
                                const std::vector<uint8_t> a(act.begin() + long(ab) * t,
                                                             act.begin() + long(ab) * (t + 1));
                                const float ref = kKernelsRef.dot(wt)(n, row.data(), a.data());
                                ASSERT_NEAR(y[size_t(t) * ys + size_t(r)], ref,
                                            1e-5 * abs_sum(wt, row, a, n) + 1e-6)
                                    << k->name << " " << dtype_name(wt) << " rows=" << n_rows
                                    << " tokens=" << n_tok << " r=" << r << " t=" << t
                                    << " n=" << n;
                            }
                        checked++;
                    }
        }
    std::printf("%d prefill tiles checked\n", checked);
}

TEST(Kernels, ActivationQuantizersAreBitIdenticalToTheReference) {
    for (const Kernels* k : simd_rows()) {
        for (int blocks : {1, 3, 8}) {
            for (const DTypeInfo& info : dtype_table()) {
                const DType t = info.type;
                if (!info.quantized || info.activation != t) continue; // activation types only
                const int n = blocks * dtype_info(t).block_size;
                auto x = random_floats(size_t(n), uint32_t(blocks) * 5, 3.0f);
                x[3] = 0.0f;
                std::vector<uint8_t> ref(row_bytes(t, uint64_t(n))), got(ref.size());
                quantize_row_ref(t, x.data(), ref.data(), n);
                k->quantize(t)(x.data(), got.data(), n);
                EXPECT_EQ(ref, got) << k->name << " " << dtype_name(t) << " blocks=" << blocks;
            }
        }
        std::vector<uint8_t> zero_ref(row_bytes(DType::Q8_0, 32)), zero_got(zero_ref.size());
        std::vector<float> zeros(32, 0.0f);
        quantize_row_ref(DType::Q8_0, zeros.data(), zero_ref.data(), 32);
        k->quantize(DType::Q8_0)(zeros.data(), zero_got.data(), 32);
        EXPECT_EQ(zero_ref, zero_got) << k->name << " all-zero block";
    }
}

TEST(Kernels, RowOpsMatchTheReference) {
    for (const Kernels* k : simd_rows()) {
        for (int n : {1, 7, 8, 9, 64, 100, 2049}) {
            const auto x = random_floats(size_t(n), uint32_t(n), 2.0f);
            const auto w = random_floats(size_t(n), uint32_t(n) + 1);
            std::vector<float> ref(static_cast<size_t>(n)), got(static_cast<size_t>(n));
            rmsnorm_ref(n, x.data(), w.data(), 1e-5f, ref.data());
            k->rmsnorm(n, x.data(), w.data(), 1e-5f, got.data());
            for (int i = 0; i < n; i++)
                ASSERT_NEAR(got[size_t(i)], ref[size_t(i)], 1e-5f * (1 + std::fabs(ref[size_t(i)])))
                    << k->name << " rmsnorm n=" << n;
            std::vector<float> s1 = x, s2 = x;
            softmax_ref(n, s1.data());
            k->softmax(n, s2.data());
            for (int i = 0; i < n; i++)
                ASSERT_NEAR(s2[size_t(i)], s1[size_t(i)], 1e-6f) << k->name << " softmax n=" << n;
            swiglu_ref(n, x.data(), w.data(), ref.data());
            k->swiglu(n, x.data(), w.data(), got.data());
            for (int i = 0; i < n; i++)
                ASSERT_NEAR(got[size_t(i)], ref[size_t(i)], 1e-5f * (1 + std::fabs(ref[size_t(i)])))
                    << k->name << " swiglu";
        }
    }
}

TEST(Kernels, ReferenceOpsComputeWhatTheyClaim) {
    // Independent checks of the references themselves on hand-worked values.
    float x[4] = {1, 2, 3, 4}, w[4] = {1, 1, 2, 0.5f}, y[4];
    rmsnorm_ref(4, x, w, 0.0f, y);
    const float rms = std::sqrt((1 + 4 + 9 + 16) / 4.0f);
    EXPECT_NEAR(y[2], 3 / rms * 2, 1e-6);
    float s[3] = {0, std::log(2.0f), std::log(5.0f)};
    softmax_ref(3, s);
    EXPECT_NEAR(s[0], 1 / 8.0f, 1e-6);
    EXPECT_NEAR(s[2], 5 / 8.0f, 1e-6);
    float g[1] = {1.0f}, u[1] = {2.0f}, o[1];
    swiglu_ref(1, g, u, o);
    EXPECT_NEAR(o[0], 2.0f / (1 + std::exp(-1.0f)), 1e-6);
    // Q4_0 x Q8_0 on known blocks: weights all level 9 (value +d), activations all 1 (d=1/127*127)
    std::vector<float> ones(32, 1.0f);
    auto a8 = encode(DType::Q8_0, ones);
    auto w4 = encode(DType::Q4_0,
                     std::vector<float>(32, -2.0f)); // largest magnitude -2 -> d = 0.25, level 0
    EXPECT_NEAR(dot_q4_0_ref(32, w4.data(), a8.data()), -64.0f, 0.01); // d = 1/127 rounds in f16
}

TEST(Kernels, MatmulIsIdenticalForOneTwoAndThreeThreads) {
    const int rows = 67, cols = 512, tokens = 5;
    for (const Kernels* k : available_kernels()) {
        for (DType wt : weight_types()) {
            const auto wf = random_floats(size_t(rows) * cols, 11);
            std::vector<uint8_t> w(row_bytes(wt, cols) * rows);
            for (int r = 0; r < rows; r++)
                quantize_row_ref(wt, wf.data() + size_t(r) * cols,
                                 w.data() + row_bytes(wt, cols) * r, cols);
            const auto x = random_floats(size_t(tokens) * cols, 12);
            std::vector<uint8_t> act(activation_row_bytes(wt, cols) * tokens);
            quantize_activations(*k, wt, x.data(), cols, cols, tokens, act.data());
            std::vector<float> y1(size_t(rows) * tokens), y2(y1.size()), y3(y1.size());
            const MatrixRef m{wt, w.data(), rows, cols};
            matmul(*k, m, act.data(), tokens, y1.data(), rows, 1);
            matmul(*k, m, act.data(), tokens, y2.data(), rows, 2);
            matmul(*k, m, act.data(), tokens, y3.data(), rows, 3);
            EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * 4))
                << k->name << " " << dtype_name(wt);
            EXPECT_EQ(0, std::memcmp(y1.data(), y3.data(), y1.size() * 4))
                << k->name << " " << dtype_name(wt);
            // and each output is that row's dot product (up to summation order where rows go
            // through a multi-row kernel)
            const size_t rb = row_bytes(wt, cols), ab = activation_row_bytes(wt, cols);
            const std::vector<uint8_t> row40(w.begin() + long(rb) * 40, w.begin() + long(rb) * 41);
            const std::vector<uint8_t> a3(act.begin() + long(ab) * 3, act.begin() + long(ab) * 4);
            EXPECT_NEAR(y1[3 * rows + 40], k->dot(wt)(cols, row40.data(), a3.data()),
                        1e-5 * abs_sum(wt, row40, a3, cols))
                << k->name << " " << dtype_name(wt);
        }
    }
}

TEST(Kernels, GegluRopeAndAttentionMatchTheReference) {
    for (const Kernels* k : simd_rows()) {
        for (int n : {1, 9, 64, 200}) {
            const auto g = random_floats(size_t(n), 3, 3.0f), u = random_floats(size_t(n), 4);
            std::vector<float> ref(static_cast<size_t>(n)), got(static_cast<size_t>(n));
            geglu_ref(n, g.data(), u.data(), ref.data());
            k->geglu(n, g.data(), u.data(), got.data());
            for (int i = 0; i < n; i++)
                ASSERT_NEAR(got[size_t(i)], ref[size_t(i)], 1e-5f * (1 + std::fabs(ref[size_t(i)])))
                    << k->name << " geglu";
        }
        for (bool neox : {false, true}) {
            for (int hd : {8, 16, 64, 128}) {
                RopeParams p;
                p.head_dim = p.rope_dim = hd;
                p.neox = neox;
                const auto inv = rope_inv_freq(p);
                for (int pos : {0, 1, 17, 4000}) {
                    auto a = random_floats(size_t(hd) * 3, uint32_t(pos + hd)), b = a;
                    rope_apply_ref(p, inv.data(), pos, a.data(), 3);
                    k->rope(p, inv.data(), pos, b.data(), 3);
                    for (size_t i = 0; i < a.size(); i++)
                        ASSERT_NEAR(b[i], a[i], 1e-5f)
                            << k->name << " rope neox=" << neox << " hd=" << hd;
                }
            }
        }
        for (DType kv : {DType::F16, DType::F32}) {
            for (auto [heads, kv_heads, hd] :
                 {std::tuple{4, 4, 16}, std::tuple{8, 2, 32}, std::tuple{8, 1, 64},
                  std::tuple{6, 3, 20}, std::tuple{4, 2, 96}}) {
                for (int n_pos : {1, 63, 64, 65, 200}) {
                    const size_t row_vals = size_t(kv_heads) * hd;
                    const size_t row_bytes_kv = row_vals * (kv == DType::F32 ? 4 : 2);
                    const auto K = encode(kv, random_floats(row_vals * n_pos, 5, 1.0f)),
                               V = encode(kv, random_floats(row_vals * n_pos, 6));
                    const auto q = random_floats(size_t(heads) * hd, 7, 2.0f);
                    std::vector<float> ref(size_t(heads) * hd), got(ref.size());
                    std::vector<float> scratch(attention_scratch_floats(heads, kv_heads, hd));
                    AttentionArgs a{q.data(),     kv,
                                    K.data(),     V.data(),
                                    row_bytes_kv, n_pos,
                                    heads,        kv_heads,
                                    hd,           1.0f / std::sqrt(float(hd)),
                                    ref.data(),   scratch.data()};
                    attention_ref(a, 0, kv_heads);
                    a.out = got.data();
                    k->attention(a, 0, kv_heads);
                    for (size_t i = 0; i < ref.size(); i++)
                        ASSERT_NEAR(got[i], ref[i], 1e-5f) << k->name << " attention " << heads
                                                           << "/" << kv_heads << " n_pos=" << n_pos;
                }
            }
        }
    }
}

// One token's attention split into chunks of positions (partial results, then merged) equals
// the attention over all positions at once, for every kernel row and ragged last chunks; a
// chunk's partial results are the same whether its KV heads are computed in one call or apart.
TEST(Kernels, ChunkedAttentionMergesToTheWholeAttention) {
    for (const Kernels* k : available_kernels()) {
        for (auto [heads, kv_heads, hd] : {std::tuple{8, 2, 32}, std::tuple{6, 3, 64}}) {
            for (int n_pos : {257, 700}) {
                const size_t row_vals = size_t(kv_heads) * hd, rb = row_vals * 2;
                const auto K = encode(DType::F16, random_floats(row_vals * size_t(n_pos), 8)),
                           V = encode(DType::F16, random_floats(row_vals * size_t(n_pos), 9));
                const auto q = random_floats(size_t(heads) * hd, 10, 2.0f);
                std::vector<float> whole(size_t(heads) * hd), merged(whole.size());
                std::vector<float> scratch(attention_scratch_floats(heads, kv_heads, hd));
                AttentionArgs a{
                    q.data(),     DType::F16,    K.data(), V.data(), rb,
                    n_pos,        heads,         kv_heads, hd,       1.0f / std::sqrt(float(hd)),
                    whole.data(), scratch.data()};
                k->attention(a, 0, kv_heads);
                const int chunks = (n_pos + kAttentionChunk - 1) / kAttentionChunk;
                const int group = heads / kv_heads;
                std::vector<float> outs(size_t(chunks) * heads * hd),
                    stats(size_t(chunks) * kv_heads * 2 * group);
                for (int g = 0; g < kv_heads; g++)
                    for (int c = 0; c < chunks; c++) {
                        AttentionArgs p = a;
                        p.pos_begin = c * kAttentionChunk;
                        p.n_pos = std::min(n_pos, p.pos_begin + kAttentionChunk);
                        p.out = outs.data() + size_t(c) * heads * hd;
                        p.partial_stats = stats.data() + (size_t(c) * kv_heads + g) * 2 * group;
                        k->attention(p, g, g + 1);
                    }
                for (int g = 0; g < kv_heads; g++)
                    attention_merge(chunks, group, hd, outs.data() + size_t(g) * group * hd,
                                    size_t(heads) * hd, stats.data() + size_t(g) * 2 * group,
                                    size_t(kv_heads) * 2 * group,
                                    merged.data() + size_t(g) * group * hd);
                for (size_t i = 0; i < whole.size(); i++)
                    ASSERT_NEAR(merged[i], whole[i], 1e-5f)
                        << k->name << " " << heads << "/" << kv_heads << " n_pos=" << n_pos;
                // a chunk of every KV head in one call leaves the same partial results
                std::vector<float> outs_all(outs.size()), stats_all(stats.size());
                for (int c = 0; c < chunks; c++) {
                    AttentionArgs p = a;
                    p.pos_begin = c * kAttentionChunk;
                    p.n_pos = std::min(n_pos, p.pos_begin + kAttentionChunk);
                    p.out = outs_all.data() + size_t(c) * heads * hd;
                    p.partial_stats = stats_all.data() + size_t(c) * kv_heads * 2 * group;
                    k->attention(p, 0, kv_heads);
                }
                EXPECT_EQ(outs_all, outs) << k->name;
                EXPECT_EQ(stats_all, stats) << k->name;
            }
        }
    }
}

// Prefill: up to kAttentionTokens consecutive query tokens in one call (each K/V block converted
// once for all) give each token exactly what a call for that token alone gives, with the causal
// limit crossing block boundaries.
TEST(Kernels, AttentionOverSeveralTokensEqualsOneTokenAtATime) {
    for (const Kernels* k : available_kernels()) {
        for (auto [heads, kv_heads, hd] : {std::tuple{8, 2, 32}, std::tuple{6, 3, 64}}) {
            for (int n_pos0 : {1, 60, 130}) {
                for (int n_tok : {1, 3, kAttentionTokens}) {
                    const int total = n_pos0 + n_tok - 1;
                    const size_t row_vals = size_t(kv_heads) * hd, rb = row_vals * 2;
                    const auto K = encode(DType::F16, random_floats(row_vals * size_t(total), 11)),
                               V = encode(DType::F16, random_floats(row_vals * size_t(total), 12));
                    const size_t qs = size_t(heads) * hd + 3; // strides wider than a row
                    const auto q = random_floats(qs * size_t(n_tok), 13, 2.0f);
                    std::vector<float> together(qs * size_t(n_tok), -1.0f), alone(together);
                    std::vector<float> scratch(attention_scratch_floats(heads, kv_heads, hd));
                    AttentionArgs a{q.data(),
                                    DType::F16,
                                    K.data(),
                                    V.data(),
                                    rb,
                                    n_pos0,
                                    heads,
                                    kv_heads,
                                    hd,
                                    1.0f / std::sqrt(float(hd)),
                                    together.data(),
                                    scratch.data()};
                    a.n_tok = n_tok;
                    a.q_stride = a.out_stride = qs;
                    k->attention(a, 0, kv_heads);
                    for (int u = 0; u < n_tok; u++) {
                        AttentionArgs one = a;
                        one.n_tok = 1;
                        one.q = q.data() + size_t(u) * qs;
                        one.out = alone.data() + size_t(u) * qs;
                        one.n_pos = n_pos0 + u;
                        k->attention(one, 0, kv_heads);
                    }
                    ASSERT_EQ(together, alone) << k->name << " " << heads << "/" << kv_heads
                                               << " n_pos=" << n_pos0 << " tokens=" << n_tok;
                }
            }
        }
    }
}

// The KV cache keeps each KV head's positions together (kv_head_stride); attention over that
// layout equals attention over rows holding every head, exactly, for each cache type and row,
// one token or several.
TEST(Kernels, AttentionOverPerHeadSectionsEqualsRowsOfEveryHead) {
    const int heads = 6, kv_heads = 3, hd = 64, n_pos = 150;
    for (DType kv : {DType::F16, DType::F32, DType::Q8_0}) {
        const size_t hb = row_bytes(kv, hd), rb = hb * kv_heads;
        std::vector<uint8_t> K(rb * n_pos), V(K.size()), Kh(K.size()), Vh(K.size());
        const auto kf = random_floats(size_t(kv_heads) * hd * n_pos, 31),
                   vf = random_floats(kf.size(), 32);
        for (int j = 0; j < n_pos; j++)
            for (int g = 0; g < kv_heads; g++) {
                const size_t src = (size_t(j) * kv_heads + size_t(g)) * hd;
                quantize_row_ref(kv, kf.data() + src, K.data() + size_t(j) * rb + size_t(g) * hb,
                                 hd);
                quantize_row_ref(kv, vf.data() + src, V.data() + size_t(j) * rb + size_t(g) * hb,
                                 hd);
                const size_t at = (size_t(g) * n_pos + size_t(j)) * hb; // head-major copy
                std::memcpy(Kh.data() + at, K.data() + size_t(j) * rb + size_t(g) * hb, hb);
                std::memcpy(Vh.data() + at, V.data() + size_t(j) * rb + size_t(g) * hb, hb);
            }
        const int n_tok = 3;
        const size_t qs = size_t(heads) * hd;
        const auto q = random_floats(qs * n_tok, 33, 2.0f);
        std::vector<float> scratch(attention_scratch_floats(heads, kv_heads, hd));
        for (const Kernels* k : available_kernels())
            for (int tokens : {1, n_tok}) {
                std::vector<float> rows_out(qs * n_tok, -1.0f), heads_out(rows_out);
                AttentionArgs a{q.data(),
                                kv,
                                K.data(),
                                V.data(),
                                rb,
                                n_pos - n_tok + 1,
                                heads,
                                kv_heads,
                                hd,
                                1.0f / std::sqrt(float(hd)),
                                rows_out.data(),
                                scratch.data()};
                a.n_tok = tokens;
                a.q_stride = a.out_stride = qs;
                k->attention(a, 0, kv_heads);
                AttentionArgs b = a;
                b.k = Kh.data(), b.v = Vh.data();
                b.kv_row_bytes = hb;
                b.kv_head_stride = hb * size_t(n_pos);
                b.out = heads_out.data();
                k->attention(b, 0, kv_heads);
                ASSERT_EQ(rows_out, heads_out)
                    << k->name << " " << dtype_name(kv) << " tokens " << tokens;
            }
    }
}

// A sliding layer's K/V in a ring (KvCache: position p at index p % ring) give exactly what the
// same positions stored in order give, for every kernel row: one token or several, windows whose
// positions wrap inside a block of 64 or span rings shorter than a block, and a chunk of
// positions (a partial result) that wraps.
TEST(Kernels, AttentionOverARingEqualsThePositionsInOrder) {
    const int heads = 6, kv_heads = 3, hd = 32, total = 300;
    const size_t hb = row_bytes(DType::F16, hd);
    const auto kf = random_floats(size_t(kv_heads) * hd * total, 41),
               vf = random_floats(kf.size(), 42);
    // head-major sections of `n` positions holding position p at index p % n (n == total: in
    // order)
    auto sections = [&](const std::vector<float>& f, int n) {
        std::vector<uint8_t> out(size_t(kv_heads) * size_t(n) * hb);
        for (int p = total - n; p < total; p++)
            for (int g = 0; g < kv_heads; g++)
                quantize_row_ref(DType::F16, f.data() + (size_t(p) * kv_heads + size_t(g)) * hd,
                                 out.data() + (size_t(g) * size_t(n) + size_t(p % n)) * hb, hd);
        return out;
    };
    const auto Kf = sections(kf, total), Vf = sections(vf, total);
    for (const Kernels* k : available_kernels())
        for (auto [window, ring] : {std::pair{7, 15}, std::pair{40, 48}, std::pair{100, 108}}) {
            const auto Kr = sections(kf, ring), Vr = sections(vf, ring);
            for (int n_tok : {1, 8}) {
                const size_t qs = size_t(heads) * hd;
                const auto q = random_floats(qs * size_t(n_tok), 43, 2.0f);
                std::vector<float> want(qs * size_t(n_tok)), got(want.size());
                std::vector<float> scratch(attention_scratch_floats(heads, kv_heads, hd));
                AttentionArgs a{q.data(),          DType::F16,    Kf.data(), Vf.data(), hb,
                                total - n_tok + 1, heads,         kv_heads,  hd,        0.2f,
                                want.data(),       scratch.data()};
                a.n_tok = n_tok;
                a.q_stride = a.out_stride = qs;
                a.kv_head_stride = size_t(total) * hb;
                a.window = window;
                k->attention(a, 0, kv_heads);
                AttentionArgs r = a;
                r.k = Kr.data(), r.v = Vr.data(), r.out = got.data();
                r.kv_head_stride = size_t(ring) * hb;
                r.ring = ring;
                k->attention(r, 0, kv_heads);
                ASSERT_EQ(got, want) << k->name << " window " << window << " tokens " << n_tok;
                if (n_tok > 1) continue;
                // a chunk of positions [total - window + 3, total - 2) as a partial result
                std::vector<float> stats_w(size_t(heads) * 2), stats_g(stats_w.size());
                AttentionArgs pw = a, pr = r;
                pw.window = pr.window = 0;
                pw.pos_begin = pr.pos_begin = total - window + 3;
                pw.n_pos = pr.n_pos = total - 2;
                pw.partial_stats = stats_w.data(), pr.partial_stats = stats_g.data();
                k->attention(pw, 0, kv_heads);
                k->attention(pr, 0, kv_heads);
                ASSERT_EQ(got, want) << k->name << " chunk, window " << window;
                ASSERT_EQ(stats_g, stats_w) << k->name << " chunk, window " << window;
            }
        }
}

TEST(Kernels, ReferenceAttentionIsSoftmaxWeightedValues) {
    // One head, three positions, f32 cache: compare with the textbook formula.
    const int hd = 2;
    const float q[2] = {1.0f, 0.5f};
    const float kf[6] = {1, 0, 0, 1, 1, 1}, vf[6] = {1, 2, 3, 4, 5, 6};
    float out[2];
    std::vector<float> scratch(attention_scratch_floats(1, 1, hd));
    AttentionArgs a{q,
                    DType::F32,
                    reinterpret_cast<const uint8_t*>(kf),
                    reinterpret_cast<const uint8_t*>(vf),
                    8,
                    3,
                    1,
                    1,
                    hd,
                    1.0f,
                    out,
                    scratch.data()};
    attention_ref(a, 0, 1);
    const double s[3] = {1.0, 0.5, 1.5};
    double z = 0, o0 = 0, o1 = 0;
    for (int j = 0; j < 3; j++) z += std::exp(s[j]);
    for (int j = 0; j < 3; j++)
        o0 += std::exp(s[j]) / z * vf[2 * j], o1 += std::exp(s[j]) / z * vf[2 * j + 1];
    EXPECT_NEAR(out[0], o0, 1e-6);
    EXPECT_NEAR(out[1], o1, 1e-6);
}

// Sliding windows and score soft-capping against the textbook formula in double precision:
// token u (at position p = n_pos - 1 + u) sees positions max(0, p - window + 1) .. p (llama.cpp's
// mask: exactly `window` positions), scores cap tanh(s / cap) before the softmax. Every kernel
// row, prefill and single tokens, windows smaller than, across and wider than the 64-position
// blocks, one KV head (the contiguous load) and several, odd head widths.
TEST(Kernels, WindowedSoftCappedAttentionIsTheTextbookFormula) {
    for (auto [heads, kv_heads, hd] :
         {std::tuple{4, 1, 32}, std::tuple{6, 3, 20}, std::tuple{8, 2, 64}}) {
        const int max_pos = 203;
        const size_t row_vals = size_t(kv_heads) * hd;
        const auto kf = random_floats(row_vals * max_pos, 41, 1.0f),
                   vf = random_floats(row_vals * max_pos, 42);
        const auto K = encode(DType::F32, kf), V = encode(DType::F32, vf);
        const size_t qs = size_t(heads) * hd;
        const auto q = random_floats(qs * kAttentionTokens, 43, 2.0f);
        std::vector<float> scratch(attention_scratch_floats(heads, kv_heads, hd));
        for (int window : {1, 7, 64, 100, 1000})
            for (float cap : {0.0f, 1.5f})
                for (auto [n_pos, n_tok] : {std::pair{1, 1}, std::pair{70, 1}, std::pair{130, 3},
                                            std::pair{196, kAttentionTokens}}) {
                    // the formula
                    std::vector<double> want(qs * size_t(n_tok));
                    const int group = heads / kv_heads;
                    const double sc = 1.0 / std::sqrt(double(hd));
                    for (int u = 0; u < n_tok; u++)
                        for (int h = 0; h < heads; h++) {
                            const int p = n_pos - 1 + u, g = h / group;
                            const int j0 = std::max(0, p - window + 1);
                            std::vector<double> w;
                            double z = 0, m = -1e300;
                            for (int j = j0; j <= p; j++) {
                                double d = 0;
                                for (int i = 0; i < hd; i++)
                                    d += double(q[size_t(u) * qs + size_t(h) * hd + size_t(i)]) *
                                         kf[size_t(j) * row_vals + size_t(g) * hd + size_t(i)];
                                d *= sc;
                                if (cap > 0) d = cap * std::tanh(d / cap);
                                w.push_back(d), m = std::max(m, d);
                            }
                            for (double& x : w) z += x = std::exp(x - m);
                            for (int i = 0; i < hd; i++) {
                                double o = 0;
                                for (int j = j0; j <= p; j++)
                                    o += w[size_t(j - j0)] *
                                         vf[size_t(j) * row_vals + size_t(g) * hd + size_t(i)];
                                want[size_t(u) * qs + size_t(h) * hd + size_t(i)] = o / z;
                            }
                        }
                    for (const Kernels* k : available_kernels()) {
                        std::vector<float> got(qs * size_t(n_tok));
                        AttentionArgs a{q.data(),     DType::F32, K.data(),   V.data(),
                                        row_vals * 4, n_pos,      heads,      kv_heads,
                                        hd,           float(sc),  got.data(), scratch.data()};
                        a.n_tok = n_tok;
                        a.q_stride = a.out_stride = qs;
                        a.window = window;
                        a.softcap = cap;
                        k->attention(a, 0, kv_heads);
                        for (size_t i = 0; i < got.size(); i++)
                            ASSERT_NEAR(got[i], want[i], 2e-5)
                                << k->name << " " << heads << "/" << kv_heads << "x" << hd
                                << " window " << window << " cap " << cap << " n_pos " << n_pos
                                << " tokens " << n_tok;
                    }
                }
    }
}

// One token's windowed attention split into chunks (the graph's long-context path, and chunks
// that lie partly or wholly before the window) merges to the windowed attention in one call.
TEST(Kernels, ChunkedWindowedAttentionMergesToTheWholeAttention) {
    const int heads = 6, kv_heads = 2, hd = 32, group = heads / kv_heads, n_pos = 700;
    const size_t row_vals = size_t(kv_heads) * hd;
    const auto K = encode(DType::F16, random_floats(row_vals * n_pos, 44)),
               V = encode(DType::F16, random_floats(row_vals * n_pos, 45));
    const auto q = random_floats(size_t(heads) * hd, 46, 2.0f);
    std::vector<float> scratch(attention_scratch_floats(heads, kv_heads, hd));
    for (const Kernels* k : available_kernels())
        for (int window : {5, 300, 520}) {
            std::vector<float> whole(size_t(heads) * hd), merged(whole.size());
            AttentionArgs a{q.data(), DType::F16, K.data(), V.data(), row_vals * 2, n_pos,
                            heads,    kv_heads,   hd,       0.2f,     whole.data(), scratch.data()};
            a.window = window;
            a.softcap = 2.0f;
            k->attention(a, 0, kv_heads);
            const int chunks = (n_pos + kAttentionChunk - 1) / kAttentionChunk;
            std::vector<float> outs(size_t(chunks) * heads * hd),
                stats(size_t(chunks) * kv_heads * 2 * group);
            for (int c = 0; c < chunks; c++) {
                AttentionArgs p = a;
                p.pos_begin = c * kAttentionChunk;
                p.n_pos = std::min(n_pos, p.pos_begin + kAttentionChunk);
                // the window is the last token's: as a chunk it ends before the token, so the
                // window becomes the chunk range (what the graph passes)
                p.pos_begin = std::max(p.pos_begin, n_pos - window);
                p.window = 0;
                if (p.pos_begin > p.n_pos) p.pos_begin = p.n_pos; // wholly before the window
                p.out = outs.data() + size_t(c) * heads * hd;
                p.partial_stats = stats.data() + size_t(c) * kv_heads * 2 * group;
                k->attention(p, 0, kv_heads);
            }
            for (int g = 0; g < kv_heads; g++)
                attention_merge(chunks, group, hd, outs.data() + size_t(g) * group * hd,
                                size_t(heads) * hd, stats.data() + size_t(g) * 2 * group,
                                size_t(kv_heads) * 2 * group,
                                merged.data() + size_t(g) * group * hd);
            for (size_t i = 0; i < whole.size(); i++)
                ASSERT_NEAR(merged[i], whole[i], 1e-5f) << k->name << " window " << window;
        }
}

// Float weights with >= 8 tokens go to a library GEMM in 128-row panels (F16/BF16 widened
// first): oneDNN's f32 matmul on AVX-512 CPUs, else OpenBLAS's sgemm; BF16 to oneDNN's bf16
// matmul where the CPU has one, its activations rounded to bf16. Each output must be its row's
// dot product, and the same for 1, 2 and 3 threads.
TEST(Kernels, FloatPrefillThroughTheLibrariesEqualsTheDotProducts) {
    const int rows = 265, cols = 96, tokens = 16; // two whole 128-row panels and a tail
    for (DType wt : {DType::F32, DType::F16, DType::BF16}) {
        const auto wf = random_floats(size_t(rows) * cols, 21),
                   x = random_floats(size_t(tokens) * cols, 22);
        const size_t rb = row_bytes(wt, cols);
        std::vector<uint8_t> w(rb * rows);
        std::vector<float> wq(wf.size()); // the weights as stored, back in floats
        for (int r = 0; r < rows; r++) {
            quantize_row_ref(wt, wf.data() + size_t(r) * cols, w.data() + rb * r, cols);
            dequantize_row_ref(wt, w.data() + rb * r, wq.data() + size_t(r) * cols, cols);
        }
        for (const Kernels* k : simd_rows()) {
            std::vector<float> y1(size_t(rows) * tokens), y2(y1.size()), y3(y1.size());
            const MatrixRef m{wt, w.data(), rows, cols};
            matmul(*k, m, x.data(), tokens, y1.data(), rows, 1);
            matmul(*k, m, x.data(), tokens, y2.data(), rows, 2);
            matmul(*k, m, x.data(), tokens, y3.data(), rows, 3);
            EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * 4)) << k->name;
            EXPECT_EQ(0, std::memcmp(y1.data(), y3.data(), y1.size() * 4)) << k->name;
            std::vector<float> xs = x; // the activations as the product takes them
            if (wt == DType::BF16 && onednn_bf16_available())
                for (float& v : xs) v = bf16_to_f32(f32_to_bf16(v));
            for (int t = 0; t < tokens; t++)
                for (int r = 0; r < rows; r++) {
                    const float ref = dot_f32_ref(cols, wq.data() + size_t(r) * cols,
                                                  xs.data() + size_t(t) * cols);
                    ASSERT_NEAR(y1[size_t(t) * rows + r], ref, 1e-4f * (1 + std::fabs(ref)))
                        << k->name << " " << dtype_name(wt) << " " << t << "," << r;
                }
        }
    }
}

// F32, F16 and BF16 weights through oneDNN's f32 matmul, called directly: odd row counts (two
// 128-row panels and a tail), few and many tokens, a wider output stride left untouched past the
// rows, the same bits for 1, 2 and 3 threads. Runs on AVX-512 CPUs, where it is the prefill path.
TEST(Kernels, FloatPrefillThroughOneDnnF32EqualsTheDotProducts) {
    if (!onednn_f32_preferred())
        GTEST_SKIP() << "float prefill goes to OpenBLAS on this CPU (oneDNN's f32 matmul is used "
                        "on AVX-512 CPUs); FloatPrefillThroughTheLibraries... covers it";
    const int rows = 265, cols = 96;
    for (DType wt : {DType::F32, DType::F16, DType::BF16}) {
        const auto wf = random_floats(size_t(rows) * cols, 41);
        const size_t rb = row_bytes(wt, cols);
        std::vector<uint8_t> w(rb * rows);
        std::vector<float> wq(wf.size());
        for (int r = 0; r < rows; r++) {
            quantize_row_ref(wt, wf.data() + size_t(r) * cols, w.data() + rb * r, cols);
            dequantize_row_ref(wt, w.data() + rb * r, wq.data() + size_t(r) * cols, cols);
        }
        const MatrixRef m{wt, w.data(), rows, cols};
        const Kernels& k = kernels();
        for (int tokens : {3, 16, 37}) {
            const auto x = random_floats(size_t(tokens) * cols, uint32_t(42 + tokens));
            const int ys = rows + 3;
            std::vector<float> y1(size_t(ys) * tokens, -1.0f), y2(y1), y3(y1);
            ASSERT_TRUE(matmul_f32_onednn(k, m, x.data(), tokens, y1.data(), ys, 1));
            ASSERT_TRUE(matmul_f32_onednn(k, m, x.data(), tokens, y2.data(), ys, 2));
            ASSERT_TRUE(matmul_f32_onednn(k, m, x.data(), tokens, y3.data(), ys, 3));
            EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * 4));
            EXPECT_EQ(0, std::memcmp(y1.data(), y3.data(), y1.size() * 4));
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < rows; r++) {
                    double ref = 0, mag = 0;
                    for (int i = 0; i < cols; i++) {
                        const double a = wq[size_t(r) * cols + i], b = x[size_t(t) * cols + i];
                        ref += a * b, mag += std::fabs(a * b);
                    }
                    ASSERT_NEAR(y1[size_t(t) * ys + r], ref, 1e-5 * mag + 1e-6)
                        << dtype_name(wt) << " tokens=" << tokens << " t=" << t << " r=" << r;
                }
                for (int r = rows; r < ys; r++) ASSERT_EQ(y1[size_t(t) * ys + r], -1.0f);
            }
        }
    }
    const MatrixRef q{DType::Q8_0, nullptr, 8, 32};
    EXPECT_FALSE(matmul_f32_onednn(kernels(), q, nullptr, 8, nullptr, 8, 1)); // not a float type
}

// BF16 x bf16(activations) through oneDNN, called directly: odd row counts (two 128-row panels
// and a tail), few and many tokens, a wider output stride left untouched past the rows, the same
// bits for 1, 2 and 3 threads. Runs where oneDNN has a bf16 matmul (AVX512_BF16 or AMX).
TEST(Kernels, Bf16PrefillThroughOneDnnEqualsTheDotProductsOfBf16Activations) {
    if (!onednn_bf16_available())
        GTEST_SKIP() << "oneDNN has no bf16 matmul on this CPU (it needs AVX512_BF16 or AMX); "
                        "BF16 prefill goes through f32 here (FloatPrefillThroughTheLibraries...)";
    const int rows = 265, cols = 96;
    const auto wf = random_floats(size_t(rows) * cols, 31);
    const size_t rb = row_bytes(DType::BF16, cols);
    std::vector<uint8_t> w(rb * rows);
    std::vector<float> wq(wf.size());
    for (int r = 0; r < rows; r++) {
        quantize_row_ref(DType::BF16, wf.data() + size_t(r) * cols, w.data() + rb * r, cols);
        dequantize_row_ref(DType::BF16, w.data() + rb * r, wq.data() + size_t(r) * cols, cols);
    }
    const MatrixRef m{DType::BF16, w.data(), rows, cols};
    for (int tokens : {3, 16, 37}) {
        const auto x = random_floats(size_t(tokens) * cols, uint32_t(32 + tokens));
        const int ys = rows + 3;
        std::vector<float> y1(size_t(ys) * tokens, -1.0f), y2(y1), y3(y1);
        ASSERT_TRUE(matmul_bf16_onednn(m, x.data(), tokens, y1.data(), ys, 1));
        ASSERT_TRUE(matmul_bf16_onednn(m, x.data(), tokens, y2.data(), ys, 2));
        ASSERT_TRUE(matmul_bf16_onednn(m, x.data(), tokens, y3.data(), ys, 3));
        EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * 4));
        EXPECT_EQ(0, std::memcmp(y1.data(), y3.data(), y1.size() * 4));
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double ref = 0, mag = 0;
                for (int i = 0; i < cols; i++) {
                    const double a = wq[size_t(r) * cols + i],
                                 b = bf16_to_f32(f32_to_bf16(x[size_t(t) * cols + i]));
                    ref += a * b, mag += std::fabs(a * b);
                }
                ASSERT_NEAR(y1[size_t(t) * ys + r], ref, 1e-5 * mag + 1e-6)
                    << "tokens=" << tokens << " t=" << t << " r=" << r;
            }
            for (int r = rows; r < ys; r++) ASSERT_EQ(y1[size_t(t) * ys + r], -1.0f);
        }
    }
}

TEST(Kernels, RowDequantizationMatchesTheReferenceExactly) {
    for (const Kernels* k : simd_rows()) {
        for (const DTypeInfo& info : dtype_table()) {
            const DType t = info.type;
            const int block = dtype_info(t).block_size == 1 ? 1 : dtype_info(t).block_size;
            for (int count : {1, 3, 9}) {
                const int n = count * (block == 1 ? 7 : block);
                const auto w = encode(t, random_floats(size_t(n), uint32_t(n)));
                std::vector<float> ref(static_cast<size_t>(n)), got(static_cast<size_t>(n));
                dequantize_row_ref(t, w.data(), ref.data(), n);
                k->dequantize(t, w.data(), got.data(), n);
                EXPECT_EQ(0, std::memcmp(ref.data(), got.data(), ref.size() * 4))
                    << k->name << " " << dtype_name(t) << " n=" << n;
            }
        }
    }
}

// matmul_many (several matrices on one input in one parallel region) gives byte for byte what
// separate matmul calls give, for row-major and interleaved matrices, 1 to 3 threads.
TEST(Kernels, MatmulManyEqualsSeparateMatmuls) {
    const int cols = 512;
    for (const Kernels* k : available_kernels())
        for (DType wt : {DType::Q4_0, DType::Q8_0, DType::Q4_K})
            for (int tokens : {1, 5}) {
                const int rows[3] = {40, 16, 72};
                std::vector<uint8_t> w[3];
                MatrixRef m[3];
                for (int i = 0; i < 3; i++) {
                    const auto wf = random_floats(size_t(rows[i]) * cols, uint32_t(20 + i));
                    std::vector<uint8_t> plain(row_bytes(wt, cols) * size_t(rows[i]));
                    for (int r = 0; r < rows[i]; r++)
                        quantize_row_ref(wt, wf.data() + size_t(r) * cols,
                                         plain.data() + row_bytes(wt, cols) * size_t(r), cols);
                    const bool x8 = i != 1; // a row-major one among them
                    w[i] = plain;
                    if (x8) interleave8(wt, plain.data(), w[i].data(), uint64_t(rows[i]), cols);
                    m[i] = {wt, w[i].data(), rows[i], cols,
                            x8 ? TensorLayout::Interleave8 : TensorLayout::RowMajor};
                }
                const auto x = random_floats(size_t(tokens) * cols, 7);
                std::vector<uint8_t> act(activation_row_bytes(wt, cols) * size_t(tokens));
                quantize_activations(*k, wt, x.data(), cols, cols, tokens, act.data());
                std::vector<float> want[3], got[3];
                for (int i = 0; i < 3; i++) {
                    want[i].assign(size_t(rows[i]) * size_t(tokens), 0.0f);
                    matmul(*k, m[i], act.data(), tokens, want[i].data(), rows[i], 2);
                }
                for (int threads : {1, 2, 3}) {
                    MatmulOut outs[3];
                    for (int i = 0; i < 3; i++) {
                        got[i].assign(want[i].size(), -1.0f);
                        outs[i] = {&m[i], got[i].data(), rows[i]};
                    }
                    matmul_many(*k, outs, 3, act.data(), tokens, threads);
                    for (int i = 0; i < 3; i++)
                        EXPECT_EQ(0, std::memcmp(got[i].data(), want[i].data(), got[i].size() * 4))
                            << k->name << " " << dtype_name(wt) << " matrix " << i
                            << " tokens=" << tokens << " threads=" << threads;
                }
            }
}
