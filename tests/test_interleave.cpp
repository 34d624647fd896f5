// The interleave8 layout (core/interleave.h) and the kernels that read it: the layout puts
// each byte where docs/format.md says, round-trips losslessly, and every kernel row's
// interleaved dot products equal the row-major reference (the reference row exactly).
#include "core/dtype.h"
#include "core/error.h"
#include "core/interleave.h"
#include "core/quant_blocks.h"
#include "core/quantize_ref.h"
#include "ops/dot_ref.h"
#include "ops/kernels.h"
#include "ops/matmul.h"
#include "tests/kernel_test_data.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <regex>
#include <string>
#include <vector>

using namespace strata;
using strata::test::abs_sum;
using strata::test::random_floats;

namespace {

// rows x cols of `type` (a type with the Interleave8 layout), row-major.
std::vector<uint8_t> matrix(DType type, int rows, int cols, uint32_t seed) {
    const size_t rb = row_bytes(type, uint64_t(cols));
    std::vector<uint8_t> w(rb * size_t(rows));
    for (int r = 0; r < rows; r++)
        quantize_row_ref(type, random_floats(size_t(cols), seed + uint32_t(r)).data(),
                         w.data() + rb * size_t(r), cols);
    return w;
}
std::vector<uint8_t> q4_0_matrix(int rows, int cols, uint32_t seed) {
    return matrix(DType::Q4_0, rows, cols, seed);
}

// n_tok activation rows for weights of `type` (Q8_0 for the 32-value types, Q8_K for the K-quants).
std::vector<uint8_t> activations(DType type, int n_tok, int cols, uint32_t seed) {
    const DType at = activation_type(type);
    const size_t ab = row_bytes(at, uint64_t(cols));
    std::vector<uint8_t> a(ab * size_t(n_tok));
    for (int t = 0; t < n_tok; t++)
        quantize_row_ref(at, random_floats(size_t(cols), seed + uint32_t(t), 2.0f).data(),
                         a.data() + ab * size_t(t), cols);
    return a;
}
std::vector<uint8_t> q8_0_rows(int n_tok, int cols, uint32_t seed) {
    return activations(DType::Q4_0, n_tok, cols, seed);
}

float ref_dot(DType type, int n, const uint8_t* w, const uint8_t* a) {
    return kKernelsRef.dot(type)(n, w, a);
}

// The types of the type table with the Interleave8 layout.
std::vector<DType> interleaved_types() {
    std::vector<DType> out;
    for (const DTypeInfo& info : dtype_table())
        if (info.interleave8) out.push_back(info.type);
    return out;
}

} // namespace

TEST(Interleave8, BytesSitWhereTheFormatSaysAndRoundTrip) {
    const int rows = 24, cols = 96; // 3 groups of 8, 3 blocks per row
    const auto w = q4_0_matrix(rows, cols, 5);
    const size_t rb = row_bytes(DType::Q4_0, cols);
    std::vector<uint8_t> x(w.size()), back(w.size());
    interleave8(DType::Q4_0, w.data(), x.data(), rows, cols);
    EXPECT_NE(0, std::memcmp(w.data(), x.data(), w.size())); // it did rearrange
    // group g, block b: 8 f16 scales, then piece c of row k at 16 + 32c + 4k (docs/format.md)
    for (int r = 0; r < rows; r++)
        for (int b = 0; b < cols / 32; b++) {
            const auto* blk = reinterpret_cast<const BlockQ4_0*>(w.data() + rb * size_t(r)) + b;
            const uint8_t* gb = x.data() + size_t(r / 8) * 8 * rb + size_t(b) * 8 * 18;
            ASSERT_EQ(0, std::memcmp(gb + 2 * (r % 8), &blk->d, 2)) << r << " " << b;
            for (int j = 0; j < 16; j++)
                ASSERT_EQ(gb[16 + (j / 4) * 32 + 4 * (r % 8) + j % 4], blk->qs[j])
                    << r << " " << b << " " << j;
        }
    deinterleave8(DType::Q4_0, x.data(), back.data(), rows, cols);
    EXPECT_EQ(0, std::memcmp(w.data(), back.data(), w.size()));
    std::vector<uint8_t> row(rb);
    interleaved_row(DType::Q4_0, x.data(), 13, cols, row.data());
    EXPECT_EQ(0, std::memcmp(row.data(), w.data() + 13 * rb, rb));
}

TEST(Interleave8, Q8_0BytesSitWhereTheFormatSaysAndRoundTrip) {
    const int rows = 16, cols = 96; // 2 groups, 3 blocks per row
    const auto w = matrix(DType::Q8_0, rows, cols, 6);
    const size_t rb = row_bytes(DType::Q8_0, cols);
    std::vector<uint8_t> x(w.size()), back(w.size());
    interleave8(DType::Q8_0, w.data(), x.data(), rows, cols);
    EXPECT_NE(0, std::memcmp(w.data(), x.data(), w.size()));
    // group g, block b: 8 f16 scales, then piece c (values 4c..4c+3) of row k at 16 + 32c + 4k
    for (int r = 0; r < rows; r++)
        for (int b = 0; b < cols / 32; b++) {
            const auto* blk = reinterpret_cast<const BlockQ8_0*>(w.data() + rb * size_t(r)) + b;
            const uint8_t* gb = x.data() + size_t(r / 8) * 8 * rb + size_t(b) * 8 * 34;
            ASSERT_EQ(0, std::memcmp(gb + 2 * (r % 8), &blk->d, 2)) << r << " " << b;
            for (int j = 0; j < 32; j++)
                ASSERT_EQ(int8_t(gb[16 + (j / 4) * 32 + 4 * (r % 8) + j % 4]), blk->qs[j])
                    << r << " " << b << " " << j;
        }
    deinterleave8(DType::Q8_0, x.data(), back.data(), rows, cols);
    EXPECT_EQ(0, std::memcmp(w.data(), back.data(), w.size()));
    std::vector<uint8_t> row(rb);
    interleaved_row(DType::Q8_0, x.data(), 9, cols, row.data());
    EXPECT_EQ(0, std::memcmp(row.data(), w.data() + 9 * rb, rb));
}

TEST(Interleave8, Q4_KBytesSitWhereTheFormatSaysAndRoundTrip) {
    const int rows = 16, cols = 512; // 2 groups, 2 super-blocks per row
    const auto w = matrix(DType::Q4_K, rows, cols, 8);
    const size_t rb = row_bytes(DType::Q4_K, cols);
    std::vector<uint8_t> x(w.size()), back(w.size());
    interleave8(DType::Q4_K, w.data(), x.data(), rows, cols);
    for (int r = 0; r < rows; r++)
        for (int b = 0; b < cols / 256; b++) {
            const auto* blk = reinterpret_cast<const BlockQ4_K*>(w.data() + rb * size_t(r)) + b;
            const uint8_t* gb = x.data() + size_t(r / 8) * 8 * rb + size_t(b) * 8 * 144;
            const int k = r % 8;
            ASSERT_EQ(0, std::memcmp(gb + 2 * k, &blk->d, 2)) << r << " " << b;
            ASSERT_EQ(0, std::memcmp(gb + 16 + 2 * k, &blk->dmin, 2)) << r << " " << b;
            for (int j = 0; j < 12; j++) ASSERT_EQ(gb[32 + 8 * j + k], blk->scales[j]) << j;
            for (int j = 0; j < 128; j++)
                ASSERT_EQ(gb[128 + (j / 4) * 32 + 4 * k + j % 4], blk->qs[j]) << j;
        }
    deinterleave8(DType::Q4_K, x.data(), back.data(), rows, cols);
    EXPECT_EQ(0, std::memcmp(w.data(), back.data(), w.size()));
}

// Q5_K: Q4_K's fields with the fifth bits' qh between scales and qs, in 4-byte pieces as qs.
TEST(Interleave8, Q5_KBytesSitWhereTheFormatSaysAndRoundTrip) {
    const int rows = 16, cols = 768; // 2 groups, 3 super-blocks per row
    const auto w = matrix(DType::Q5_K, rows, cols, 10);
    const size_t rb = row_bytes(DType::Q5_K, cols);
    std::vector<uint8_t> x(w.size()), back(w.size());
    interleave8(DType::Q5_K, w.data(), x.data(), rows, cols);
    EXPECT_NE(0, std::memcmp(w.data(), x.data(), w.size()));
    for (int r = 0; r < rows; r++)
        for (int b = 0; b < cols / 256; b++) {
            const auto* blk = reinterpret_cast<const BlockQ5_K*>(w.data() + rb * size_t(r)) + b;
            const uint8_t* gb = x.data() + size_t(r / 8) * 8 * rb + size_t(b) * 8 * 176;
            const int k = r % 8;
            ASSERT_EQ(0, std::memcmp(gb + 2 * k, &blk->d, 2)) << r << " " << b;
            ASSERT_EQ(0, std::memcmp(gb + 16 + 2 * k, &blk->dmin, 2)) << r << " " << b;
            for (int j = 0; j < 12; j++) ASSERT_EQ(gb[32 + 8 * j + k], blk->scales[j]) << j;
            for (int j = 0; j < 32; j++)
                ASSERT_EQ(gb[128 + (j / 4) * 32 + 4 * k + j % 4], blk->qh[j]) << j;
            for (int j = 0; j < 128; j++)
                ASSERT_EQ(gb[384 + (j / 4) * 32 + 4 * k + j % 4], blk->qs[j]) << j;
        }
    deinterleave8(DType::Q5_K, x.data(), back.data(), rows, cols);
    EXPECT_EQ(0, std::memcmp(w.data(), back.data(), w.size()));
    std::vector<uint8_t> row(rb);
    interleaved_row(DType::Q5_K, x.data(), 13, cols, row.data());
    EXPECT_EQ(0, std::memcmp(row.data(), w.data() + 13 * rb, rb));
}

// The largest Q4_K / Q5_K / Q2_K / Q3_K sums: every value at its top (15 / 31 / 3 / 7: qs, qh and
// hmask all ones), scales and mins at theirs (63; Q2_K 15; Q3_K -32, its 6-bit fields all zero),
// against activations of -128 and 127, for 1, 2 and 5 tokens (decode, the 2-token pass, the pairs
// of prefill), in 2 groups (AVX-512 pairs them; Q2_K's and Q3_K's decode packs a sub-block's level
// sum into int16 there: 16 x 7 x 128 at most). AVX2 sums a sub-block's byte
// products in int16 lanes, which hold only 4 pieces of Q5_K's (4 x 2 x 31 x 128 = 31744); a run of
// 8 would wrap. VNNI takes Q4_K's high nibbles in place, 16 x their value (8 x 4 x 240 x 128 x 63 <
// 2^31 per sub-block sum). Every row must give the reference's result.
template <class Block> void expect_extreme_k_sums(DType type) {
    const int rows = 16, n = 2 * QK_K, max_tokens = 5;
    std::vector<Block> w(size_t(rows) * 2);
    for (auto& blk : w) {
        blk.d = 0x3C00;                          // 1.0
        if constexpr (requires { blk.hmask; }) { // Q3_K
            std::memset(blk.scales, 0, sizeof blk.scales);
            std::memset(blk.hmask, 0xFF, sizeof blk.hmask);
        } else {
            blk.dmin = 0x3800; // 0.5
            std::memset(blk.scales, 0xFF, sizeof blk.scales);
        }
        if constexpr (requires { blk.qh; }) std::memset(blk.qh, 0xFF, sizeof blk.qh);
        std::memset(blk.qs, 0xFF, sizeof blk.qs);
    }
    for (size_t i : {3, 19}) { // (one row of each group, 1 and 9, ...)
        if constexpr (requires { w[i].qh; })
            w[i].qh[5] = 0; // (... with other fifth bits)
        else if constexpr (requires { w[i].hmask; })
            w[i].hmask[5] = 0; // (... with other high bits)
        else
            w[i].qs[5] = 0x0F; // (... with another high nibble)
    }
    for (int8_t v : {int8_t(-128), int8_t(127)}) {
        BlockQ8_K a[max_tokens * 2];
        for (auto& blk : a) {
            blk.d = 1.0f;
            std::memset(blk.qs, v, sizeof blk.qs);
            for (auto& s : blk.bsums) s = int16_t(16 * v);
        }
        std::vector<uint8_t> x(w.size() * sizeof(Block));
        interleave8(type, reinterpret_cast<const uint8_t*>(w.data()), x.data(), rows, n);
        for (const Kernels* k : available_kernels())
            for (int tokens : {1, 2, max_tokens}) {
                std::vector<float> out(size_t(rows) * size_t(tokens));
                k->dot_x8(type)(n, x.data(), x.size() / 2, 2, a, 2 * sizeof(BlockQ8_K), nullptr,
                                tokens, out.data(), rows);
                for (int t = 0; t < tokens; t++)
                    for (int r = 0; r < rows; r++)
                        ASSERT_EQ(out[size_t(t) * rows + size_t(r)],
                                  ref_dot(type, n,
                                          reinterpret_cast<const uint8_t*>(w.data() + 2 * r),
                                          reinterpret_cast<const uint8_t*>(a + 2 * t)))
                            << k->name << " " << dtype_name(type) << " r=" << r
                            << " tokens=" << tokens << " y=" << int(v);
            }
    }
}

TEST(Interleave8, KQuantExtremeValuesDoNotOverflow) {
    expect_extreme_k_sums<BlockQ4_K>(DType::Q4_K);
    expect_extreme_k_sums<BlockQ5_K>(DType::Q5_K);
    expect_extreme_k_sums<BlockQ2_K>(DType::Q2_K);
    expect_extreme_k_sums<BlockQ3_K>(DType::Q3_K);
}

TEST(Interleave8, Q6_KBytesSitWhereTheFormatSaysAndRoundTrip) {
    const int rows = 8, cols = 512;
    const auto w = matrix(DType::Q6_K, rows, cols, 9);
    const size_t rb = row_bytes(DType::Q6_K, cols);
    std::vector<uint8_t> x(w.size()), back(w.size());
    interleave8(DType::Q6_K, w.data(), x.data(), rows, cols);
    for (int k = 0; k < rows; k++)
        for (int b = 0; b < cols / 256; b++) {
            const auto* blk = reinterpret_cast<const BlockQ6_K*>(w.data() + rb * size_t(k)) + b;
            const uint8_t* gb = x.data() + size_t(b) * 8 * 210;
            for (int j = 0; j < 128; j++)
                ASSERT_EQ(gb[(j / 4) * 32 + 4 * k + j % 4], blk->ql[j]) << j;
            for (int j = 0; j < 64; j++)
                ASSERT_EQ(gb[1024 + (j / 4) * 32 + 4 * k + j % 4], blk->qh[j]) << j;
            for (int j = 0; j < 16; j++)
                ASSERT_EQ(int8_t(gb[1536 + 8 * j + k]), blk->scales[j]) << j;
            ASSERT_EQ(0, std::memcmp(gb + 1664 + 2 * k, &blk->d, 2));
        }
    deinterleave8(DType::Q6_K, x.data(), back.data(), rows, cols);
    EXPECT_EQ(0, std::memcmp(w.data(), back.data(), w.size()));
}

// IQ4_XS: the 8 rows' d, scales_h, scales_l (a 4-byte piece per row), then qs as Q4_K's.
TEST(Interleave8, IQ4_XSBytesSitWhereTheFormatSaysAndRoundTrip) {
    const int rows = 16, cols = 768; // 2 groups, 3 super-blocks per row
    const auto w = matrix(DType::IQ4_XS, rows, cols, 11);
    const size_t rb = row_bytes(DType::IQ4_XS, cols);
    std::vector<uint8_t> x(w.size()), back(w.size());
    interleave8(DType::IQ4_XS, w.data(), x.data(), rows, cols);
    EXPECT_NE(0, std::memcmp(w.data(), x.data(), w.size()));
    for (int r = 0; r < rows; r++)
        for (int b = 0; b < cols / 256; b++) {
            const auto* blk = reinterpret_cast<const BlockIQ4_XS*>(w.data() + rb * size_t(r)) + b;
            const uint8_t* gb = x.data() + size_t(r / 8) * 8 * rb + size_t(b) * 8 * 136;
            const int k = r % 8;
            ASSERT_EQ(0, std::memcmp(gb + 2 * k, &blk->d, 2)) << r << " " << b;
            ASSERT_EQ(0, std::memcmp(gb + 16 + 2 * k, &blk->scales_h, 2)) << r << " " << b;
            ASSERT_EQ(0, std::memcmp(gb + 32 + 4 * k, blk->scales_l, 4)) << r << " " << b;
            for (int j = 0; j < 128; j++)
                ASSERT_EQ(gb[64 + (j / 4) * 32 + 4 * k + j % 4], blk->qs[j]) << j;
        }
    deinterleave8(DType::IQ4_XS, x.data(), back.data(), rows, cols);
    EXPECT_EQ(0, std::memcmp(w.data(), back.data(), w.size()));
    std::vector<uint8_t> row(rb);
    interleaved_row(DType::IQ4_XS, x.data(), 6, cols, row.data());
    EXPECT_EQ(0, std::memcmp(row.data(), w.data() + 6 * rb, rb));
}

// Q3_K: hmask pieces, then qs pieces, the packed scale bytes byte-interleaved, d[8].
TEST(Interleave8, Q3_KBytesSitWhereTheFormatSaysAndRoundTrip) {
    const int rows = 16, cols = 768; // 2 groups, 3 super-blocks per row
    const auto w = matrix(DType::Q3_K, rows, cols, 10);
    const size_t rb = row_bytes(DType::Q3_K, cols);
    ASSERT_EQ(sizeof(BlockQ3_K), 110u);
    std::vector<uint8_t> x(w.size()), back(w.size());
    interleave8(DType::Q3_K, w.data(), x.data(), rows, cols);
    EXPECT_NE(0, std::memcmp(w.data(), x.data(), w.size()));
    for (int r = 0; r < rows; r++)
        for (int b = 0; b < cols / 256; b++) {
            const auto* blk = reinterpret_cast<const BlockQ3_K*>(w.data() + rb * size_t(r)) + b;
            const uint8_t* gb = x.data() + size_t(r / 8) * 8 * rb + size_t(b) * 8 * 110;
            const int k = r % 8;
            for (int j = 0; j < 32; j++)
                ASSERT_EQ(gb[(j / 4) * 32 + 4 * k + j % 4], blk->hmask[j]) << r << " " << j;
            for (int j = 0; j < 64; j++)
                ASSERT_EQ(gb[256 + (j / 4) * 32 + 4 * k + j % 4], blk->qs[j]) << r << " " << j;
            for (int j = 0; j < 12; j++) ASSERT_EQ(gb[768 + 8 * j + k], blk->scales[j]) << j;
            ASSERT_EQ(0, std::memcmp(gb + 864 + 2 * k, &blk->d, 2)) << r << " " << b;
        }
    deinterleave8(DType::Q3_K, x.data(), back.data(), rows, cols);
    EXPECT_EQ(0, std::memcmp(w.data(), back.data(), w.size()));
    std::vector<uint8_t> row(rb);
    interleaved_row(DType::Q3_K, x.data(), 12, cols, row.data());
    EXPECT_EQ(0, std::memcmp(row.data(), w.data() + 12 * rb, rb));
}

// Q2_K: the scale bytes byte-interleaved, qs pieces, d[8], dmin[8].
TEST(Interleave8, Q2_KBytesSitWhereTheFormatSaysAndRoundTrip) {
    const int rows = 16, cols = 512; // 2 groups, 2 super-blocks per row
    const auto w = matrix(DType::Q2_K, rows, cols, 11);
    const size_t rb = row_bytes(DType::Q2_K, cols);
    ASSERT_EQ(sizeof(BlockQ2_K), 84u);
    std::vector<uint8_t> x(w.size()), back(w.size());
    interleave8(DType::Q2_K, w.data(), x.data(), rows, cols);
    EXPECT_NE(0, std::memcmp(w.data(), x.data(), w.size()));
    for (int r = 0; r < rows; r++)
        for (int b = 0; b < cols / 256; b++) {
            const auto* blk = reinterpret_cast<const BlockQ2_K*>(w.data() + rb * size_t(r)) + b;
            const uint8_t* gb = x.data() + size_t(r / 8) * 8 * rb + size_t(b) * 8 * 84;
            const int k = r % 8;
            for (int j = 0; j < 16; j++) ASSERT_EQ(gb[8 * j + k], blk->scales[j]) << j;
            for (int j = 0; j < 64; j++)
                ASSERT_EQ(gb[128 + (j / 4) * 32 + 4 * k + j % 4], blk->qs[j]) << r << " " << j;
            ASSERT_EQ(0, std::memcmp(gb + 640 + 2 * k, &blk->d, 2)) << r << " " << b;
            ASSERT_EQ(0, std::memcmp(gb + 656 + 2 * k, &blk->dmin, 2)) << r << " " << b;
        }
    deinterleave8(DType::Q2_K, x.data(), back.data(), rows, cols);
    EXPECT_EQ(0, std::memcmp(w.data(), back.data(), w.size()));
}

// IQ4_NL's block is Q4_0's (an f16 scale, 16 nibble bytes): its group blocks are laid out as
// Q4_0's, byte for byte, and come back.
TEST(Interleave8, IQ4_NLIsLaidOutAsQ4_0AndRoundTrips) {
    const int rows = 16, cols = 160; // 2 groups, 5 blocks per row
    const auto w = matrix(DType::IQ4_NL, rows, cols, 12);
    ASSERT_EQ(row_bytes(DType::IQ4_NL, cols), row_bytes(DType::Q4_0, cols));
    std::vector<uint8_t> x(w.size()), as_q4(w.size()), back(w.size());
    interleave8(DType::IQ4_NL, w.data(), x.data(), rows, cols);
    interleave8(DType::Q4_0, w.data(), as_q4.data(), rows, cols);
    EXPECT_NE(0, std::memcmp(w.data(), x.data(), w.size()));
    EXPECT_EQ(0, std::memcmp(as_q4.data(), x.data(), w.size()));
    deinterleave8(DType::IQ4_NL, x.data(), back.data(), rows, cols);
    EXPECT_EQ(0, std::memcmp(w.data(), back.data(), w.size()));
}

TEST(Interleave8, Q5_0BytesSitWhereTheFormatSaysAndRoundTrip) {
    const int rows = 16, cols = 96; // 2 groups, 3 blocks per row
    const auto w = matrix(DType::Q5_0, rows, cols, 13);
    const size_t rb = row_bytes(DType::Q5_0, cols);
    std::vector<uint8_t> x(w.size()), back(w.size());
    interleave8(DType::Q5_0, w.data(), x.data(), rows, cols);
    // group g, block b: 8 f16 scales, row k's 4 fifth-bit bytes at 16 + 4k, then nibble piece c
    // of row k at 48 + 32c + 4k
    for (int r = 0; r < rows; r++)
        for (int b = 0; b < cols / 32; b++) {
            const auto* blk = reinterpret_cast<const BlockQ5_0*>(w.data() + rb * size_t(r)) + b;
            const uint8_t* gb = x.data() + size_t(r / 8) * 8 * rb + size_t(b) * 8 * 22;
            const int k = r % 8;
            ASSERT_EQ(0, std::memcmp(gb + 2 * k, &blk->d, 2)) << r << " " << b;
            ASSERT_EQ(0, std::memcmp(gb + 16 + 4 * k, blk->qh, 4)) << r << " " << b;
            for (int j = 0; j < 16; j++)
                ASSERT_EQ(gb[48 + (j / 4) * 32 + 4 * k + j % 4], blk->qs[j]) << r << " " << j;
        }
    deinterleave8(DType::Q5_0, x.data(), back.data(), rows, cols);
    EXPECT_EQ(0, std::memcmp(w.data(), back.data(), w.size()));
}

// Q4_1 and Q5_1: the 8 rows' scales, then their minimums, then (Q5_1) their fifth-bit words and
// the nibble pieces.
TEST(Interleave8, Q4_1AndQ5_1BytesSitWhereTheFormatSaysAndRoundTrip) {
    const int rows = 16, cols = 96; // 2 groups, 3 blocks per row
    for (DType type : {DType::Q4_1, DType::Q5_1}) {
        const bool q5 = type == DType::Q5_1;
        const auto w = matrix(type, rows, cols, 14);
        const size_t rb = row_bytes(type, cols), bb = size_t(dtype_info(type).block_bytes);
        std::vector<uint8_t> x(w.size()), back(w.size());
        interleave8(type, w.data(), x.data(), rows, cols);
        EXPECT_NE(0, std::memcmp(w.data(), x.data(), w.size()));
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < cols / 32; b++) {
                const uint8_t* blk = w.data() + rb * size_t(r) + bb * size_t(b); // d m [qh] qs
                const uint8_t* gb = x.data() + size_t(r / 8) * 8 * rb + size_t(b) * 8 * bb;
                const int k = r % 8;
                ASSERT_EQ(0, std::memcmp(gb + 2 * k, blk, 2)) << r << " " << b;
                ASSERT_EQ(0, std::memcmp(gb + 16 + 2 * k, blk + 2, 2)) << r << " " << b;
                if (q5) {
                    ASSERT_EQ(0, std::memcmp(gb + 32 + 4 * k, blk + 4, 4)) << r << " " << b;
                }
                const size_t qs = q5 ? 64 : 32;
                for (int j = 0; j < 16; j++)
                    ASSERT_EQ(gb[qs + (j / 4) * 32 + 4 * k + j % 4], blk[q5 ? 8 + j : 4 + j])
                        << dtype_name(type) << " " << r << " " << j;
            }
        deinterleave8(type, x.data(), back.data(), rows, cols);
        EXPECT_EQ(0, std::memcmp(w.data(), back.data(), w.size()));
        std::vector<uint8_t> row(rb);
        interleaved_row(type, x.data(), 11, cols, row.data());
        EXPECT_EQ(0, std::memcmp(row.data(), w.data() + 11 * rb, rb));
    }
}

TEST(Interleave8, OnlyTypesWithTheLayoutAndMatricesOfWholeGroupsQualify) {
    EXPECT_TRUE(can_interleave8(DType::Q4_0, 8));
    EXPECT_TRUE(can_interleave8(DType::Q4_0, 2048));
    EXPECT_TRUE(can_interleave8(DType::Q4_K, 256));
    EXPECT_FALSE(can_interleave8(DType::Q4_0, 12));
    EXPECT_FALSE(can_interleave8(DType::Q4_K, 4));
    EXPECT_FALSE(can_interleave8(DType::Q4_0, 0));
    EXPECT_TRUE(can_interleave8(DType::Q8_0, 64));
    EXPECT_FALSE(can_interleave8(DType::Q8_0, 20));
    EXPECT_TRUE(can_interleave8(DType::Q6_K, 64));
    EXPECT_FALSE(can_interleave8(DType::Q6_K, 60));
    EXPECT_TRUE(can_interleave8(DType::IQ4_NL, 64));
    EXPECT_FALSE(can_interleave8(DType::IQ4_NL, 36));
    EXPECT_TRUE(can_interleave8(DType::Q5_0, 64));
    EXPECT_FALSE(can_interleave8(DType::Q5_0, 4));
    EXPECT_TRUE(can_interleave8(DType::Q4_1, 64));
    EXPECT_FALSE(can_interleave8(DType::Q4_1, 60));
    EXPECT_TRUE(can_interleave8(DType::Q5_1, 64));
    EXPECT_FALSE(can_interleave8(DType::Q5_1, 12));
    EXPECT_TRUE(can_interleave8(DType::Q5_K, 64));
    EXPECT_FALSE(can_interleave8(DType::Q5_K, 20));
    EXPECT_TRUE(can_interleave8(DType::IQ4_XS, 64));
    EXPECT_FALSE(can_interleave8(DType::IQ4_XS, 28));
    EXPECT_TRUE(can_interleave8(DType::Q3_K, 64));
    EXPECT_FALSE(can_interleave8(DType::Q3_K, 60));
    EXPECT_TRUE(can_interleave8(DType::Q2_K, 64));
    EXPECT_FALSE(can_interleave8(DType::Q2_K, 4));
    EXPECT_FALSE(can_interleave8(DType::F16, 64));
}

// interleave8_type_names() (what messages print) names exactly the types can_interleave8 takes,
// each once, read from every type id; each of them has a field list (its random bytes round-trip
// through the layout), and interleave8 refuses every other type, naming them.
TEST(Interleave8, TheNamedTypesAreExactlyTheOnesThatRoundTrip) {
    const std::string names = interleave8_type_names();
    std::vector<std::string> listed;
    for (size_t at = 0; at <= names.size();) {
        const size_t comma = std::min(names.find(", ", at), names.size());
        listed.push_back(names.substr(at, comma - at));
        at = comma + 2;
    }
    std::mt19937 rng(5);
    int takers = 0;
    for (uint32_t id = 0; id < kDTypeSlots; id++) {
        const auto type = dtype_from_id(id);
        if (!type) continue;
        SCOPED_TRACE(dtype_name(*type));
        const bool takes = can_interleave8(*type, 8);
        EXPECT_EQ(std::count(listed.begin(), listed.end(), dtype_name(*type)), takes ? 1 : 0);
        const int rows = 16, cols = 3 * dtype_info(*type).block_size; // 2 groups, 3 blocks
        std::vector<uint8_t> w(size_t(rows) * row_bytes(*type, uint64_t(cols)));
        for (auto& b : w) b = uint8_t(rng());
        std::vector<uint8_t> x(w.size()), back(w.size());
        if (!takes) {
            try {
                interleave8(*type, w.data(), x.data(), rows, uint64_t(cols));
                ADD_FAILURE() << "interleaved a type that cannot take the layout";
            } catch (const Error& e) {
                EXPECT_NE(std::string(e.what()).find(names), std::string::npos) << e.what();
            }
            continue;
        }
        takers++;
        interleave8(*type, w.data(), x.data(), rows, uint64_t(cols));
        deinterleave8(*type, x.data(), back.data(), rows, uint64_t(cols));
        EXPECT_NE(x, w);
        EXPECT_EQ(back, w);
    }
    EXPECT_EQ(takers, int(listed.size()));
    EXPECT_GE(takers, 12); // q4_0 ... iq4_xs when this was written
}

// docs/format.md's interleave8 table, the docs' one list of the types with the layout (the others
// point to it), has a row for exactly those types, each giving its group block's size.
TEST(Interleave8, FormatMdListsExactlyTheTypesWithTheLayout) {
    std::ifstream doc(STRATA_SOURCE_DIR "/docs/format.md");
    ASSERT_TRUE(doc.good());
    const std::regex table_row(R"(^\| ([a-z0-9_]+) \| ([0-9]+) bytes \|)");
    std::vector<std::string> listed;
    bool in_layouts = false;
    for (std::string line; std::getline(doc, line);) {
        if (line.rfind("#", 0) == 0) in_layouts = line == "### Tensor layouts";
        std::smatch m;
        if (!in_layouts || !std::regex_search(line, m, table_row)) continue;
        const auto type = dtype_from_name(m[1].str());
        ASSERT_TRUE(type.has_value()) << line;
        EXPECT_TRUE(can_interleave8(*type, 8)) << line;
        EXPECT_EQ(std::stoi(m[2].str()), 8 * dtype_info(*type).block_bytes) << line;
        listed.push_back(dtype_name(*type));
    }
    std::vector<std::string> expected;
    for (DType t : interleaved_types()) expected.push_back(dtype_name(t));
    std::sort(listed.begin(), listed.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(listed, expected);
}

// Every row (the reference included) against the row-major reference dot, for group, token
// and block counts around the kernels' 8-row x 4-token (Q4_0, Q8_0) and x 2-token (Q4_K) steps,
// with a wider output stride.
TEST(Interleave8, DotsMatchTheRowMajorReference) {
    int checked = 0;
    for (const Kernels* k : available_kernels())
        for (DType type : interleaved_types()) {
            const DotX8Fn dot = k->dot_x8(type);
            ASSERT_NE(dot, nullptr) << k->name;
            const int block = dtype_info(type).block_size;
            for (int n_groups : {1, 2, 5})
                for (int n_tok : {1, 2, 3, 4, 5, 9, 17})
                    for (int blocks : {1, 3, block == 32 ? 33 : 8}) {
                        const int n = blocks * block, rows = 8 * n_groups;
                        const size_t rb = row_bytes(type, uint64_t(n));
                        const size_t ab = row_bytes(activation_type(type), uint64_t(n));
                        const auto w = matrix(type, rows, n, uint32_t(n + rows));
                        const auto act = activations(type, n_tok, n, uint32_t(7 * n + n_tok));
                        std::vector<uint8_t> x(w.size());
                        interleave8(type, w.data(), x.data(), uint64_t(rows), uint64_t(n));
                        std::vector<int32_t> sums(size_t(n_tok) * size_t(n / 32));
                        if (activation_type(type) == DType::Q8_0)
                            block_sums_q8_0(n, act.data(), ab, n_tok, sums.data());
                        const size_t os = size_t(rows) + 5;
                        std::vector<float> out(os * size_t(n_tok), -1.0f);
                        dot(n, x.data(), 8 * rb, n_groups, act.data(), ab, sums.data(), n_tok,
                            out.data(), os);
                        for (int t = 0; t < n_tok; t++) {
                            for (int r = 0; r < rows; r++) {
                                const uint8_t* wr = w.data() + rb * size_t(r);
                                const uint8_t* at = act.data() + ab * size_t(t);
                                const float ref = ref_dot(type, n, wr, at);
                                const float got = out[size_t(t) * os + size_t(r)];
                                if (std::string(k->name) == "ref")
                                    ASSERT_EQ(got, ref) << dtype_name(type) << " r=" << r
                                                        << " t=" << t << " n=" << n;
                                else
                                    ASSERT_NEAR(got, ref, 1e-5 * abs_sum(type, wr, at, n) + 1e-6)
                                        << k->name << " " << dtype_name(type)
                                        << " groups=" << n_groups << " tokens=" << n_tok
                                        << " r=" << r << " t=" << t << " n=" << n;
                            }
                            for (size_t i = size_t(rows); i < os; i++) // outside the outputs
                                ASSERT_EQ(out[size_t(t) * os + i], -1.0f);
                        }
                        checked++;
                    }
        }
    std::printf("%d interleaved products checked\n", checked);
}

// A token's outputs do not depend on which tokens share its call: the prefill kernels unpack
// each block once for several tokens (passes of up to 8, the rest in passes of half as many down
// to one: 23 tokens take every pass size), and must give exactly what the one-token (decode)
// path gives.
TEST(Interleave8, ATokensResultIsTheSameAloneOrInABatch) {
    const int n_groups = 3, rows = 8 * n_groups, n_tok = 23;
    for (const Kernels* k : available_kernels())
        for (DType type : interleaved_types()) {
            const int n = 2 * QK_K;
            const size_t rb = row_bytes(type, uint64_t(n));
            const size_t ab = row_bytes(activation_type(type), uint64_t(n));
            const auto w = matrix(type, rows, n, 41);
            const auto act = activations(type, n_tok, n, 43);
            std::vector<uint8_t> x(w.size());
            interleave8(type, w.data(), x.data(), uint64_t(rows), uint64_t(n));
            std::vector<int32_t> sums(size_t(n_tok) * size_t(n / 32));
            if (activation_type(type) == DType::Q8_0)
                block_sums_q8_0(n, act.data(), ab, n_tok, sums.data());
            std::vector<float> batch(size_t(rows) * size_t(n_tok)),
                alone(static_cast<size_t>(rows));
            k->dot_x8(type)(n, x.data(), 8 * rb, n_groups, act.data(), ab, sums.data(), n_tok,
                            batch.data(), size_t(rows));
            for (int t = 0; t < n_tok; t++) {
                k->dot_x8(type)(n, x.data(), 8 * rb, n_groups, act.data() + ab * size_t(t), ab,
                                sums.data() + size_t(t) * size_t(n / 32), 1, alone.data(),
                                size_t(rows));
                for (int r = 0; r < rows; r++)
                    ASSERT_EQ(batch[size_t(t) * size_t(rows) + size_t(r)], alone[size_t(r)])
                        << k->name << " " << dtype_name(type) << " t=" << t << " r=" << r;
            }
        }
}

// matmul over an Interleave8 matrix: identical for 1, 2 and 3 threads, equal to the row-major
// matmul of the same rows within summation order, for one token (decode) and several.
TEST(Interleave8, MatmulEqualsRowMajorForAnyThreadCount) {
    const int rows = 136, cols = 512; // 17 groups: uneven chunks
    for (DType type : interleaved_types()) {
        const auto w = matrix(type, rows, cols, 99);
        std::vector<uint8_t> x(w.size());
        interleave8(type, w.data(), x.data(), rows, cols);
        for (const Kernels* k : available_kernels())
            for (int tokens : {1, 6}) {
                const auto act = activations(type, tokens, cols, 3);
                const MatrixRef plain{type, w.data(), rows, cols};
                const MatrixRef inter{type, x.data(), rows, cols, TensorLayout::Interleave8};
                std::vector<float> y0(size_t(rows) * size_t(tokens)), y1(y0.size()), y2(y0.size()),
                    y3(y0.size());
                matmul(*k, plain, act.data(), tokens, y0.data(), rows, 1);
                matmul(*k, inter, act.data(), tokens, y1.data(), rows, 1);
                matmul(*k, inter, act.data(), tokens, y2.data(), rows, 2);
                matmul(*k, inter, act.data(), tokens, y3.data(), rows, 3);
                EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * 4)) << k->name;
                EXPECT_EQ(0, std::memcmp(y1.data(), y3.data(), y1.size() * 4)) << k->name;
                const size_t rb = row_bytes(type, cols);
                const size_t ab = row_bytes(activation_type(type), cols);
                for (int t = 0; t < tokens; t++)
                    for (int r = 0; r < rows; r++) {
                        const size_t i = size_t(t) * rows + size_t(r);
                        ASSERT_NEAR(y1[i], y0[i],
                                    2e-5 * abs_sum(type, w.data() + rb * size_t(r),
                                                   act.data() + ab * size_t(t), cols) +
                                        1e-6)
                            << k->name << " " << dtype_name(type) << " tokens=" << tokens
                            << " r=" << r << " t=" << t;
                    }
            }
    }
}

TEST(Interleave8, RowCountsThatAreNotWholeGroupsAreRefused) {
    const auto w = q4_0_matrix(12, 64, 1);
    std::vector<uint8_t> x(w.size());
    EXPECT_ANY_THROW(interleave8(DType::Q4_0, w.data(), x.data(), 12, 64));
    const MatrixRef m{DType::Q4_0, w.data(), 12, 64, TensorLayout::Interleave8};
    const auto act = q8_0_rows(1, 64, 2);
    std::vector<float> y(12);
    EXPECT_ANY_THROW(matmul(kernels(), m, act.data(), 1, y.data(), 12, 1));
}
