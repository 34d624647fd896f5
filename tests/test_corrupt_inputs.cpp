// Malformed GGUF and safetensors inputs: every truncation and crafted corruption gets a clear
// error, never a crash (this suite also runs under ASan+UBSan).
#include "core/error.h"
#include "formats/gguf_reader.h"
#include "formats/model_source.h"
#include "formats/safetensors.h"
#include "tests/fixtures.h"
#include "tests/gguf_builder.h"

#include <cstring>

using namespace strata;
using namespace strata::test;

namespace {

void expect_gguf_refused(const std::vector<uint8_t>& bytes, const std::string& needle) {
    try {
        GgufFile::from_memory(bytes.data(), bytes.size(), "crafted.gguf");
        ADD_FAILURE() << "accepted a corrupt GGUF (expected: " << needle << ")";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
    }
}

template <typename T> void set(std::vector<uint8_t>& b, size_t off, T v) {
    std::memcpy(b.data() + off, &v, sizeof v);
}

} // namespace

TEST(CorruptGguf, TheTinyBuilderFileIsValidAndImports) {
    auto bytes = tiny_llama_gguf().build();
    GgufFile g = GgufFile::from_memory(bytes.data(), bytes.size(), "tiny.gguf");
    EXPECT_EQ(g.tensors().size(), 11u);
    TempDir dir;
    write_file(dir.file("tiny.gguf"), bytes.data(), bytes.size());
    ModelSource src = import_gguf(dir.file("tiny.gguf"));
    EXPECT_TRUE(src.config.tied_output);
    EXPECT_EQ(src.config.n_head_kv, 1u);
}

TEST(CorruptGguf, EveryTruncationOfASmallGgufIsRefused) {
    GgufBuilder b = tiny_llama_gguf();
    const auto bytes = b.build();
    size_t refused = 0;
    for (size_t n = 0; n < bytes.size(); n++) {
        try {
            GgufFile::from_memory(bytes.data(), n, "cut.gguf");
        } catch (const Error& e) {
            refused++;
            EXPECT_FALSE(std::string(e.what()).empty());
            continue;
        }
        // Accepted: only possible once every tensor's bytes are present.
        GgufFile g = GgufFile::from_memory(bytes.data(), n, "cut.gguf");
        for (const auto& t : g.tensors())
            ASSERT_LE(t.offset + t.bytes, n) << "accepted a tensor past the end at " << n;
    }
    EXPECT_GE(refused, bytes.size() - 32);
}

TEST(CorruptGguf, TruncatingTheStoriesGgufIsRefusedEverywhereInItsHeader) {
    REQUIRE_FIXTURES();
    const auto bytes = read_file(fixture("stories260K/stories260K.gguf"));
    // Every cut inside the metadata and tensor directory (14152 bytes), then one every 4099
    // bytes through the tensor data.
    for (size_t n = 0; n < bytes.size(); n += n < 14200 ? 1 : 4099)
        EXPECT_THROW(GgufFile::from_memory(bytes.data(), n, "cut.gguf"), Error) << n;
}

TEST(CorruptGguf, CraftedHeadersAreRefused) {
    GgufBuilder b = tiny_llama_gguf();
    const auto good = b.build();
    auto x = good;
    x[0] = 'X';
    expect_gguf_refused(x, "bad magic");
    x = good;
    set<uint32_t>(x, 4, 1);
    expect_gguf_refused(x, "version 1 is not supported");
    x = good;
    set<uint32_t>(x, 4, 7);
    expect_gguf_refused(x, "version 7");
    x = good;
    set<uint64_t>(x, 8, uint64_t(1) << 60); // tensor count
    expect_gguf_refused(x, "tensor count");
    x = good;
    set<uint64_t>(x, 16, uint64_t(1) << 60); // metadata count
    expect_gguf_refused(x, "metadata count");
    x = good;
    set<uint64_t>(x, 24, uint64_t(1) << 62); // first key's length
    expect_gguf_refused(x, "implausible");
    x = good;
    set<uint64_t>(x, b.tensor_offset_field(3), uint64_t(1) << 40); // offset past the end
    expect_gguf_refused(x, "past the end");
    x = good;
    set<uint64_t>(x, b.tensor_offset_field(3), 0); // same bytes as tensor 0
    expect_gguf_refused(x, "overlap");
    x = good;
    set<uint64_t>(x, b.tensor_offset_field(3), 8); // misaligned
    expect_gguf_refused(x, "not aligned");
}

TEST(CorruptGguf, UnsupportedTypesAndArchitecturesAreNamed) {
    TempDir dir;
    GgufBuilder b = tiny_llama_gguf();
    b.tensor("blk.0.extra.weight", 13 /* q5_k */, {256, 1}, std::vector<uint8_t>(176));
    auto bytes = b.build();
    write_file(dir.file("x.gguf"), bytes.data(), bytes.size());
    try {
        import_gguf(dir.file("x.gguf"));
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("blk.0.extra.weight"), std::string::npos) << e.what();
    }
    GgufBuilder c;
    c.kv_str("general.architecture", "mamba");
    bytes = c.build();
    write_file(dir.file("m.gguf"), bytes.data(), bytes.size());
    try {
        import_gguf(dir.file("m.gguf"));
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("'mamba' is not supported"), std::string::npos)
            << e.what();
    }
}

TEST(CorruptSafetensors, MalformedHeadersAreRefused) {
    auto make = [](const std::string& header, size_t data_bytes) {
        std::vector<uint8_t> b(8 + header.size() + data_bytes, 0);
        const uint64_t n = header.size();
        std::memcpy(b.data(), &n, 8);
        std::memcpy(b.data() + 8, header.data(), header.size());
        return b;
    };
    auto refused = [](const std::vector<uint8_t>& b, const std::string& needle) {
        try {
            SafetensorsFile::from_memory(b.data(), b.size(), "x.safetensors");
            ADD_FAILURE() << "accepted (expected " << needle << ")";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    const std::string ok = R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
    auto good = make(ok, 16);
    EXPECT_EQ(SafetensorsFile::from_memory(good.data(), good.size(), "ok").tensors().size(), 1u);
    for (size_t n = 0; n < good.size(); n++) {
        EXPECT_THROW(SafetensorsFile::from_memory(good.data(), n, "cut"), Error) << n;
    }
    refused(make("{not json", 0), "not a JSON object");
    refused(make(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", 16), "need");
    refused(make(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})", 8),
            "outside the data");
    refused(make(R"({"a":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}})", 8), "unknown dtype");
    refused(
        make(
            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            12),
        "overlap");
    std::vector<uint8_t> huge(16, 0);
    huge[7] = 0x40;
    refused(huge, "header length");
}
