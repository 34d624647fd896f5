// The `.strata` container: constants and the tensor directory entry shared by the writer and
// the reader. docs/format.md is the normative description.
#pragma once

#include "core/dtype.h"
#include "core/interleave.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strata {

constexpr char kStrataMagic[8] = {'S', 'T', 'R', 'A', 'T', 'A', '\0', '\0'};
constexpr uint32_t kStrataVersion = 1;
constexpr uint32_t kHeaderBytes = 128;
constexpr uint64_t kDataAlignment = 4096; // data region: page aligned, so it maps in place
constexpr uint64_t kTensorAlignment = 64; // each tensor inside the data region
constexpr uint32_t kMaxDims = 4;
constexpr uint32_t kMaxNameBytes = 256;


struct TensorEntry {
    std::string name;
    DType type = DType::F32;
    TensorLayout layout = TensorLayout::RowMajor;
    std::vector<uint64_t> shape; // outermost first: a [rows, cols] matrix has rows of cols
    uint64_t offset = 0;         // from the start of the data region
    uint64_t bytes = 0;
    uint64_t checksum = 0; // checksum64 of the tensor's bytes

    uint64_t elements() const {
        uint64_t n = 1;
        for (uint64_t d : shape) n *= d;
        return n;
    }
    uint64_t rows() const { return shape.size() <= 1 ? 1 : elements() / shape.back(); }
    uint64_t cols() const { return shape.empty() ? 1 : shape.back(); }
};

// Field offsets of the fixed 128-byte header, all little-endian.
struct HeaderLayout {
    static constexpr size_t magic = 0;          // 8 bytes
    static constexpr size_t version = 8;        // u32
    static constexpr size_t header_bytes = 12;  // u32
    static constexpr size_t file_bytes = 16;    // u64
    static constexpr size_t meta_offset = 24;   // u64
    static constexpr size_t meta_bytes = 32;    // u64
    static constexpr size_t dir_offset = 40;    // u64
    static constexpr size_t dir_bytes = 48;     // u64
    static constexpr size_t data_offset = 56;   // u64
    static constexpr size_t data_bytes = 64;    // u64
    static constexpr size_t n_tensors = 72;     // u32
    static constexpr size_t reserved = 76;      // u32, zero
    static constexpr size_t meta_checksum = 80; // u64: checksum64 of metadata + directory
    // 88..127: zero
};

} // namespace strata
