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
using strata::test::encode;
using strata::test::simd_rows;

namespace {

double abs_sum(DType wt, const std::vector<uint8_t>& w, const std::vector<uint8_t>& a, int n) {
    return test::abs_sum(wt, w.data(), a.data(), n);
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
