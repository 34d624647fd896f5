// The NEON rows' interleave8 kernels (ops/arm/): every type with the layout has a NEON kernel of
// its own in both rows (none falls back to the scalar x8 reference), and the Q8_K types' kernels
// give the reference's results on blocks of random bits (every level and sub-block scale, the
// extremes included) against activations of +-127, for token counts on both sides of the
// kernels' 4-token passes. Random quantized data, odd sizes and the layout itself:
// tests/test_interleave.cpp. Skipped where no NEON row runs.
#include "core/dtype.h"
#include "core/half.h"
#include "core/interleave.h"
#include "core/quant_blocks.h"
#include "core/quantize_ref.h"
#include "ops/kernels.h"
#include "tests/kernel_test_data.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <gtest/gtest.h>
#include <random>
#include <string>
#include <vector>

using namespace strata;

namespace {

std::vector<const Kernels*> neon_rows() {
    std::vector<const Kernels*> rows;
    for (const Kernels* k : available_kernels())
        if (std::string(k->name).rfind("neon", 0) == 0) rows.push_back(k);
    return rows;
}

// The f16 fields of a Q8_K type's block (d, and dmin where it has one). Empty: unknown type.
std::vector<size_t> f16_fields(DType t) {
    switch (t) {
    case DType::Q2_K:
        return {offsetof(BlockQ2_K, d), offsetof(BlockQ2_K, dmin)};
    case DType::Q3_K:
        return {offsetof(BlockQ3_K, d)};
    case DType::Q4_K:
        return {offsetof(BlockQ4_K, d), offsetof(BlockQ4_K, dmin)};
    case DType::Q5_K:
        return {offsetof(BlockQ5_K, d), offsetof(BlockQ5_K, dmin)};
    case DType::Q6_K:
        return {offsetof(BlockQ6_K, d)};
    case DType::IQ4_XS:
        return {offsetof(BlockIQ4_XS, d)};
    default:
        return {};
    }
}

// rows x blocks blocks of type t: random bytes, the f16 fields set to magnitudes in [0.5, 2)
// (so results stay finite).
std::vector<uint8_t> random_bit_rows(DType t, int rows, int blocks, uint32_t seed) {
    const size_t block_bytes = size_t(dtype_info(t).block_bytes);
    std::vector<uint8_t> w(block_bytes * size_t(blocks) * size_t(rows));
    std::mt19937 rng(seed);
    std::generate(w.begin(), w.end(), [&] { return uint8_t(rng()); });
    std::uniform_real_distribution<float> magnitude(0.5f, 2.0f);
    for (size_t at = 0; at < w.size(); at += block_bytes)
        for (size_t field : f16_fields(t)) {
            const uint16_t h = f32_to_f16(magnitude(rng));
            std::memcpy(&w[at + field], &h, 2);
        }
    return w;
}

} // namespace

TEST(NeonX8, EveryInterleavedTypeHasANeonKernel) {
    const auto rows = neon_rows();
    if (rows.empty()) GTEST_SKIP() << "no NEON row on this CPU";
    for (const Kernels* k : rows)
        for (const DTypeInfo& info : dtype_table())
            if (info.interleave8) {
                EXPECT_NE((*k)[info.type].x8, nullptr) << k->name << " " << info.name;
                EXPECT_NE(k->dot_x8(info.type), kKernelsRef.dot_x8(info.type))
                    << k->name << " " << info.name;
            }
}

TEST(NeonX8, Q8KTypesOnRandomBitsMatchTheReference) {
    const auto rows = neon_rows();
    if (rows.empty()) GTEST_SKIP() << "no NEON row on this CPU";
    const int n_groups = 2, n_rows = 8 * n_groups;
    int checked = 0;
    for (const DTypeInfo& info : dtype_table()) {
        if (!info.interleave8 || activation_type(info.type) != DType::Q8_K) continue;
        const DType t = info.type;
        ASSERT_FALSE(f16_fields(t).empty()) << "no f16 fields listed for " << info.name;
        for (int blocks : {1, 3}) {
            const int n = blocks * QK_K;
            const size_t rb = row_bytes(t, uint64_t(n)), ab = row_bytes(DType::Q8_K, uint64_t(n));
            const auto w = random_bit_rows(t, n_rows, blocks, uint32_t(blocks + 16 * int(t)));
            std::vector<uint8_t> x(w.size());
            interleave8(t, w.data(), x.data(), uint64_t(n_rows), uint64_t(n));
            for (int n_tok : {1, 4, 5}) {
                std::vector<uint8_t> act(ab * size_t(n_tok));
                std::mt19937 rng(uint32_t(n_tok + blocks));
                std::vector<float> signs(static_cast<size_t>(n));
                for (int u = 0; u < n_tok; u++) {
                    for (float& v : signs) v = rng() & 1 ? 1.0f : -1.0f;
                    quantize_row_ref(DType::Q8_K, signs.data(), act.data() + ab * size_t(u), n);
                }
                for (const Kernels* k : rows) {
                    std::vector<float> out(size_t(n_rows) * size_t(n_tok));
                    k->dot_x8(t)(n, x.data(), 8 * rb, n_groups, act.data(), ab, nullptr, n_tok,
                                 out.data(), size_t(n_rows));
                    for (int u = 0; u < n_tok; u++)
                        for (int r = 0; r < n_rows; r++) {
                            const uint8_t* wr = w.data() + rb * size_t(r);
                            const uint8_t* au = act.data() + ab * size_t(u);
                            ASSERT_NEAR(out[size_t(u) * size_t(n_rows) + size_t(r)],
                                        kKernelsRef.dot(t)(n, wr, au),
                                        1e-5 * test::abs_sum(t, wr, au, n) + 1e-6)
                                << k->name << " " << info.name << " n=" << n << " t=" << u
                                << " r=" << r;
                        }
                    checked++;
                }
            }
        }
    }
    EXPECT_GT(checked, 0);
    std::printf("%d random-bit interleaved products checked\n", checked);
}
