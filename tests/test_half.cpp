#include "core/half.h"

#include <cmath>
#include <gtest/gtest.h>

using namespace strata;

TEST(Half, EveryF16ValueRoundTripsThroughF32) {
    for (uint32_t h = 0; h < 65536; h++) {
        const float f = f16_to_f32(uint16_t(h));
        if (std::isnan(f)) {
            EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(f)))) << h;
            continue;
        }
        EXPECT_EQ(f32_to_f16(f), h) << "half bits " << h;
    }
}

TEST(Half, KnownValues) {
    EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
    EXPECT_EQ(f32_to_f16(-2.0f), 0xc000);
    EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
    EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);      // rounds to infinity
    EXPECT_EQ(f32_to_f16(5.9604645e-8f), 0x0001); // smallest subnormal
    EXPECT_EQ(f32_to_f16(2.9e-8f), 0x0000);       // below half of it
    EXPECT_FLOAT_EQ(f16_to_f32(0x3555), 0.33325195f);
}

TEST(Half, F16RoundsToNearestEven) {
    // 1 + 2^-11 is exactly between 1 and the next half (1 + 2^-10): ties go to even (1.0).
    EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
    EXPECT_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
    EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3c01);
}

TEST(Half, Bf16RoundsToNearestEvenAndKeepsNaN) {
    EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
    EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f808000)), 0x3f80); // tie -> even
    EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f818000)), 0x3f82); // tie -> even (up)
    EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f808001)), 0x3f81);
    EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
    for (uint32_t b = 0; b < 65536; b++) {
        const float f = bf16_to_f32(uint16_t(b));
        if (!std::isnan(f)) {
            EXPECT_EQ(f32_to_bf16(f), b);
        }
    }
}
