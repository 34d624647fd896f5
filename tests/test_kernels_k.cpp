// The Q2_K, Q3_K, Q5_K and IQ4_XS x Q8_K kernels (ops/x86/dot_k_impl.h) of every SIMD row this
// CPU runs, against the scalar reference (ops/dot_ref_types.cpp). Besides the generic checks in
// test_kernels.cpp (quantized random floats), these feed raw random blocks — every bit pattern of
// the packed scales, mins, high bits and levels, which a quantizer's output may never reach —
// and saturating extremes (largest levels and scales against +-127 activations), where an int16
// overflow in the products would show.
//
// Tolerance: the integer sums of a block are exact in every kernel, so results differ from the
// reference only by the order of the float operations: per block one product of at most three
// floats, then a sum over at most 8 lanes x n/256 blocks. Relative rounding of that order is a
// few hundred float epsilons (6e-8) at most, so 1e-5 of the sum of |terms| (the dequantized
// products) bounds it with margin, while any wrong integer (one level or scale off) moves the
// result by far more than that on these operands. Rows and tiles must equal the single-row dot
// bit for bit: they run the same operations in the same order (prefill equals decode).
#include "core/dtype.h"
#include "core/half.h"
#include "core/quant_blocks.h"
#include "ops/kernels.h"
#include "tests/kernel_test_data.h"

#include <cstring>
#include <gtest/gtest.h>
#include <random>
#include <vector>

using namespace strata;
using strata::test::simd_rows;

namespace {

const DType kTypes[] = {DType::Q2_K, DType::Q3_K, DType::Q5_K, DType::IQ4_XS};

// Random bytes for every field, then finite super-block scales (positive and negative).
template <class Block> void finite_scales(Block& b, std::mt19937& rng) {
    std::uniform_real_distribution<float> mag(0.002f, 0.05f);
    const float sign = rng() % 4 == 0 ? -1.0f : 1.0f;
    b.d = f32_to_f16(sign * mag(rng));
    if constexpr (requires { b.dmin; }) b.dmin = f32_to_f16(mag(rng));
}

// n values of type t as raw random blocks; `extreme`: every level and scale at its largest.
std::vector<uint8_t> raw_weights(DType t, int n, uint32_t seed, bool extreme = false) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> w(row_bytes(t, uint64_t(n)));
    for (auto& x : w) x = extreme ? 0xff : uint8_t(rng());
    const int nb = n / QK_K;
    for (int b = 0; b < nb; b++) {
        uint8_t* p = w.data() + size_t(b) * dtype_info(t).block_bytes;
        auto fix = [&](auto* blk) { finite_scales(*blk, rng); };
        switch (t) {
        case DType::Q2_K:
            fix(reinterpret_cast<BlockQ2_K*>(p));
            break;
        case DType::Q3_K:
            fix(reinterpret_cast<BlockQ3_K*>(p));
            break;
        case DType::Q5_K:
            fix(reinterpret_cast<BlockQ5_K*>(p));
            break;
        case DType::IQ4_XS: {
            auto* blk = reinterpret_cast<BlockIQ4_XS*>(p);
            fix(blk);
            if (extreme) { // every level -127 (index 0), every scale 0 - 32: the largest magnitudes
                std::memset(blk->qs, 0, sizeof blk->qs);
                blk->scales_h = 0;
                std::memset(blk->scales_l, 0, sizeof blk->scales_l);
            }
            break;
        }
        default:
            ADD_FAILURE() << "not a type of this test";
        }
    }
    return w;
}

// n activations as raw Q8_K blocks: bytes uniform in -127..127 (extreme: all +127 or -127),
// consistent block sums.
std::vector<uint8_t> raw_activations(int n, uint32_t seed, int extreme = 0) {
    std::mt19937 rng(seed);
    std::vector<BlockQ8_K> a(size_t(n / QK_K));
    std::uniform_int_distribution<int> q(-127, 127);
    std::uniform_real_distribution<float> d(0.001f, 0.03f);
    for (auto& b : a) {
        b.d = d(rng);
        for (auto& x : b.qs) x = int8_t(extreme ? 127 * extreme : q(rng));
        for (int s = 0; s < QK_K / 16; s++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) sum += b.qs[16 * s + i];
            b.bsums[s] = int16_t(sum);
        }
    }
    std::vector<uint8_t> out(a.size() * sizeof(BlockQ8_K));
    std::memcpy(out.data(), a.data(), out.size());
    return out;
}

double tolerance(DType t, const uint8_t* w, const uint8_t* a, int n) {
    return 1e-5 * test::abs_sum(t, w, a, n) + 1e-6;
}

} // namespace

#if defined(__x86_64__)
TEST(KQuantKernels, EveryX86RowHasItsOwnDotRowsAndTiles) {
    for (const Kernels* k : simd_rows())
        for (DType t : kTypes) {
            EXPECT_NE((*k)[t].dot, nullptr) << k->name << " " << dtype_name(t);
            EXPECT_NE((*k)[t].rows, nullptr) << k->name << " " << dtype_name(t);
            EXPECT_NE((*k)[t].tile, nullptr) << k->name << " " << dtype_name(t);
        }
}
#endif

// Single-row dots on raw blocks, several n.
TEST(KQuantKernels, DotsOfRawBlocksMatchTheReference) {
    int checked = 0;
    for (const Kernels* k : simd_rows())
        for (DType t : kTypes)
            for (int blocks : {1, 2, 3, 8, 11, 22})
                for (uint32_t seed = 1; seed <= 4; seed++) {
                    const int n = blocks * QK_K;
                    const auto w = raw_weights(t, n, seed * 101 + uint32_t(blocks));
                    const auto a = raw_activations(n, seed * 103 + uint32_t(blocks));
                    const float ref = kKernelsRef.dot(t)(n, w.data(), a.data());
                    const float got = k->dot(t)(n, w.data(), a.data());
                    ASSERT_NEAR(got, ref, tolerance(t, w.data(), a.data(), n))
                        << k->name << " " << dtype_name(t) << " n=" << n << " seed=" << seed;
                    checked++;
                }
    std::printf("%d raw-block dots checked\n", checked);
}

// The largest levels and scales against all +127 and all -127 activations: the int16 pair sums
// are at their largest (a saturated VPMADDUBSW would be off by thousands).
TEST(KQuantKernels, SaturatingOperandsMatchTheReference) {
    for (const Kernels* k : simd_rows())
        for (DType t : kTypes)
            for (int sign : {1, -1}) {
                const int n = 4 * QK_K;
                const auto w = raw_weights(t, n, 7, /*extreme=*/true);
                const auto a = raw_activations(n, 9, sign);
                const float ref = kKernelsRef.dot(t)(n, w.data(), a.data());
                ASSERT_NE(ref, 0.0f) << dtype_name(t);
                ASSERT_NEAR(k->dot(t)(n, w.data(), a.data()), ref,
                            tolerance(t, w.data(), a.data(), n))
                    << k->name << " " << dtype_name(t) << " activations " << 127 * sign;
                // (GEMV slices and tiles where the row has them: NEON has dots only)
                std::vector<uint8_t> w3(w.size() * 3);
                for (int r = 0; r < 3; r++)
                    std::memcpy(w3.data() + w.size() * size_t(r), w.data(), w.size());
                if (const DotRowsFn rows_fn = k->dot_rows(t)) {
                    float rows[3];
                    rows_fn(n, w3.data(), w.size(), 3, a.data(), rows);
                    EXPECT_NEAR(rows[2], ref, tolerance(t, w.data(), a.data(), n))
                        << k->name << " rows";
                }
                if (const DotTileFn tile_fn = k->dot_tile(t)) {
                    float y[2];
                    tile_fn(n, w3.data(), w.size(), 2, a.data(), a.size(), 1, y, 2);
                    EXPECT_NEAR(y[1], ref, tolerance(t, w.data(), a.data(), n))
                        << k->name << " tile";
                }
            }
}

// GEMV slices and prefill tiles with odd row and token counts (the 4-row step, the 16-row and
// 4-token tile steps, and their tails) against the reference, and bit-identical to the row's dot.
TEST(KQuantKernels, RowsAndTilesMatchTheReferenceAndEqualTheDotExactly) {
    int checked = 0;
    for (const Kernels* k : simd_rows())
        for (DType t : kTypes) {
            const DotRowsFn rows = k->dot_rows(t);
            const DotTileFn tile = k->dot_tile(t);
            if (!rows || !tile) continue;
            for (int blocks : {1, 3, 8}) {
                const int n = blocks * QK_K;
                const size_t rb = row_bytes(t, uint64_t(n)),
                             ab = row_bytes(DType::Q8_K, uint64_t(n));
                for (int n_rows : {1, 3, 5, 13, 17, 37}) {
                    const auto w = raw_weights(t, n * n_rows, uint32_t(n_rows * 17 + blocks));
                    for (int n_tok : {1, 2, 3, 5, 7, 9}) {
                        const auto act = raw_activations(n * n_tok, uint32_t(n_tok * 19 + blocks));
                        const size_t ys = size_t(n_rows) + 2; // wider than the tile
                        std::vector<float> y(ys * size_t(n_tok), -1.0f);
                        tile(n, w.data(), rb, n_rows, act.data(), ab, n_tok, y.data(), ys);
                        for (int u = 0; u < n_tok; u++) {
                            const uint8_t* a = act.data() + ab * size_t(u);
                            std::vector<float> out(size_t(n_rows), -1.0f);
                            rows(n, w.data(), rb, n_rows, a, out.data());
                            for (int r = 0; r < n_rows; r++) {
                                const uint8_t* row = w.data() + rb * size_t(r);
                                const float ref = kKernelsRef.dot(t)(n, row, a);
                                const float dot = k->dot(t)(n, row, a);
                                ASSERT_NEAR(dot, ref, tolerance(t, row, a, n))
                                    << k->name << " " << dtype_name(t) << " n=" << n;
                                ASSERT_EQ(out[size_t(r)], dot)
                                    << k->name << " " << dtype_name(t) << " rows=" << n_rows
                                    << " r=" << r << " n=" << n;
                                ASSERT_EQ(y[size_t(u) * ys + size_t(r)], dot)
                                    << k->name << " " << dtype_name(t) << " rows=" << n_rows
                                    << " tokens=" << n_tok << " r=" << r << " t=" << u
                                    << " n=" << n;
                            }
                            for (size_t c = size_t(n_rows); c < ys; c++) // past the tile: untouched
                                ASSERT_EQ(y[size_t(u) * ys + c], -1.0f) << k->name;
                        }
                        checked++;
                    }
                }
            }
        }
    std::printf("%d tiles (and their GEMV slices) checked\n", checked);
}
