// The Interleave8 tensor layout (formats/strata_file.h): Q4_0 rows stored in groups of 8 so that
// one 32-byte load holds 4 quant bytes (8 values) of each of 8 rows. A group of 8 rows keeps its
// byte size (8 x the row's bytes); within it, for each block column b:
//   8 x f16 d (rows 0..7 of block b), then the 8 rows' quant bytes in 4-byte pieces:
//   piece c of row r at byte 16 + 32c + 4r (c < quant bytes / 4).
// Each quant byte j holds values j (low nibble) and j+16 (high nibble), as in GGUF's Q4_0, so the
// rearrangement is lossless: deinterleave8 gives the GGUF rows back. The functions below are
// written for any block of an f16 scale + quants; only Q4_0 is accepted for now (a Q8_0 kernel
// over this layout would need as many instructions per block as its row-major one on AVX2).
#pragma once

#include "formats/dtype.h"

#include <cstddef>
#include <cstdint>

namespace strata {

constexpr int kInterleaveRows = 8;

// Whether a matrix of this type and row count can take the Interleave8 layout.
bool can_interleave8(DType type, uint64_t rows);

// rows (a multiple of 8) row-major rows of `cols` values -> Interleave8, and back. src and dst
// are distinct buffers of rows x row_bytes(type, cols) bytes.
void interleave8(DType type, const uint8_t* src, uint8_t* dst, uint64_t rows, uint64_t cols);
void deinterleave8(DType type, const uint8_t* src, uint8_t* dst, uint64_t rows, uint64_t cols);

// Copies row `r` of an Interleave8 matrix out as one row-major row (row_bytes(type, cols)).
void interleaved_row(DType type, const uint8_t* matrix, uint64_t r, uint64_t cols, uint8_t* row);

} // namespace strata
