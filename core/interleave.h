// The Interleave8 tensor layout (TensorLayout below): rows of the types whose type-table row says
// so (core/dtype.cpp's interleave8 column; interleave8_type_names() below, docs/format.md's list)
// stored in groups of 8 so that one 32-byte load holds 4 quant bytes (8 values; 4 for Q8_0) of
// each of 8 rows. A group of 8 rows keeps its byte size (8 x
// the row's bytes); within it, for each block column b, the 8 rows' blocks are stored field by
// field, each field cut in pieces, piece c of row k at field start + (8c + k) x piece size:
//   q4_0 (144 bytes): d[8] (pieces of 2), then qs: piece c (4 bytes) of row k at 16 + 32c + 4k.
//   iq4_nl (144 bytes): as q4_0 (its block is q4_0's, the nibbles indexing 16 levels).
//   q5_0 (176 bytes): d[8], qh (row k's 4 bytes at 16 + 4k), then qs: piece c (4 bytes) of row
//        k at 48 + 32c + 4k.
//   q4_1 (160 bytes): d[8], m[8] (pieces of 2, m at 16 + 2k), then qs: piece c (4 bytes) of row
//        k at 32 + 32c + 4k.
//   q5_1 (192 bytes): d[8], m[8] (at 16), qh (row k's 4 bytes at 32 + 4k), then qs: piece c
//        (4 bytes) of row k at 64 + 32c + 4k.
//   q8_0 (272 bytes): d[8], then qs: piece c (4 bytes, values 4c..4c+3) of row k at
//        16 + 32c + 4k.
//   q2_k (672 bytes): scales (byte j of row k at 8j + k), qs (pieces of 4: piece c of row k at
//        128 + 32c + 4k), d[8] (at 640 + 2k), dmin[8] (at 656 + 2k).
//   q3_k (880 bytes): hmask (pieces of 4: piece c of row k at 32c + 4k), qs (at 256 + 32c + 4k),
//        scales (byte j of row k at 768 + 8j + k), d[8] (at 864 + 2k).
//   q4_k (1152 bytes): d[8], dmin[8] (pieces of 2), scales (pieces of 1: byte j of row k at
//        32 + 8j + k), then qs: piece c (4 bytes) of row k at 128 + 32c + 4k.
//   q5_k (1408 bytes): d[8], dmin[8], scales as q4_k's, qh: piece c (4 bytes, qh[4c..4c+3]) of
//        row k at 128 + 32c + 4k, then qs: piece c of row k at 384 + 32c + 4k. qs piece c holds
//        values 64p + l (low nibbles) and 64p + 32 + l (high) for p = c / 8 and the 4 l from
//        4(c % 8), whose fifth bits are bits 2p and 2p + 1 of qh piece c % 8 (qh[l]): one qh load
//        serves the 4 qs loads c % 8, c % 8 + 8, c % 8 + 16 and c % 8 + 24.
//   q6_k (1680 bytes): ql (pieces of 4: piece c of row k at 32c + 4k), qh (at 1024 + 32c + 4k),
//        scales (byte j of row k at 1536 + 8j + k), d[8] (at 1664 + 2k).
//   iq4_xs (1088 bytes): d[8], scales_h[8] (at 16 + 2k), scales_l (row k's 4 bytes at 32 + 4k:
//        sub-block s's low 4 scale bits are bits 4s..4s+3 of the word), then qs: piece c of row k
//        at 64 + 32c + 4k (sub-block s is pieces 4s..4s+3, laid out as an iq4_nl block's qs).
// The blocks' bytes are GGUF's, rearranged (no value changes): deinterleave8 gives the rows back.
#pragma once

#include "core/dtype.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace strata {

// How a tensor's rows are laid out (docs/format.md, "Tensor layouts"). RowMajor: each row's
// blocks back to back. Interleave8: matrices of the interleave8 types whose rows are stored in
// groups of 8, the group's blocks of one column together (8 scales, then the 8 rows' quants 4
// bytes at a time), the layout the integer GEMV/GEMM kernels read without horizontal sums (below).
enum class TensorLayout : uint32_t { RowMajor = 0, Interleave8 = 1 };

inline const char* layout_name(TensorLayout l) {
    return l == TensorLayout::Interleave8 ? "interleave8" : "row-major";
}

constexpr int kInterleaveRows = 8;

// Whether a matrix of this type and row count can take the Interleave8 layout: a type whose
// type-table row has `interleave8` set, and a whole number of groups of 8 rows.
bool can_interleave8(DType type, uint64_t rows);
// The types that can take the layout, read from the same column, in the table's order, for
// messages: "q8_0, q4_0, ..., iq4_xs". Code that names them prints this, never its own list.
std::string interleave8_type_names();

// rows (a multiple of 8) row-major rows of `cols` values -> Interleave8, and back. src and dst
// are distinct buffers of rows x row_bytes(type, cols) bytes.
void interleave8(DType type, const uint8_t* src, uint8_t* dst, uint64_t rows, uint64_t cols);
void deinterleave8(DType type, const uint8_t* src, uint8_t* dst, uint64_t rows, uint64_t cols);

// Copies row `r` of an Interleave8 matrix out as one row-major row (row_bytes(type, cols)).
void interleaved_row(DType type, const uint8_t* matrix, uint64_t r, uint64_t cols, uint8_t* row);

} // namespace strata
