// Round-trip error of each type's reference quantizer, on Gaussian rows. Bounds are the RMSE
// the GGUF reference quantizers reach on N(0,1) data (Q8_0 ~0.0069... see docs/format.md) with
// a small margin; a quantizer that packs or scales wrongly lands far above them.
#include "formats/dtype.h"
#include "formats/half.h"
#include "formats/quant_blocks.h"
#include "ops/quantize_ref.h"

#include <cmath>
#include <gtest/gtest.h>
#include <random>
#include <vector>

using namespace strata;

namespace {

std::vector<float> gaussian(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

double rmse_roundtrip(DType t, const std::vector<float>& x) {
    std::vector<uint8_t> q(row_bytes(t, x.size()));
    std::vector<float> y(x.size());
    quantize_row_ref(t, x.data(), q.data(), int64_t(x.size()));
    dequantize_row_ref(t, q.data(), y.data(), int64_t(x.size()));
    double e = 0;
    for (size_t i = 0; i < x.size(); i++) e += double(x[i] - y[i]) * (x[i] - y[i]);
    return std::sqrt(e / double(x.size()));
}

} // namespace

TEST(Quantize, BlockSizesMatchGguf) {
    EXPECT_EQ(dtype_info(DType::Q8_0).block_bytes, 34);
    EXPECT_EQ(dtype_info(DType::Q4_0).block_bytes, 18);
    EXPECT_EQ(dtype_info(DType::Q4_K).block_bytes, 144);
    EXPECT_EQ(dtype_info(DType::Q6_K).block_bytes, 210);
    EXPECT_EQ(dtype_info(DType::Q8_K).block_bytes, 292);
    EXPECT_EQ(row_bytes(DType::Q4_K, 4096), 16u * 144u);
    EXPECT_EQ(row_bytes(DType::Q4_K, 100), 0u);
}

struct RmseCase {
    DType type;
    double max_rmse; // on N(0, 1)
};

class QuantizeRmse : public ::testing::TestWithParam<RmseCase> {};

TEST_P(QuantizeRmse, RoundTripErrorWithinTheFormatsReferenceError) {
    const auto [type, max_rmse] = GetParam();
    const auto x = gaussian(256 * 64, 42);
    const double rmse = rmse_roundtrip(type, x);
    RecordProperty("rmse", std::to_string(rmse));
    std::printf("%s rmse on N(0,1): %.5f (bound %.5f)\n", dtype_name(type), rmse, max_rmse);
    EXPECT_LT(rmse, max_rmse);
    EXPECT_GT(rmse, 0.0);
}

// Bounds: F16/BF16 are the formats' rounding (2^-11, 2^-8 relative); Q8_0 and Q4_0 are what
// GGUF's own reference quantizers reach on N(0,1) blocks (0.0070, 0.112); Q4_K and Q6_K bounds
// are GGUF's reference quantizers' RMSE on N(0,1) (~0.074 and ~0.0175) plus 5%.
INSTANTIATE_TEST_SUITE_P(Types, QuantizeRmse,
                         ::testing::Values(RmseCase{DType::F16, 3.0e-4}, RmseCase{DType::BF16, 2.4e-3},
                                           RmseCase{DType::Q8_0, 0.0072}, RmseCase{DType::Q4_0, 0.115},
                                           RmseCase{DType::Q4_K, 0.078}, RmseCase{DType::Q6_K, 0.0184},
                                           RmseCase{DType::Q8_K, 0.0060}),
                         [](const auto& info) { return std::string(dtype_name(info.param.type)); });

TEST(Quantize, Q8_0IsExactOnValuesItCanRepresent) {
    std::vector<float> x(64);
    for (int i = 0; i < 64; i++) x[i] = float((i * 7) % 255 - 127) * 0.5f; // multiples of d = 0.5
    x[0] = -63.5f; // amax maps to 127 exactly
    std::vector<uint8_t> q(row_bytes(DType::Q8_0, 64));
    quantize_row_q8_0_ref(x.data(), q.data(), 64);
    std::vector<float> y(64);
    dequantize_row_q8_0_ref(q.data(), y.data(), 64);
    for (int i = 0; i < 32; i++) EXPECT_FLOAT_EQ(y[i], x[i]) << i;
}

TEST(Quantize, Q4_0LargestMagnitudeMapsToMinusEight) {
    std::vector<float> x(32, 0.1f);
    x[5] = 3.0f; // the largest magnitude is positive: d = -3/8, so it maps to level 0 (-8)
    BlockQ4_0 b;
    quantize_row_q4_0_ref(x.data(), &b, 32);
    EXPECT_FLOAT_EQ(f16_to_f32(b.d), -0.375f);
    EXPECT_EQ(b.qs[5] & 15, 0);
    float y[32];
    dequantize_row_q4_0_ref(&b, y, 32);
    EXPECT_FLOAT_EQ(y[5], 3.0f);
}

TEST(Quantize, Q8_KBlockSumsMatchQuants) {
    const auto x = gaussian(512, 3);
    std::vector<BlockQ8_K> b(2);
    quantize_row_q8_k_ref(x.data(), b.data(), 512);
    for (const auto& blk : b)
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int i = 0; i < 16; i++) s += blk.qs[16 * g + i];
            EXPECT_EQ(blk.bsums[g], s);
        }
}

TEST(Quantize, ZeroAndConstantBlocksStayFinite) {
    for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K, DType::Q8_K}) {
        for (float c : {0.0f, 1.5f, -2.0f}) {
            std::vector<float> x(256, c), y(256);
            std::vector<uint8_t> q(row_bytes(t, 256));
            quantize_row_ref(t, x.data(), q.data(), 256);
            dequantize_row_ref(t, q.data(), y.data(), 256);
            for (int i = 0; i < 256; i++) {
                ASSERT_TRUE(std::isfinite(y[i])) << dtype_name(t);
                EXPECT_NEAR(y[i], c, std::fabs(c) * 0.07 + 1e-6) << dtype_name(t) << " const " << c;
            }
        }
    }
}
