#include "formats/strata_reader.h"

#include "core/error.h"
#include "core/interleave.h"
#include "formats/byte_reader.h"
#include "formats/checksum.h"
#include "formats/strata_writer.h"

#include <algorithm>
#include <cstring>

namespace strata {

std::string shape_string(const std::vector<uint64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); i++) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

StrataFile StrataFile::open(const std::string& path) {
    auto mapping = MappedFile::open(path);
    StrataFile f;
    f.mapping_ = mapping;
    f.base_ = mapping->data();
    f.size_ = mapping->size();
    f.parse(path);
    return f;
}

StrataFile StrataFile::from_memory(const uint8_t* data, size_t size, const std::string& name) {
    StrataFile f;
    f.base_ = data;
    f.size_ = size;
    f.parse(name);
    return f;
}

const TensorEntry* StrataFile::find(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

void StrataFile::parse(const std::string& name) {
    try {
        if (size_ < kHeaderBytes)
            fail("file is " + std::to_string(size_) + " bytes, shorter than the " +
                 std::to_string(kHeaderBytes) + "-byte header (truncated, or not a .strata file)");
        if (std::memcmp(base_, kStrataMagic, 8) != 0) fail("bad magic: not a .strata file");
        ByteReader h(base_, kHeaderBytes, "header");
        h.skip(8, "magic");
        version_ = h.read<uint32_t>("version");
        if (version_ > kStrataVersion)
            fail("format version " + std::to_string(version_) +
                 " is newer than this strata supports (" + std::to_string(kStrataVersion) +
                 "); upgrade strata");
        if (version_ == 0) fail("format version 0 is invalid");
        const uint32_t header_bytes = h.read<uint32_t>("header size");
        if (header_bytes != kHeaderBytes)
            fail("header size " + std::to_string(header_bytes) + " is invalid");
        const uint64_t file_bytes = h.read<uint64_t>("file size");
        if (file_bytes != size_)
            fail("header says the file is " + std::to_string(file_bytes) + " bytes but it is " +
                 std::to_string(size_) + (size_ < file_bytes ? " (truncated)" : ""));
        meta_offset_ = h.read<uint64_t>("metadata offset");
        const uint64_t meta_bytes = h.read<uint64_t>("metadata size");
        const uint64_t dir_offset = h.read<uint64_t>("directory offset");
        const uint64_t dir_bytes = h.read<uint64_t>("directory size");
        data_offset_ = h.read<uint64_t>("data offset");
        const uint64_t data_bytes = h.read<uint64_t>("data size");
        const uint32_t n_tensors = h.read<uint32_t>("tensor count");
        h.skip(4, "reserved");
        meta_checksum_ = h.read<uint64_t>("metadata checksum");

        // Sections must lie in order inside the file: header, metadata, directory, data.
        auto section = [&](const char* what, uint64_t off, uint64_t bytes, uint64_t min_off) {
            if (off < min_off || off > size_ || bytes > size_ - off)
                fail(std::string(what) + " (offset " + std::to_string(off) + ", " +
                     std::to_string(bytes) +
                     " bytes) lies outside the file or overlaps the section before it");
        };
        section("metadata block", meta_offset_, meta_bytes, kHeaderBytes);
        section("tensor directory", dir_offset, dir_bytes, meta_offset_ + meta_bytes);
        section("data region", data_offset_, data_bytes, dir_offset + dir_bytes);
        if (data_offset_ % kDataAlignment != 0)
            fail("data offset " + std::to_string(data_offset_) + " is not page aligned");
        if (data_offset_ + data_bytes != size_)
            fail("data region does not end at the end of the file");
        dir_end_ = dir_offset + dir_bytes;

        meta_ = Metadata::decode(base_ + meta_offset_, size_t(meta_bytes));

        // The directory: each entry is at least 40 bytes, which bounds the count.
        if (uint64_t(n_tensors) * 40 > dir_bytes)
            fail("tensor count " + std::to_string(n_tensors) + " does not fit the directory");
        ByteReader d(base_ + dir_offset, size_t(dir_bytes), "tensor directory");
        tensors_.resize(n_tensors);
        for (uint32_t i = 0; i < n_tensors; i++) {
            TensorEntry& t = tensors_[i];
            const uint32_t name_len = d.read<uint32_t>("tensor name length");
            if (name_len == 0 || name_len > kMaxNameBytes)
                fail("tensor " + std::to_string(i) + " has a name length of " +
                     std::to_string(name_len));
            t.name = std::string(d.string(name_len, "tensor name"));
            const uint32_t type_id = d.read<uint32_t>("tensor type");
            auto type = dtype_from_id(type_id);
            if (!type || !dtype_info(*type).weight)
                fail("tensor " + t.name + " has unknown type id " + std::to_string(type_id));
            t.type = *type;
            const uint32_t layout = d.read<uint32_t>("tensor layout");
            if (layout != uint32_t(TensorLayout::RowMajor) &&
                layout != uint32_t(TensorLayout::Interleave8))
                fail("tensor " + t.name + " has unknown layout " + std::to_string(layout));
            t.layout = TensorLayout(layout);
            const uint32_t n_dims = d.read<uint32_t>("tensor rank");
            if (n_dims == 0 || n_dims > kMaxDims)
                fail("tensor " + t.name + " has rank " + std::to_string(n_dims));
            t.shape.resize(n_dims);
            uint64_t elements = 1;
            for (auto& dim : t.shape) {
                dim = d.read<uint64_t>("tensor shape");
                if (dim == 0 || dim > (uint64_t(1) << 40) || elements > (uint64_t(1) << 40) / dim)
                    fail("tensor " + t.name + " has an invalid shape " + shape_string(t.shape));
                elements *= dim;
            }
            t.offset = d.read<uint64_t>("tensor offset");
            t.bytes = d.read<uint64_t>("tensor size");
            t.checksum = d.read<uint64_t>("tensor checksum");
            const uint64_t expect = tensor_bytes(t.type, t.shape);
            if (expect == 0)
                fail("tensor " + t.name + ": rows of " + std::to_string(t.shape.back()) +
                     " values are not whole " + dtype_name(t.type) + " blocks");
            if (t.bytes != expect)
                fail("tensor " + t.name + " is " + std::to_string(t.bytes) + " bytes but a " +
                     dtype_name(t.type) + " tensor of shape " + shape_string(t.shape) + " takes " +
                     std::to_string(expect));
            if (t.layout == TensorLayout::Interleave8 &&
                (n_dims < 2 || n_dims > 3 || !can_interleave8(t.type, t.shape[n_dims - 2])))
                fail("tensor " + t.name + " has the interleave8 layout but is a " +
                     dtype_name(t.type) + " tensor of shape " + shape_string(t.shape) +
                     " (it is for matrices with a multiple of 8 rows of the types " +
                     interleave8_type_names() + ")");
            if (t.offset % kTensorAlignment != 0)
                fail("tensor " + t.name + " offset " + std::to_string(t.offset) +
                     " is not 64-byte aligned");
            if (t.offset > data_bytes || t.bytes > data_bytes - t.offset)
                fail("tensor " + t.name + " (offset " + std::to_string(t.offset) + ", " +
                     std::to_string(t.bytes) + " bytes) extends past the end of the data region");
            if (!by_name_.emplace(t.name, i).second) fail("tensor " + t.name + " appears twice");
        }
        if (d.remaining() != 0) fail("tensor directory has trailing bytes");

        std::vector<const TensorEntry*> sorted;
        for (const auto& t : tensors_) sorted.push_back(&t);
        std::sort(sorted.begin(), sorted.end(),
                  [](const TensorEntry* a, const TensorEntry* b) { return a->offset < b->offset; });
        for (size_t i = 1; i < sorted.size(); i++)
            if (sorted[i - 1]->offset + sorted[i - 1]->bytes > sorted[i]->offset)
                fail("tensors " + sorted[i - 1]->name + " and " + sorted[i]->name + " overlap");

        config_ = config_from_metadata(meta_);
        tokenizer_ = tokenizer_from_metadata(meta_);
        if (tokenizer_.tokens.size() != config_.n_vocab)
            fail("tokenizer has " + std::to_string(tokenizer_.tokens.size()) +
                 " tokens but n_vocab is " + std::to_string(config_.n_vocab));
        validate_model_tensors(config_, tensors_);
    } catch (const Error& e) {
        throw Error(name + ": " + e.what());
    }
}

std::vector<std::string> StrataFile::verify_checksums() const {
    std::vector<std::string> problems;
    if (checksum64(base_ + meta_offset_, size_t(dir_end_ - meta_offset_)) != meta_checksum_)
        problems.push_back("metadata/directory checksum mismatch");
    for (const auto& t : tensors_)
        if (checksum64(data(t), size_t(t.bytes)) != t.checksum)
            problems.push_back("tensor " + t.name + ": checksum mismatch (data corrupted)");
    return problems;
}

void validate_model_tensors(const ModelConfig& config, const std::vector<TensorEntry>& tensors) {
    const auto expected = expected_tensors(config);
    std::unordered_map<std::string, const TensorEntry*> have;
    for (const auto& t : tensors) have[t.name] = &t;
    for (const auto& spec : expected) {
        auto it = have.find(spec.name);
        if (it == have.end()) fail("tensor " + spec.name + " is missing");
        const TensorEntry& t = *it->second;
        if (t.shape != spec.shape)
            fail("tensor " + spec.name + " has shape " + shape_string(t.shape) +
                 " but the hyperparameters say " + shape_string(spec.shape));
        if (!spec.is_matrix && t.type != DType::F32)
            fail("tensor " + spec.name + " is " + dtype_name(t.type) +
                 "; norms and biases must be f32");
        have.erase(it);
    }
    if (!have.empty()) {
        const std::string extra = have.begin()->first;
        if (extra.find("attn_k") != std::string::npos || extra.find("attn_v") != std::string::npos)
            fail("tensor " + extra +
                 " belongs to a layer that kv_source says reuses another layer's K/V");
        fail("unexpected tensor " + extra);
    }
}

} // namespace strata
