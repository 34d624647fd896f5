#include "core/interleave.h"

#include "core/error.h"

#include <cstring>

namespace strata {

namespace {

// A block is a list of fields; in a group, each field of the 8 rows is stored together, cut in
// pieces of `granule` bytes: piece c of row k at field start + (8c + k) x granule.
struct Field {
    size_t offset, size, granule;
};

// (Constant tables. interleave8 runs on one thread: it is a memory shuffle done once per
// conversion, and ThreadSanitizer, which cannot see libgomp's barriers, reports the shared
// state of an OpenMP loop here as racing with the caller's next use of it.)
struct Fields {
    const Field* f;
    int n;
};

Fields fields(DType type) {
    static constexpr Field kQ4_0[] = {{0, 2, 2}, {2, 16, 4}};
    static constexpr Field kQ8_0[] = {{0, 2, 2}, {2, 32, 4}};
    static constexpr Field kQ5_0[] = {{0, 2, 2}, {2, 4, 4}, {6, 16, 4}};
    static constexpr Field kQ4_1[] = {{0, 2, 2}, {2, 2, 2}, {4, 16, 4}};
    static constexpr Field kQ5_1[] = {{0, 2, 2}, {2, 2, 2}, {4, 4, 4}, {8, 16, 4}};
    static constexpr Field kQ4_K[] = {{0, 2, 2}, {2, 2, 2}, {4, 12, 1}, {16, 128, 4}};
    static constexpr Field kQ5_K[] = {{0, 2, 2}, {2, 2, 2}, {4, 12, 1}, {16, 32, 4}, {48, 128, 4}};
    static constexpr Field kIQ4_XS[] = {{0, 2, 2}, {2, 2, 2}, {4, 4, 4}, {8, 128, 4}};
    static constexpr Field kQ6_K[] = {{0, 128, 4}, {128, 64, 4}, {192, 16, 1}, {208, 2, 2}};
    static constexpr Field kQ3_K[] = {{0, 32, 4}, {32, 64, 4}, {96, 12, 1}, {108, 2, 2}};
    static constexpr Field kQ2_K[] = {{0, 16, 1}, {16, 64, 4}, {80, 2, 2}, {82, 2, 2}};
    if (type == DType::Q4_0) return {kQ4_0, 2};     // d qs
    if (type == DType::IQ4_NL) return {kQ4_0, 2};   // d qs: Q4_0's block, table-indexed nibbles
    if (type == DType::Q8_0) return {kQ8_0, 2};     // d qs
    if (type == DType::Q5_0) return {kQ5_0, 3};     // d qh qs
    if (type == DType::Q4_1) return {kQ4_1, 3};     // d m qs
    if (type == DType::Q5_1) return {kQ5_1, 4};     // d m qh qs
    if (type == DType::Q4_K) return {kQ4_K, 4};     // d dmin scales qs
    if (type == DType::Q5_K) return {kQ5_K, 5};     // d dmin scales qh qs
    if (type == DType::Q6_K) return {kQ6_K, 4};     // ql qh scales d
    if (type == DType::IQ4_XS) return {kIQ4_XS, 4}; // d scales_h scales_l qs
    if (type == DType::Q3_K) return {kQ3_K, 4};     // hmask qs scales d
    if (type == DType::Q2_K) return {kQ2_K, 4};     // scales qs d dmin
    // (a table row that says interleave8 without a field list here fails
    // Interleave8.TheNamedTypesAreExactlyTheOnesThatRoundTrip)
    fail("the interleave8 layout is for " + interleave8_type_names() + ", not " + dtype_name(type));
}

// Copies row k's block into its group block (ToGroup) or the group block's row k out.
template <bool ToGroup> void move_block(Fields fs, const uint8_t* src, uint8_t* dst, int k) {
    size_t base = 0;
    for (int i = 0; i < fs.n; i++) {
        const Field& f = fs.f[i];
        for (size_t c = 0; c < f.size / f.granule; c++) {
            const size_t in_group = base + (8 * c + size_t(k)) * f.granule;
            const size_t in_row = f.offset + c * f.granule;
            if (ToGroup)
                std::memcpy(dst + in_group, src + in_row, f.granule);
            else
                std::memcpy(dst + in_row, src + in_group, f.granule);
        }
        base += 8 * f.size;
    }
}

} // namespace

bool can_interleave8(DType type, uint64_t rows) {
    return dtype_info(type).interleave8 && rows > 0 && rows % kInterleaveRows == 0;
}

std::string interleave8_type_names() {
    std::string out;
    for (const DTypeInfo& info : dtype_table())
        if (info.interleave8) out.append(out.empty() ? "" : ", ").append(info.name);
    return out;
}

void interleaved_row(DType type, const uint8_t* matrix, uint64_t r, uint64_t cols, uint8_t* row) {
    const auto fs = fields(type);
    const size_t bb = size_t(dtype_info(type).block_bytes);
    const size_t nb = size_t(cols) / size_t(dtype_info(type).block_size);
    const uint8_t* group = matrix + size_t(r / 8) * 8 * nb * bb;
    for (size_t b = 0; b < nb; b++)
        move_block<false>(fs, group + b * 8 * bb, row + b * bb, int(r % 8));
}

void interleave8(DType type, const uint8_t* src, uint8_t* dst, uint64_t rows, uint64_t cols) {
    const auto fs = fields(type);
    if (rows % 8 != 0) fail("interleave8: the row count is not a multiple of 8");
    const size_t bb = size_t(dtype_info(type).block_bytes);
    const size_t nb = size_t(cols) / size_t(dtype_info(type).block_size);
    const size_t row = nb * bb;
    for (int64_t g = 0; g < int64_t(rows / 8); g++)
        for (int k = 0; k < 8; k++)
            for (size_t b = 0; b < nb; b++)
                move_block<true>(fs, src + (size_t(g) * 8 + size_t(k)) * row + b * bb,
                                 dst + size_t(g) * 8 * row + b * 8 * bb, k);
}

void deinterleave8(DType type, const uint8_t* src, uint8_t* dst, uint64_t rows, uint64_t cols) {
    if (rows % 8 != 0) fail("deinterleave8: the row count is not a multiple of 8");
    const size_t row = row_bytes(type, cols);
    for (uint64_t r = 0; r < rows; r++) interleaved_row(type, src, r, cols, dst + size_t(r) * row);
}

} // namespace strata
