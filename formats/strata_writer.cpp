#include "formats/strata_writer.h"

#include "core/error.h"
#include "core/interleave.h"
#include "formats/checksum.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

uint64_t tensor_bytes(DType type, const std::vector<uint64_t>& shape) {
    if (shape.empty()) return 0;
    const uint64_t row = row_bytes(type, shape.back());
    uint64_t rows = 1;
    for (size_t i = 0; i + 1 < shape.size(); i++) rows *= shape[i];
    return row * rows;
}

void StrataWriter::add_tensor(const std::string& name, DType type, std::vector<uint64_t> shape,
                              Producer produce, TensorLayout layout) {
    if (name.empty() || name.size() > kMaxNameBytes)
        fail("tensor name '" + name + "' has a bad length");
    if (shape.empty() || shape.size() > kMaxDims) fail("tensor " + name + " has a bad rank");
    for (const auto& e : entries_)
        if (e.name == name) fail("tensor " + name + " added twice");
    TensorEntry e;
    e.name = name;
    e.type = type;
    e.layout = layout;
    e.shape = std::move(shape);
    e.bytes = tensor_bytes(type, e.shape);
    if (e.bytes == 0)
        fail("tensor " + name + ": a row of " + std::to_string(e.shape.back()) +
             " values is not a whole number of " + dtype_name(type) + " blocks");
    if (layout == TensorLayout::Interleave8 &&
        (e.shape.size() < 2 || e.shape.size() > 3 ||
         !can_interleave8(type, e.shape[e.shape.size() - 2])))
        fail("tensor " + name + " cannot take the interleave8 layout");
    entries_.push_back(std::move(e));
    producers_.push_back(std::move(produce));
}

namespace {

// Owns the temporary output file until it is renamed into place; removes it otherwise.
struct TempFile {
    std::string path;
    int fd = -1;
    void* map = MAP_FAILED;
    size_t map_bytes = 0;
    bool keep = false;
    ~TempFile() {
        if (map != MAP_FAILED) munmap(map, map_bytes);
        if (fd >= 0) ::close(fd);
        if (!keep && !path.empty()) ::unlink(path.c_str());
    }
};

template <typename T> void put(uint8_t* base, size_t off, T v) {
    std::memcpy(base + off, &v, sizeof v);
}

size_t directory_bytes(const std::vector<TensorEntry>& entries) {
    size_t n = 0;
    for (const auto& e : entries)
        n += 4 + e.name.size() + 4 + 4 + 4 + 8 * e.shape.size() + 8 + 8 + 8;
    return n;
}

void encode_directory(const std::vector<TensorEntry>& entries, uint8_t* out) {
    size_t o = 0;
    for (const auto& e : entries) {
        put<uint32_t>(out, o, uint32_t(e.name.size()));
        std::memcpy(out + o + 4, e.name.data(), e.name.size());
        o += 4 + e.name.size();
        put<uint32_t>(out, o, uint32_t(e.type));
        put<uint32_t>(out, o + 4, uint32_t(e.layout));
        put<uint32_t>(out, o + 8, uint32_t(e.shape.size()));
        o += 12;
        for (uint64_t d : e.shape) {
            put<uint64_t>(out, o, d);
            o += 8;
        }
        put<uint64_t>(out, o, e.offset);
        put<uint64_t>(out, o + 8, e.bytes);
        put<uint64_t>(out, o + 16, e.checksum);
        o += 24;
    }
}

} // namespace

namespace {

// Where each part of the file goes; sets the entries' offsets.
struct FileLayout {
    uint64_t meta_offset, dir_offset, dir_bytes, data_offset, data_bytes, total_tensor_bytes,
        file_bytes;
};

FileLayout lay_out(size_t meta_bytes, std::vector<TensorEntry>& entries) {
    FileLayout l{};
    l.meta_offset = kHeaderBytes;
    l.dir_offset = align_up(l.meta_offset + meta_bytes, 8);
    l.dir_bytes = directory_bytes(entries);
    l.data_offset = align_up(l.dir_offset + l.dir_bytes, kDataAlignment);
    for (auto& e : entries) {
        e.offset = align_up(l.data_bytes, kTensorAlignment);
        l.data_bytes = e.offset + e.bytes;
        l.total_tensor_bytes += e.bytes;
    }
    l.file_bytes = l.data_offset + l.data_bytes;
    return l;
}

} // namespace

uint64_t StrataWriter::file_bytes() const {
    std::vector<TensorEntry> entries = entries_;
    return lay_out(meta_.encode().size(), entries).file_bytes;
}

void StrataWriter::write(const std::string& path, const Progress& progress) {
    const std::vector<uint8_t> meta = meta_.encode();
    const auto [meta_offset, dir_offset, dir_bytes, data_offset, data_bytes, total_tensor_bytes,
                file_bytes] = lay_out(meta.size(), entries_);

    TempFile tmp;
    std::string templ = path + ".tmp-XXXXXX";
    tmp.fd = mkstemp(templ.data());
    if (tmp.fd < 0)
        fail("cannot create a temporary file beside " + path + ": " + std::strerror(errno));
    tmp.path = templ;
    // posix_fallocate reserves the blocks now, so a full disk is reported here and never as a
    // SIGBUS while writing through the mapping.
    if (int err = posix_fallocate(tmp.fd, 0, off_t(file_bytes)); err != 0)
        fail("cannot reserve " + std::to_string(file_bytes) + " bytes for " + path + ": " +
             std::strerror(err));
    tmp.map_bytes = size_t(file_bytes);
    tmp.map = mmap(nullptr, tmp.map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, tmp.fd, 0);
    if (tmp.map == MAP_FAILED)
        fail("cannot map the output for " + path + ": " + std::strerror(errno));
    auto* out = static_cast<uint8_t*>(tmp.map);

    uint64_t done_bytes = 0;
    for (size_t i = 0; i < entries_.size(); i++) {
        TensorEntry& e = entries_[i];
        uint8_t* dst = out + data_offset + e.offset;
        producers_[i](dst, e.bytes);
        e.checksum = checksum64(dst, e.bytes);
        done_bytes += e.bytes;
        if (progress) progress(i + 1, entries_.size(), done_bytes, total_tensor_bytes);
    }

    std::memcpy(out + meta_offset, meta.data(), meta.size());
    encode_directory(entries_, out + dir_offset);
    std::memcpy(out + HeaderLayout::magic, kStrataMagic, 8);
    put<uint32_t>(out, HeaderLayout::version, kStrataVersion);
    put<uint32_t>(out, HeaderLayout::header_bytes, kHeaderBytes);
    put<uint64_t>(out, HeaderLayout::file_bytes, file_bytes);
    put<uint64_t>(out, HeaderLayout::meta_offset, meta_offset);
    put<uint64_t>(out, HeaderLayout::meta_bytes, meta.size());
    put<uint64_t>(out, HeaderLayout::dir_offset, dir_offset);
    put<uint64_t>(out, HeaderLayout::dir_bytes, dir_bytes);
    put<uint64_t>(out, HeaderLayout::data_offset, data_offset);
    put<uint64_t>(out, HeaderLayout::data_bytes, data_bytes);
    put<uint32_t>(out, HeaderLayout::n_tensors, uint32_t(entries_.size()));
    // The metadata and directory are adjacent except for padding, which is zero: hash the span.
    put<uint64_t>(out, HeaderLayout::meta_checksum,
                  checksum64(out + meta_offset, dir_offset + dir_bytes - meta_offset));

    if (msync(tmp.map, tmp.map_bytes, MS_SYNC) != 0)
        fail("cannot write " + path + ": " + std::strerror(errno));
    const mode_t mask = umask(0);
    umask(mask);
    fchmod(tmp.fd, 0666 & ~mask);
    if (fsync(tmp.fd) != 0) fail("cannot write " + path + ": " + std::strerror(errno));
    if (std::rename(tmp.path.c_str(), path.c_str()) != 0)
        fail("cannot rename the temporary file to " + path + ": " + std::strerror(errno));
    tmp.keep = true;
}

} // namespace strata
