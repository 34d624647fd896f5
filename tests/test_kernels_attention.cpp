// The attention kernels of every SIMD row this CPU can run (and GeGLU and RoPE beside them),
// against the scalar reference and the textbook formulas: chunked, windowed, soft-capped,
// per-head sections, rings, several tokens at once. Random data with odd sizes and tails.
#include "core/dtype.h"
#include "core/half.h"
#include "core/quantize_ref.h"
#include "ops/attention.h"
#include "ops/dot_ref.h"
#include "ops/kernels.h"
#include "ops/rope.h"
#include "tests/kernel_test_data.h"

#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <random>
#include <vector>

using namespace strata;
using strata::test::random_floats;
using strata::test::encode;
using strata::test::simd_rows;

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
