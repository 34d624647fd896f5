// F16 and BF16 GEMV slices (ops/dot_half_impl.h) in every kernel row this CPU runs, against the
// scalar reference: lengths around the 64-byte line and the vector step (tails of 1-31 values),
// slice counts around 4 and 8 rows, rows further apart than their length, and whole GEMVs
// through matmul, whose results must not depend on the thread count.
#include "core/dtype.h"
#include "core/quantize_ref.h"
#include "ops/kernels.h"
#include "ops/matmul.h"
#include "tests/kernel_test_data.h"

#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <vector>

using namespace strata;
using strata::test::encode;
using strata::test::random_floats;
using strata::test::simd_rows;

namespace {

// n_rows random rows of n values in type t, `stride` bytes apart (the gap filled with NaNs' bits,
// so a kernel that reads past a row's end gives NaN).
std::vector<uint8_t> random_rows(DType t, int n, int n_rows, size_t stride, uint32_t seed) {
    const size_t rb = row_bytes(t, uint64_t(n));
    std::vector<uint8_t> w(stride * size_t(n_rows), 0xff);
    for (int r = 0; r < n_rows; r++) {
        const auto row = encode(t, random_floats(size_t(n), seed + uint32_t(r) * 101));
        std::memcpy(w.data() + stride * size_t(r), row.data(), rb);
    }
    return w;
}

double abs_sum(DType t, const uint8_t* w, const float* a, int n) {
    std::vector<float> x(static_cast<size_t>(n));
    dequantize_row_ref(t, w, x.data(), n);
    double s = 0;
    for (int i = 0; i < n; i++) s += std::fabs(double(x[size_t(i)]) * a[i]);
    return s;
}

} // namespace

TEST(KernelsHalf, SlicesMatchTheReferenceAtOddLengthsRowCountsAndStrides) {
    int checked = 0;
    for (const Kernels* k : simd_rows()) {
        for (DType t : {DType::F16, DType::BF16}) {
            const DotRowsFn rows_fn = k->dot_rows(t);
            ASSERT_NE(rows_fn, nullptr) << k->name << " " << dtype_name(t);
            for (int n : {1, 7, 16, 31, 32, 33, 47, 63, 64, 65, 96, 127, 161, 2048 + 31}) {
                for (int n_rows : {1, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 23}) {
                    for (size_t pad : {size_t(0), size_t(6)}) { // pad: rows apart by more than n
                        const size_t stride = row_bytes(t, uint64_t(n)) + pad;
                        const auto w = random_rows(t, n, n_rows, stride, uint32_t(n * 7 + n_rows));
                        const auto a = random_floats(size_t(n), uint32_t(n + 5), 2.0f);
                        std::vector<float> got(size_t(n_rows) + 1, -7.0f);
                        rows_fn(n, w.data(), stride, n_rows, a.data(), got.data());
                        EXPECT_EQ(got[size_t(n_rows)], -7.0f) << "wrote past the slice";
                        for (int r = 0; r < n_rows; r++) {
                            const uint8_t* row = w.data() + stride * size_t(r);
                            const float ref = kKernelsRef.dot(t)(n, row, a.data());
                            ASSERT_NEAR(got[size_t(r)], ref, 1e-5 * abs_sum(t, row, a.data(), n))
                                << k->name << " " << dtype_name(t) << " n=" << n
                                << " rows=" << n_rows << " row=" << r << " pad=" << pad;
                            // a row's result is its one-row dot's, bit for bit
                            ASSERT_EQ(got[size_t(r)], k->dot(t)(n, row, a.data()))
                                << k->name << " " << dtype_name(t) << " n=" << n << " row=" << r;
                            checked++;
                        }
                    }
                }
            }
        }
    }
    if (simd_rows().empty()) GTEST_SKIP() << "no SIMD row on this CPU";
    EXPECT_GT(checked, 1000);
}

// One token (decode) through matmul: the rows go in chunks to 1, 2 or 3 threads; every output is
// the same bits whatever the count, and near the reference.
TEST(KernelsHalf, DecodeGemvIsIndependentOfTheThreadCount) {
    const int rows = 301, cols = 2048 + 96; // 301: chunks and slices with a tail
    for (const Kernels* k : simd_rows()) {
        for (DType t : {DType::F16, DType::BF16}) {
            const size_t rb = row_bytes(t, uint64_t(cols));
            const auto w = random_rows(t, cols, rows, rb, 11);
            const auto x = random_floats(size_t(cols), 12, 2.0f);
            std::vector<uint8_t> act(activation_row_bytes(t, cols));
            quantize_activations(*k, t, x.data(), cols, cols, 1, act.data(), 1);
            const MatrixRef m{t, w.data(), rows, cols};
            std::vector<float> y1(static_cast<size_t>(rows)), y2(y1), y3(y1);
            matmul(*k, m, act.data(), 1, y1.data(), rows, 1);
            matmul(*k, m, act.data(), 1, y2.data(), rows, 2);
            matmul(*k, m, act.data(), 1, y3.data(), rows, 3);
            for (int r = 0; r < rows; r++) {
                ASSERT_EQ(y1[size_t(r)], y2[size_t(r)]) << k->name << " " << dtype_name(t) << r;
                ASSERT_EQ(y1[size_t(r)], y3[size_t(r)]) << k->name << " " << dtype_name(t) << r;
                const uint8_t* row = w.data() + rb * size_t(r);
                ASSERT_NEAR(y1[size_t(r)], kKernelsRef.dot(t)(cols, row, x.data()),
                            1e-5 * abs_sum(t, row, x.data(), cols))
                    << k->name << " " << dtype_name(t) << " row " << r;
            }
        }
    }
}
