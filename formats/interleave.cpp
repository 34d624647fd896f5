#include "formats/interleave.h"

#include "formats/error.h"

#include <cstring>

namespace strata {

namespace {

// Per block: a 2-byte f16 scale, then `quant` bytes (16 for Q4_0).
size_t quant_bytes(DType type) {
    if (type != DType::Q4_0)
        fail(std::string("the interleave8 layout is for q4_0, not ") + dtype_name(type));
    return size_t(dtype_info(type).block_bytes) - 2;
}

// Where byte `j` of row r's block b quants lives inside a group (relative to the group start).
inline size_t quant_at(size_t block_bytes, size_t b, int r, size_t j) {
    return b * 8 * block_bytes + 16 + (j / 4) * 32 + size_t(r) * 4 + j % 4;
}

} // namespace

bool can_interleave8(DType type, uint64_t rows) {
    return type == DType::Q4_0 && rows > 0 && rows % kInterleaveRows == 0;
}

void interleaved_row(DType type, const uint8_t* matrix, uint64_t r, uint64_t cols, uint8_t* row) {
    const size_t qb = quant_bytes(type), bb = qb + 2;
    const size_t nb = size_t(cols) / size_t(dtype_info(type).block_size);
    const uint8_t* group = matrix + size_t(r / 8) * 8 * nb * bb;
    const int k = int(r % 8);
    for (size_t b = 0; b < nb; b++) {
        uint8_t* blk = row + b * bb;
        std::memcpy(blk, group + b * 8 * bb + size_t(k) * 2, 2);
        for (size_t c = 0; c < qb; c += 4)
            std::memcpy(blk + 2 + c, group + quant_at(bb, b, k, c), 4);
    }
}

void interleave8(DType type, const uint8_t* src, uint8_t* dst, uint64_t rows, uint64_t cols) {
    const size_t qb = quant_bytes(type), bb = qb + 2;
    const size_t nb = size_t(cols) / size_t(dtype_info(type).block_size);
    if (rows % 8 != 0) fail("interleave8: the row count is not a multiple of 8");
    const size_t row = nb * bb;
#pragma omp parallel for schedule(static)
    for (int64_t g = 0; g < int64_t(rows / 8); g++) {
        uint8_t* group = dst + size_t(g) * 8 * row;
        for (int k = 0; k < 8; k++) {
            const uint8_t* in = src + (size_t(g) * 8 + size_t(k)) * row;
            for (size_t b = 0; b < nb; b++) {
                std::memcpy(group + b * 8 * bb + size_t(k) * 2, in + b * bb, 2);
                for (size_t c = 0; c < qb; c += 4)
                    std::memcpy(group + quant_at(bb, b, k, c), in + b * bb + 2 + c, 4);
            }
        }
    }
}

void deinterleave8(DType type, const uint8_t* src, uint8_t* dst, uint64_t rows, uint64_t cols) {
    if (rows % 8 != 0) fail("deinterleave8: the row count is not a multiple of 8");
    const size_t row = row_bytes(type, cols);
    for (uint64_t r = 0; r < rows; r++) interleaved_row(type, src, r, cols, dst + size_t(r) * row);
}

} // namespace strata
