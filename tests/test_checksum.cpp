#include "formats/checksum.h"

#include <gtest/gtest.h>
#include <set>
#include <vector>

using namespace strata;

TEST(Checksum, DeterministicAndSensitiveToEveryBitAndLength) {
    std::vector<uint8_t> data(131);
    for (size_t i = 0; i < data.size(); i++) data[i] = uint8_t(i * 37 + 11);
    const uint64_t base = checksum64(data.data(), data.size());
    EXPECT_EQ(base, checksum64(data.data(), data.size()));
    std::set<uint64_t> seen{base};
    for (size_t byte = 0; byte < data.size(); byte++) {
        for (int bit = 0; bit < 8; bit++) {
            data[byte] ^= uint8_t(1 << bit);
            EXPECT_TRUE(seen.insert(checksum64(data.data(), data.size())).second)
                << byte << ":" << bit;
            data[byte] ^= uint8_t(1 << bit);
        }
    }
    // Every prefix length (covers the 32-byte lanes, the 8-byte words and the tail) differs.
    std::set<uint64_t> prefixes;
    for (size_t n = 0; n <= data.size(); n++) prefixes.insert(checksum64(data.data(), n));
    EXPECT_EQ(prefixes.size(), data.size() + 1);
}
