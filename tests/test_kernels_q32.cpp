// Q4_1, Q5_0, Q5_1 and IQ4_NL (x Q8_0) in every SIMD row this CPU runs: each row has its own
// kernels for them (x86: dot, GEMV slices and prefill tiles; NEON: dot), and those kernels
// give the reference's results on blocks at the extremes of every level and activation, where
// an int16 intermediate would overflow if a kernel let one. (Random data, odd row and token
// counts: tests/test_kernels.cpp's generic tests, which cover every type's kernels.)
#include "core/dtype.h"
#include "core/half.h"
#include "core/quant_blocks.h"
#include "core/quantize_ref.h"
#include "ops/kernels.h"
#include "tests/kernel_test_data.h"

#include <cstddef>
#include <cstring>
#include <gtest/gtest.h>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

using namespace strata;

namespace {

constexpr DType kQ32Types[] = {DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::IQ4_NL};

bool is_x86_row(const Kernels& k) { return std::string(k.name).rfind("avx", 0) == 0; }

// n_rows rows of `blocks` blocks of type t, every byte random except the f16 scale fields at
// the offsets given (random magnitudes in [0.5, 2), so results stay finite; a second field, a
// minimum, negative): every bit pattern of the levels and sub-block scales occurs.
std::vector<uint8_t> random_blocks(DType t, int n_rows, int blocks, uint32_t seed,
                                   std::initializer_list<size_t> f16_fields) {
    const size_t bb = size_t(dtype_info(t).block_bytes);
    std::vector<uint8_t> w(bb * size_t(blocks) * size_t(n_rows));
    std::mt19937 rng(seed);
    for (auto& b : w) b = uint8_t(rng());
    std::uniform_real_distribution<float> scale(0.5f, 2.0f);
    for (size_t o = 0; o < w.size(); o += bb) {
        float sign = 1.0f;
        for (size_t field : f16_fields) {
            const uint16_t h = f32_to_f16(sign * scale(rng));
            std::memcpy(&w[o + field], &h, 2);
            sign = -1.0f;
        }
    }
    return w;
}

std::vector<uint8_t> random_blocks(DType t, int n_rows, int blocks, uint32_t seed) {
    if (t == DType::Q4_1 || t == DType::Q5_1) return random_blocks(t, n_rows, blocks, seed, {0, 2});
    return random_blocks(t, n_rows, blocks, seed, {0});
}

// Q8_0 activations whose quants are all +-127 (signs random): the largest products. (-128 never
// occurs: the activation quantizer's scale is max|x| / 127.)
std::vector<uint8_t> extreme_activations(int n_tok, int blocks, uint32_t seed) {
    std::vector<BlockQ8_0> a(size_t(n_tok) * size_t(blocks));
    std::mt19937 rng(seed);
    for (BlockQ8_0& b : a) {
        b.d = f32_to_f16(0.01f);
        for (int8_t& q : b.qs) q = int8_t(rng() & 1 ? 127 : -127);
    }
    std::vector<uint8_t> out(a.size() * sizeof(BlockQ8_0));
    std::memcpy(out.data(), a.data(), out.size());
    return out;
}

std::vector<const Kernels*> simd_rows() {
    std::vector<const Kernels*> rows;
    for (const Kernels* k : available_kernels())
        if (std::string(k->name) != "ref") rows.push_back(k);
    return rows;
}

} // namespace

TEST(KernelsQ32, EverySimdRowHasItsOwnKernelsForTheseTypes) {
    for (const Kernels* k : simd_rows())
        for (DType t : kQ32Types) {
            EXPECT_NE((*k)[t].dot, nullptr) << k->name << " " << dtype_name(t);
            if (is_x86_row(*k)) {
                EXPECT_NE((*k)[t].rows, nullptr) << k->name << " " << dtype_name(t);
                EXPECT_NE((*k)[t].tile, nullptr) << k->name << " " << dtype_name(t);
            }
        }
}

// Every kernel shape (dot, 8-row slices with a tail, tiles of 8 rows x 4 tokens (AVX2) or 8
// tokens (VNNI) with row and token tails) on random level bytes against +-127 activations
// equals the reference up to summation order.
TEST(KernelsQ32, ExtremeLevelsAndActivationsMatchTheReference) {
    const int n_rows = 11, n_tok = 19;
    int checked = 0;
    for (const Kernels* k : simd_rows())
        for (DType t : kQ32Types)
            for (int blocks : {1, 4, 9}) {
                const int n = blocks * 32;
                const size_t rb = row_bytes(t, uint64_t(n)),
                             ab = row_bytes(DType::Q8_0, uint64_t(n));
                const auto w = random_blocks(t, n_rows, blocks, uint32_t(blocks * 17 + int(t)));
                const auto a = extreme_activations(n_tok, blocks, uint32_t(blocks));
                std::vector<float> want(size_t(n_rows) * n_tok);
                std::vector<double> tol(want.size());
                for (int tk = 0; tk < n_tok; tk++)
                    for (int r = 0; r < n_rows; r++) {
                        const uint8_t* wr = w.data() + rb * size_t(r);
                        const uint8_t* at = a.data() + ab * size_t(tk);
                        const size_t i = size_t(tk) * n_rows + size_t(r);
                        want[i] = kKernelsRef.dot(t)(n, wr, at);
                        tol[i] = 1e-5 * test::abs_sum(t, wr, at, n) + 1e-6;
                        ASSERT_NEAR(k->dot(t)(n, wr, at), want[i], tol[i])
                            << k->name << " dot " << dtype_name(t) << " n=" << n << " r=" << r;
                    }
                if (const DotRowsFn rows = k->dot_rows(t))
                    for (int tk = 0; tk < n_tok; tk++) {
                        std::vector<float> got(size_t(n_rows), -1.0f);
                        rows(n, w.data(), rb, n_rows, a.data() + ab * size_t(tk), got.data());
                        for (int r = 0; r < n_rows; r++) {
                            const size_t i = size_t(tk) * n_rows + size_t(r);
                            ASSERT_NEAR(got[size_t(r)], want[i], tol[i])
                                << k->name << " rows " << dtype_name(t) << " n=" << n << " r=" << r;
                        }
                    }
                if (const DotTileFn tile = k->dot_tile(t)) {
                    std::vector<float> got(want.size(), -1.0f);
                    tile(n, w.data(), rb, n_rows, a.data(), ab, n_tok, got.data(), size_t(n_rows));
                    for (size_t i = 0; i < got.size(); i++)
                        ASSERT_NEAR(got[i], want[i], tol[i])
                            << k->name << " tile " << dtype_name(t) << " n=" << n << " i=" << i;
                }
                checked++;
            }
    std::printf("%d type x size cases checked\n", checked);
}

// A token's results from a prefill tile are exactly what the GEMV slice (decode) gives it: the
// tiles unpack (VNNI: and transpose) each block once for several tokens, and batched decoding
// must equal decoding alone. Random levels, random activations, token counts around the passes.
TEST(KernelsQ32, TilesGiveEachTokenExactlyTheGemvSlicesResult) {
    const int n_rows = 27, blocks = 7, n = blocks * 32; // 16 + 8 + 3 rows
    int checked = 0;
    for (const Kernels* k : simd_rows())
        for (DType t : kQ32Types) {
            const DotTileFn tile = k->dot_tile(t);
            const DotRowsFn rows = k->dot_rows(t);
            if (!tile || !rows) continue;
            const size_t rb = row_bytes(t, uint64_t(n)), ab = row_bytes(DType::Q8_0, uint64_t(n));
            const auto w = random_blocks(t, n_rows, blocks, uint32_t(31 + int(t)));
            for (int n_tok : {1, 5, 8, 13, 17}) {
                std::vector<float> x(size_t(n) * size_t(n_tok));
                std::mt19937 rng{uint32_t(n_tok)};
                std::normal_distribution<float> dist(0.0f, 1.0f);
                for (float& v : x) v = dist(rng);
                std::vector<uint8_t> a(ab * size_t(n_tok));
                for (int tk = 0; tk < n_tok; tk++)
                    quantize_row_ref(DType::Q8_0, x.data() + size_t(tk) * size_t(n),
                                     a.data() + ab * size_t(tk), n);
                std::vector<float> batch(size_t(n_rows) * size_t(n_tok), -1.0f);
                tile(n, w.data(), rb, n_rows, a.data(), ab, n_tok, batch.data(), size_t(n_rows));
                for (int tk = 0; tk < n_tok; tk++) {
                    std::vector<float> alone(size_t(n_rows), -2.0f);
                    rows(n, w.data(), rb, n_rows, a.data() + ab * size_t(tk), alone.data());
                    for (int r = 0; r < n_rows; r++)
                        ASSERT_EQ(batch[size_t(tk) * size_t(n_rows) + size_t(r)], alone[size_t(r)])
                            << k->name << " " << dtype_name(t) << " tokens=" << n_tok << " t=" << tk
                            << " r=" << r;
                }
                checked++;
            }
        }
    std::printf("%d tile x token-count cases checked\n", checked);
}

// Q2_K, Q3_K, Q5_K and IQ4_XS (x Q8_K) where a SIMD row has its own dot (NEON; x86 where
// another kernel file adds them): random level and scale bits, activations of +-1 (quants
// +-127), against the reference.
TEST(KernelsQ32, KQuantDotsOnRandomBitsMatchTheReference) {
    struct Case {
        DType type;
        std::initializer_list<size_t> f16_fields;
    };
    const Case cases[] = {
        {DType::Q2_K, {offsetof(BlockQ2_K, d), offsetof(BlockQ2_K, dmin)}},
        {DType::Q3_K, {offsetof(BlockQ3_K, d)}},
        {DType::Q5_K, {offsetof(BlockQ5_K, d), offsetof(BlockQ5_K, dmin)}},
        {DType::IQ4_XS, {offsetof(BlockIQ4_XS, d)}},
    };
    int checked = 0;
    for (const Kernels* k : simd_rows())
        for (const Case& c : cases) {
            if (!(*k)[c.type].dot) continue;
            for (int blocks : {1, 2, 5}) {
                const int n = blocks * QK_K;
                const auto w = random_blocks(c.type, 1, blocks, uint32_t(blocks * 5 + int(c.type)),
                                             c.f16_fields);
                std::vector<float> x(static_cast<size_t>(n));
                std::mt19937 rng(static_cast<uint32_t>(blocks));
                for (float& v : x) v = rng() & 1 ? 1.0f : -1.0f;
                std::vector<uint8_t> a(row_bytes(DType::Q8_K, uint64_t(n)));
                quantize_row_ref(DType::Q8_K, x.data(), a.data(), n);
                const float want = kKernelsRef.dot(c.type)(n, w.data(), a.data());
                ASSERT_NEAR(k->dot(c.type)(n, w.data(), a.data()), want,
                            1e-5 * test::abs_sum(c.type, w.data(), a.data(), n) + 1e-6)
                    << k->name << " " << dtype_name(c.type) << " n=" << n;
                checked++;
            }
        }
    std::printf("%d K-quant rows checked\n", checked);
}
