// A fast 64-bit checksum for detecting bit rot in `.strata` files (not a cryptographic hash).
// Four independent multiply-rotate lanes over 8-byte words, then the tail and the length are
// folded in. Defined in docs/format.md so other readers can compute it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace strata {

uint64_t checksum64(const void* data, size_t size);

} // namespace strata
