// Random operands and tolerances shared by the kernel tests (test_kernels.cpp,
// test_interleave.cpp), which also build alone for the NEON run under qemu.
#pragma once

#include "core/dtype.h"
#include "core/quantize_ref.h"
#include "ops/kernels.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace strata::test {

inline std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

// Upper bound of |sum| of a dot product's terms, from the dequantized weight row (type wt) and
// activation row (its activation type): the scale of the tolerance for summation order.
inline double abs_sum(DType wt, const uint8_t* w, const uint8_t* a, int n) {
    std::vector<float> x(static_cast<size_t>(n)), y(static_cast<size_t>(n));
    dequantize_row_ref(wt, w, x.data(), n);
    dequantize_row_ref(activation_type(wt), a, y.data(), n);
    double s = 0;
    for (int i = 0; i < n; i++) s += std::fabs(double(x[size_t(i)]) * y[size_t(i)]);
    return s;
}

// A row of floats in type t, by the scalar reference quantizer.
inline std::vector<uint8_t> encode(DType t, const std::vector<float>& x) {
    std::vector<uint8_t> out(row_bytes(t, x.size()));
    quantize_row_ref(t, x.data(), out.data(), int64_t(x.size()));
    return out;
}

// Every kernel row this CPU can run but the scalar reference.
inline std::vector<const Kernels*> simd_rows() {
    std::vector<const Kernels*> rows;
    for (const Kernels* k : available_kernels())
        if (std::string(k->name) != "ref") rows.push_back(k);
    return rows;
}

} // namespace strata::test
