#include "formats/checksum.h"

#include <cstring>

namespace strata {

static constexpr uint64_t P1 = 0x9E3779B185EBCA87ull;
static constexpr uint64_t P2 = 0xC2B2AE3D27D4EB4Full;

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t mix(uint64_t lane, uint64_t word) {
    return rotl(lane ^ (word * P2), 31) * P1;
}

uint64_t checksum64(const void* data, size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
    uint64_t lane[4] = {P1, P2, ~P1, ~P2};
    size_t i = 0;
    for (; i + 32 <= size; i += 32) {
        uint64_t w[4];
        std::memcpy(w, p + i, 32);
        for (int k = 0; k < 4; k++) lane[k] = mix(lane[k], w[k]);
    }
    uint64_t h = size * P1;
    for (int k = 0; k < 4; k++) h = mix(h, lane[k]);
    for (; i + 8 <= size; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        h = mix(h, w);
    }
    if (i < size) {
        uint64_t w = 0;
        std::memcpy(&w, p + i, size - i);
        h = mix(h, w ^ 0xFF);
    }
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    return h;
}

} // namespace strata
