// A bounds-checked cursor over untrusted bytes. Every read checks the remaining length first and
// throws strata::Error naming what was being read and where, so parsers never form a pointer
// past the end of their input.
#pragma once

#include "core/error.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace strata {

class ByteReader {
  public:
    ByteReader(const uint8_t* data, size_t size, std::string what)
        : data_(data), size_(size), what_(std::move(what)) {}

    size_t offset() const { return pos_; }
    size_t remaining() const { return size_ - pos_; }

    void need(uint64_t n, const char* field) const {
        if (n > remaining())
            fail(what_ + ": truncated while reading " + field + " at offset " +
                 std::to_string(pos_) + " (needs " + std::to_string(n) + " bytes, " +
                 std::to_string(remaining()) + " left)");
    }

    template <typename T> T read(const char* field) {
        need(sizeof(T), field);
        T v;
        std::memcpy(&v, data_ + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    const uint8_t* bytes(uint64_t n, const char* field) {
        need(n, field);
        const uint8_t* p = data_ + pos_;
        pos_ += size_t(n);
        return p;
    }

    std::string_view string(uint64_t n, const char* field) {
        const uint8_t* p = bytes(n, field);
        return {reinterpret_cast<const char*>(p), size_t(n)};
    }

    void skip(uint64_t n, const char* field) { bytes(n, field); }
    const std::string& what() const { return what_; }

  private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
    std::string what_;
};

} // namespace strata
