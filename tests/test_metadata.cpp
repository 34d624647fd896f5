#include "core/error.h"
#include "formats/metadata.h"

#include <gtest/gtest.h>

using namespace strata;

TEST(Metadata, EncodeDecodeRoundTripsEveryType) {
    Metadata m;
    m.set("a.u32", uint32_t(7));
    m.set("a.i32", int32_t(-3));
    m.set("a.f32", 1.5f);
    m.set("a.u64", uint64_t(1) << 40);
    m.set("a.str", std::string("h\xC3\xA9llo"));
    m.set("a.i32s", std::vector<int32_t>{0, 0, 2, -1});
    m.set("a.f32s", std::vector<float>{0.5f, -0.25f});
    m.set("a.strs", std::vector<std::string>{"", "x", "\xE2\x96\x81y"});
    const auto bytes = m.encode();
    const Metadata d = Metadata::decode(bytes.data(), bytes.size());
    EXPECT_EQ(d.u32("a.u32"), 7u);
    EXPECT_EQ(d.i32("a.i32"), -3);
    EXPECT_EQ(d.f32("a.f32"), 1.5f);
    EXPECT_EQ(d.u64("a.u64"), uint64_t(1) << 40);
    EXPECT_EQ(d.str("a.str"), "h\xC3\xA9llo");
    EXPECT_EQ(d.i32s("a.i32s"), (std::vector<int32_t>{0, 0, 2, -1}));
    EXPECT_EQ(d.f32s("a.f32s"), (std::vector<float>{0.5f, -0.25f}));
    EXPECT_EQ(d.strs("a.strs"), (std::vector<std::string>{"", "x", "\xE2\x96\x81y"}));
    EXPECT_THROW(d.u32("a.str"), Error);   // wrong type
    EXPECT_THROW(d.u32("missing"), Error); // absent
    EXPECT_EQ(d.u32_or("missing", 9), 9u);
}

TEST(Metadata, EveryTruncationAndBadCountIsRefused) {
    Metadata m;
    m.set("k", std::vector<std::string>{"abc", "de"});
    m.set("n", uint32_t(1));
    const auto bytes = m.encode();
    for (size_t n = 0; n < bytes.size(); n++)
        EXPECT_THROW(Metadata::decode(bytes.data(), n), Error) << n;
    auto bad = bytes;
    bad[0] = 0xff, bad[1] = 0xff, bad[2] = 0xff, bad[3] = 0x7f; // entry count
    try {
        Metadata::decode(bad.data(), bad.size());
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("entry count"), std::string::npos) << e.what();
    }
    auto trailing = bytes;
    trailing.push_back(0);
    EXPECT_THROW(Metadata::decode(trailing.data(), trailing.size()), Error);
}
