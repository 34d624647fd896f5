// SHA-256 (FIPS 180-4), for checking downloaded files against the hub's digests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace strata {

class Sha256 {
  public:
    Sha256();
    void update(const void* data, size_t size);
    std::string hex_digest(); // finishes; 64 lower-case hex digits

  private:
    void block(const uint8_t* p);
    uint32_t h_[8];
    uint8_t buf_[64];
    size_t buf_len_ = 0;
    uint64_t total_ = 0;
};

// SHA-256 of a whole file, hex; throws strata::Error if it cannot be read.
std::string sha256_file(const std::string& path);

} // namespace strata
