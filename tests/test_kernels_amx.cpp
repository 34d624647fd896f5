// The avx512_amx row's tile products (ops/x86/dot_x8_amx.cpp: Q4_0, Q8_0, Q4_K) against the
// avx512_vnni row they replace: the integer block sums are exact in both and the scaling is the
// same sequence of float operations, so every output must be bit for bit the VNNI kernel's — for
// whole 16-token tiles, the tokens after the last tile, odd group counts and long rows. Also
// against the row-major reference dot. Runs only on CPUs with AMX-INT8 whose OS grants tile state
// (the lent Xeon); elsewhere it skips saying so.
#include "core/interleave.h"
#include "core/quantize_ref.h"
#include "ops/cpu_features.h"
#include "ops/dot_ref.h"
#include "ops/kernels.h"
#include "tests/kernel_test_data.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

using namespace strata;
using strata::test::abs_sum;
using strata::test::random_floats;

namespace {

const Kernels* row_named(const char* name) {
    for (const Kernels* k : available_kernels())
        if (std::string(k->name) == name) return k;
    return nullptr;
}

std::vector<uint8_t> rows_of(DType type, int rows, int cols, uint32_t seed, float scale) {
    const size_t rb = row_bytes(type, uint64_t(cols));
    std::vector<uint8_t> out(rb * size_t(rows));
    for (int r = 0; r < rows; r++)
        quantize_row_ref(type, random_floats(size_t(cols), seed + uint32_t(r), scale).data(),
                         out.data() + rb * size_t(r), cols);
    return out;
}

} // namespace

TEST(KernelsAmx, TileProductsAreTheVnniRowsBitForBit) {
    const Kernels* amx = row_named("avx512_amx");
    const Kernels* vnni = row_named("avx512_vnni");
    if (!amx || !vnni)
        GTEST_SKIP() << "this CPU has no AMX-INT8 (or the OS did not grant tile state): the "
                        "avx512_amx row is not offered here";
    int checked = 0;
    for (DType type : {DType::Q4_0, DType::Q8_0, DType::Q4_K})
        for (int cols : {32, 96, 256, 2048, 5632})
            for (int n_groups : {1, 2, 3, 4})
                for (int n_tok : {15, 16, 17, 33, 64, 77}) {
                    const int block = dtype_info(type).block_size;
                    if (cols % block != 0 || (cols == 5632 && n_tok > 33)) continue; // (time)
                    const DType at = activation_type(type);
                    const int rows = 8 * n_groups;
                    const size_t rb = row_bytes(type, uint64_t(cols));
                    const size_t ab = row_bytes(at, uint64_t(cols));
                    const auto w = rows_of(type, rows, cols, uint32_t(cols + rows), 1.0f);
                    const auto act = rows_of(at, n_tok, cols, uint32_t(3 * cols), 2.0f);
                    std::vector<uint8_t> x(w.size());
                    interleave8(type, w.data(), x.data(), uint64_t(rows), uint64_t(cols));
                    std::vector<int32_t> sums(size_t(n_tok) * size_t(cols / 32));
                    if (at == DType::Q8_0)
                        block_sums_q8_0(cols, act.data(), ab, n_tok, sums.data());
                    const size_t os = size_t(rows) + 3; // a wider output stride
                    std::vector<float> got(os * size_t(n_tok), -1.0f), want = got;
                    amx->dot_x8(type)(cols, x.data(), 8 * rb, n_groups, act.data(), ab, sums.data(),
                                      n_tok, got.data(), os);
                    vnni->dot_x8(type)(cols, x.data(), 8 * rb, n_groups, act.data(), ab,
                                       sums.data(), n_tok, want.data(), os);
                    ASSERT_EQ(0, std::memcmp(got.data(), want.data(), got.size() * sizeof(float)))
                        << dtype_name(type) << " cols=" << cols << " groups=" << n_groups
                        << " tokens=" << n_tok;
                    for (int t = 0; t < n_tok; t += 7) // and near the reference, spot checks
                        for (int r = 0; r < rows; r += 3) {
                            const uint8_t* wr = w.data() + rb * size_t(r);
                            const uint8_t* at_row = act.data() + ab * size_t(t);
                            ASSERT_NEAR(got[size_t(t) * os + size_t(r)],
                                        kKernelsRef.dot(type)(cols, wr, at_row),
                                        1e-5 * abs_sum(type, wr, at_row, cols) + 1e-6);
                        }
                    checked++;
                }
    std::printf("%d AMX products checked against the VNNI row\n", checked);
}

TEST(KernelsAmx, OfferedOnlyWithTheCpuFeature) {
    // the row exists in the table exactly where cpu_features says AMX-INT8 is usable
    EXPECT_EQ(row_named("avx512_amx") != nullptr, cpu_features().amx_int8);
}
