// A panel of a float matrix's rows as f32, for the library GEMMs (OpenBLAS, oneDNN) that take
// f32 weights: F32 rows as they are, F16/BF16 rows widened once into the calling thread's buffer
// and reused by every token.
#pragma once

#include "core/dtype.h"
#include "ops/kernels.h"
#include "ops/matmul.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace strata {

// Rows [r0, r0 + nr) of w as nr x w.cols floats: w's own memory for F32, else `buf` (resized).
inline const float* float_panel(const Kernels& k, const MatrixRef& w, int r0, int nr,
                                std::vector<float>& buf) {
    const size_t wrow = row_bytes(w.type, uint64_t(w.cols));
    const auto* rows = static_cast<const uint8_t*>(w.data) + size_t(r0) * wrow;
    if (w.type == DType::F32) return reinterpret_cast<const float*>(rows);
    buf.resize(size_t(nr) * size_t(w.cols));
    for (int r = 0; r < nr; r++)
        k.dequantize(w.type, rows + size_t(r) * wrow, buf.data() + size_t(r) * size_t(w.cols),
                     w.cols);
    return buf.data();
}

} // namespace strata
