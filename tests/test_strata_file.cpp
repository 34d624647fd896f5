// The .strata writer and validating reader: round trip, every truncation, crafted corruption.
#include "core/error.h"
#include "core/interleave.h"
#include "formats/checksum.h"
#include "formats/convert.h"
#include "formats/strata_reader.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "tests/fixtures.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sys/stat.h>

using namespace strata;
using namespace strata::test;

namespace {

// A small valid file: the test-tiny synthetic shape (4 layers, GQA) in Q8_0.
std::vector<uint8_t> tiny_file(const TempDir& dir, ConvertOptions opt = {DType::Q8_0, 0}) {
    SyntheticOptions syn;
    syn.shape = "test-tiny";
    ModelSource src = make_synthetic(syn);
    convert_model(src, dir.file("tiny.strata"), opt);
    return read_file(dir.file("tiny.strata"));
}

template <typename T> T get(const std::vector<uint8_t>& b, size_t off) {
    T v;
    std::memcpy(&v, b.data() + off, sizeof v);
    return v;
}
template <typename T> void set(std::vector<uint8_t>& b, size_t off, T v) {
    std::memcpy(b.data() + off, &v, sizeof v);
}

// Byte position of the directory fields of tensor `index`.
struct DirEntryPos {
    size_t type, offset, bytes, shape0;
};
DirEntryPos dir_entry(const std::vector<uint8_t>& b, size_t index) {
    size_t o = get<uint64_t>(b, HeaderLayout::dir_offset);
    for (size_t i = 0;; i++) {
        const uint32_t name_len = get<uint32_t>(b, o);
        const size_t type = o + 4 + name_len;
        const uint32_t n_dims = get<uint32_t>(b, type + 8);
        const size_t shape0 = type + 12;
        const size_t offset = shape0 + 8 * n_dims;
        if (i == index) return {type, offset, offset + 8, shape0};
        o = offset + 24;
    }
}

// Expects `bytes` to be refused with a message containing `needle`.
void expect_refused(const std::vector<uint8_t>& bytes, const std::string& needle) {
    try {
        StrataFile::from_memory(bytes.data(), bytes.size(), "crafted.strata");
        ADD_FAILURE() << "accepted a corrupt file (expected: " << needle << ")";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
    }
}

} // namespace

TEST(StrataFile, RoundTripsTensorsMetadataAndChecksums) {
    TempDir dir;
    tiny_file(dir);
    StrataFile f = StrataFile::open(dir.file("tiny.strata"));
    EXPECT_EQ(f.version(), kStrataVersion);
    EXPECT_TRUE(f.config().synthetic);
    EXPECT_EQ(f.config().n_layer, 4u);
    EXPECT_EQ(f.tokenizer().tokens.size(), 320u);
    EXPECT_TRUE(f.verify_checksums().empty());
    for (const auto& t : f.tensors()) {
        EXPECT_EQ(t.offset % kTensorAlignment, 0u);
        EXPECT_EQ(reinterpret_cast<uintptr_t>(f.data(t)) % kTensorAlignment, 0u) << t.name;
        EXPECT_EQ(checksum64(f.data(t), t.bytes), t.checksum);
    }
    EXPECT_EQ(f.find("blk.0.attn_q.weight")->type, DType::Q8_0);
}

TEST(StrataFile, EveryTruncationIsRefusedWithAClearMessage) {
    TempDir dir;
    const auto bytes = tiny_file(dir);
    for (size_t n = 0; n < bytes.size(); n++) {
        try {
            StrataFile::from_memory(bytes.data(), n, "cut.strata");
            ADD_FAILURE() << "accepted a file truncated to " << n << " bytes";
        } catch (const Error& e) {
            const std::string m = e.what();
            EXPECT_TRUE(m.find("truncated") != std::string::npos ||
                        m.find("shorter than") != std::string::npos)
                << n << ": " << m;
        }
    }
}

TEST(StrataFile, TruncationsWithAMatchingSizeFieldAreStillRefused) {
    // A file cut short whose header size was "fixed" to match must still fail on its sections.
    TempDir dir;
    const auto bytes = tiny_file(dir);
    for (size_t n = kHeaderBytes; n < bytes.size(); n += 7) {
        std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + long(n));
        set<uint64_t>(cut, HeaderLayout::file_bytes, n);
        EXPECT_THROW(StrataFile::from_memory(cut.data(), cut.size(), "cut.strata"), Error) << n;
    }
}

TEST(StrataFile, CraftedCorruptHeadersAreRefused) {
    TempDir dir;
    const auto good = tiny_file(dir);
    ASSERT_NO_THROW(StrataFile::from_memory(good.data(), good.size(), "good"));
    auto b = good;
    b[0] = 'X';
    expect_refused(b, "bad magic");
    b = good;
    set<uint32_t>(b, HeaderLayout::version, 99);
    expect_refused(b, "newer than this strata supports");
    b = good;
    set<uint32_t>(b, HeaderLayout::n_tensors, 0xFFFFFFFFu);
    expect_refused(b, "tensor count");
    b = good;
    set<uint64_t>(b, HeaderLayout::meta_bytes, uint64_t(1) << 62);
    expect_refused(b, "metadata block");
    b = good;
    set<uint64_t>(b, HeaderLayout::data_offset, get<uint64_t>(b, HeaderLayout::data_offset) + 1);
    expect_refused(b, "data region");
    b = good;
    set<uint32_t>(b, get<uint64_t>(b, HeaderLayout::meta_offset),
                  0x7FFFFFFFu); // metadata entry count
    expect_refused(b, "entry count");
}

TEST(StrataFile, CraftedCorruptDirectoriesAreRefused) {
    TempDir dir;
    const auto good = tiny_file(dir);
    auto b = good;
    set<uint64_t>(b, dir_entry(b, 1).offset, uint64_t(1) << 50); // offset past the end
    expect_refused(b, "extends past the end");
    b = good;
    set<uint64_t>(b, dir_entry(b, 2).offset, get<uint64_t>(b, dir_entry(b, 1).offset)); // overlap
    expect_refused(b, "overlap");
    b = good;
    set<uint32_t>(b, dir_entry(b, 0).type, 77);
    expect_refused(b, "unknown type");
    b = good;
    set<uint64_t>(b, dir_entry(b, 0).shape0, get<uint64_t>(b, dir_entry(b, 0).shape0) + 1);
    expect_refused(b, "takes"); // size no longer matches shape x type
    b = good;
    set<uint64_t>(b, dir_entry(b, 0).bytes, uint64_t(1) << 63);
    expect_refused(b, "token_embd.weight");
    b = good;
    set<uint64_t>(b, dir_entry(b, 0).offset, 8); // misaligned
    expect_refused(b, "aligned");
}

namespace {
// Writes a file with the given config/tensor overrides through the real writer.
std::vector<uint8_t>
write_custom(const TempDir& dir, const std::function<void(ModelConfig&)>& edit_config,
             const std::function<void(std::vector<TensorSpec>&)>& edit_tensors) {
    SyntheticOptions syn;
    syn.shape = "test-tiny";
    ModelSource src = make_synthetic(syn);
    ModelConfig bad = src.config;
    edit_config(bad);
    std::vector<TensorSpec> specs = expected_tensors(src.config);
    edit_tensors(specs);
    Metadata meta;
    write_metadata(meta, bad, src.tokenizer, {"test", "test"});
    StrataWriter w(std::move(meta));
    for (const auto& s : specs)
        w.add_tensor(s.name, DType::F32, s.shape,
                     [](uint8_t* dst, uint64_t n) { std::memset(dst, 0, n); });
    w.write(dir.file("custom.strata"));
    return read_file(dir.file("custom.strata"));
}
} // namespace

TEST(StrataFile, ShapesThatDontMatchTheHyperparametersAreRefused) {
    TempDir dir;
    auto b = write_custom(
        dir, [](ModelConfig&) {},
        [](std::vector<TensorSpec>& t) {
            t[2].shape = {48, 64};
        });
    expect_refused(b, "but the hyperparameters say");
    b = write_custom(
        dir, [](ModelConfig&) {}, [](std::vector<TensorSpec>& t) { t.pop_back(); });
    expect_refused(b, "is missing");
    b = write_custom(
        dir, [](ModelConfig& c) { c.n_embd = 128; }, [](std::vector<TensorSpec>&) {});
    expect_refused(b, "hyperparameters say");
}

TEST(StrataFile, KvSourcePointingForwardOrAtAConsumerIsRefused) {
    TempDir dir;
    auto b = write_custom(
        dir,
        [](ModelConfig& c) {
            c.kv_source = {0, 2, 2, 3};
        },
        [](std::vector<TensorSpec>&) {});
    expect_refused(b, "kv_source[1] = 2 must name this layer or an earlier one");
    b = write_custom(
        dir,
        [](ModelConfig& c) {
            c.kv_source = {0, 0, 1, 3};
        },
        [](std::vector<TensorSpec>&) {});
    expect_refused(b, "does not own K/V");
    // A consumer layer that still carries K/V projections contradicts kv_source.
    b = write_custom(
        dir,
        [](ModelConfig& c) {
            c.kv_source = {0, 0, 2, 2};
        },
        [](std::vector<TensorSpec>&) {});
    expect_refused(b, "reuses another layer's K/V");
}

TEST(StrataFile, VerifyFindsBitRot) {
    TempDir dir;
    auto b = tiny_file(dir);
    const auto pos = dir_entry(b, 3);
    const size_t data = get<uint64_t>(b, HeaderLayout::data_offset) + get<uint64_t>(b, pos.offset);
    b[data + 5] ^= 0x10;
    StrataFile f = StrataFile::from_memory(b.data(), b.size(), "rot.strata");
    auto problems = f.verify_checksums();
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_NE(problems[0].find("checksum mismatch"), std::string::npos);
}

TEST(StrataWriter, FailedWriteLeavesTheExistingFileAndNoTempFile) {
    TempDir dir;
    const std::string out = dir.file("model.strata");
    write_file(out, std::string("precious"));
    SyntheticOptions syn;
    syn.shape = "test-tiny";
    ModelSource src = make_synthetic(syn);
    src.tensors[3].generate = [](DType, uint8_t*, uint64_t) { throw Error("source read failed"); };
    EXPECT_THROW(convert_model(src, out, {}), Error);
    const auto kept = read_file(out);
    EXPECT_EQ(std::string(kept.begin(), kept.end()), "precious");
    size_t files = 0;
    for (auto& e : std::filesystem::directory_iterator(dir.path)) files += e.is_regular_file();
    EXPECT_EQ(files, 1u) << "the temporary file was left behind";
}

TEST(StrataWriter, CLAConversionDropsConsumerProjectionsAndHalvesKvBytes) {
    TempDir dir;
    tiny_file(dir, {DType::F16, 2});
    StrataFile f = StrataFile::open(dir.file("tiny.strata"));
    EXPECT_EQ(f.config().kv_source, (std::vector<int32_t>{0, 0, 2, 2}));
    EXPECT_NE(f.find("blk.0.attn_k.weight"), nullptr);
    EXPECT_EQ(f.find("blk.1.attn_k.weight"), nullptr);
    EXPECT_EQ(f.find("blk.3.attn_v.weight"), nullptr);
    // 2 source layers x 2 KV heads x head_dim 16 x (K and V) x 2 bytes.
    EXPECT_EQ(f.config().kv_bytes_per_token(2.0), 2u * 2 * 16 * 2 * 2);
    tiny_file(dir, {DType::F16, 3});
    EXPECT_EQ(StrataFile::open(dir.file("tiny.strata")).config().kv_source,
              (std::vector<int32_t>{0, 0, 0, 3}));
}

namespace {

void interleaved_round_trip(DType type) {
    TempDir dir;
    ConvertOptions x8{type, 0}, plain{type, 0};
    plain.interleave = false;
    SyntheticOptions syn;
    syn.shape = "test-tiny";
    ModelSource a = make_synthetic(syn), b = make_synthetic(syn);
    convert_model(a, dir.file("x8.strata"), x8);
    convert_model(b, dir.file("plain.strata"), plain);
    {
        StrataFile fx = StrataFile::open(dir.file("x8.strata"));
        StrataFile fp = StrataFile::open(dir.file("plain.strata"));
        EXPECT_TRUE(fx.verify_checksums().empty());
        int interleaved = 0;
        for (const auto& t : fx.tensors()) {
            const TensorEntry* p = fp.find(t.name);
            ASSERT_NE(p, nullptr);
            if (t.layout != TensorLayout::Interleave8) {
                EXPECT_TRUE(t.type != type || t.name == "token_embd.weight" || t.rows() % 8 != 0)
                    << t.name << " should have been interleaved";
                continue;
            }
            EXPECT_EQ(t.type, type) << t.name;
            interleaved++;
            std::vector<uint8_t> rows(t.bytes);
            deinterleave8(t.type, fx.data(t), rows.data(), t.rows(), t.cols());
            EXPECT_EQ(0, std::memcmp(rows.data(), fp.data(*p), t.bytes)) << t.name;
        }
        EXPECT_GT(interleaved, 0);
    }
    auto mx = Model::load(dir.file("x8.strata"));
    auto mp = Model::load(dir.file("plain.strata"));
    const size_t V = mx->config().n_vocab;
    std::vector<int32_t> tokens;
    for (int i = 0; i < 11; i++) tokens.push_back(int32_t(1 + (i * 7) % int(V - 1)));
    SessionOptions o;
    o.kv_type = DType::F32;
    Session sx(mx, o), sp(mp, o);
    auto expect_close = [](const float* got, const float* want, size_t n, const char* what) {
        double worst = 0, scale = 0;
        for (size_t i = 0; i < n; i++) {
            worst = std::max(worst, double(std::fabs(got[i] - want[i])));
            scale = std::max(scale, double(std::fabs(want[i])));
        }
        EXPECT_GT(scale, 0.0) << what;
        EXPECT_LE(worst, 1e-3 * scale) << what << ": worst " << worst << " of " << scale;
    };
    const float* lx = sx.decode(tokens.data(), 10, true); // prefill: the multi-token kernels
    const std::vector<float> prefill(lx, lx + 10 * V);
    expect_close(prefill.data(), sp.decode(tokens.data(), 10, true), 10 * V, "prefill");
    lx = sx.decode(&tokens[10], 1); // decode: one token
    const std::vector<float> one(lx, lx + V);
    expect_close(one.data(), sp.decode(&tokens[10], 1), V, "decode");
}

} // namespace

// IQ4_NL and Q5_0 conversions store their matrices (not token_embd) interleave8 too: the blocks
// are those of the row-major conversion, and the model decodes (prefill and one token) to the
// row-major model's logits within summation order.
TEST(StrataFile, Interleave8IQ4_NLAndQ5_0RoundTripAndDecodeAsRowMajor) {
    for (DType type : {DType::IQ4_NL, DType::Q5_0}) {
        SCOPED_TRACE(dtype_name(type));
        interleaved_round_trip(type);
    }
}

// Q4_0 conversion stores every matrix but token_embd interleave8 (rows of whole groups of 8);
// its blocks are those of the row-major conversion; the reader refuses the layout on a tensor
// that cannot have it, and any layout id it does not know.
TEST(StrataFile, Interleave8IsWrittenForQ4_0MatricesAndCheckedOnRead) {
    TempDir dir;
    ConvertOptions x8{DType::Q4_0, 0}, plain{DType::Q4_0, 0};
    plain.interleave = false;
    SyntheticOptions syn;
    syn.shape = "test-tiny";
    ModelSource a = make_synthetic(syn), b = make_synthetic(syn);
    convert_model(a, dir.file("x8.strata"), x8);
    convert_model(b, dir.file("plain.strata"), plain);
    StrataFile fx = StrataFile::open(dir.file("x8.strata"));
    StrataFile fp = StrataFile::open(dir.file("plain.strata"));
    EXPECT_TRUE(fx.verify_checksums().empty());
    int interleaved = 0;
    for (const auto& t : fx.tensors()) {
        const TensorEntry* p = fp.find(t.name);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(p->layout, TensorLayout::RowMajor) << t.name;
        if (t.layout != TensorLayout::Interleave8) {
            EXPECT_TRUE(t.type != DType::Q4_0 || t.name == "token_embd.weight" || t.rows() % 8 != 0)
                << t.name << " should have been interleaved";
            EXPECT_EQ(0, std::memcmp(fx.data(t), fp.data(*p), t.bytes)) << t.name;
            continue;
        }
        interleaved++;
        EXPECT_NE(0, std::memcmp(fx.data(t), fp.data(*p), t.bytes)) << t.name;
        std::vector<uint8_t> rows(t.bytes);
        deinterleave8(t.type, fx.data(t), rows.data(), t.rows(), t.cols());
        EXPECT_EQ(0, std::memcmp(rows.data(), fp.data(*p), t.bytes)) << t.name;
    }
    EXPECT_GT(interleaved, 0);

    // crafted: the layout on an F32 vector, and an unknown layout id
    const auto good = tiny_file(dir);
    const StrataFile fq = StrataFile::from_memory(good.data(), good.size(), "q8_0");
    size_t q = 0;
    while (fq.tensors()[q].name != "blk.0.attn_norm.weight") q++;
    auto bad = good;
    set<uint32_t>(bad, dir_entry(bad, q).type + 4, uint32_t(TensorLayout::Interleave8));
    expect_refused(bad, "has the interleave8 layout but is a f32 tensor");
    expect_refused(bad, "of the types " + interleave8_type_names() + ")"); // (from the type table)
    bad = good;
    set<uint32_t>(bad, dir_entry(bad, q).type + 4, 7);
    expect_refused(bad, "unknown layout 7");

    // the embedding is looked up row by row: a model whose token_embd is interleaved is refused
    auto x8_bytes = read_file(dir.file("x8.strata"));
    size_t e = 0;
    while (fx.tensors()[e].name != "token_embd.weight") e++;
    set<uint32_t>(x8_bytes, dir_entry(x8_bytes, e).type + 4, uint32_t(TensorLayout::Interleave8));
    write_file(dir.file("embd.strata"), x8_bytes.data(), x8_bytes.size());
    try {
        Model::load(dir.file("embd.strata"));
        ADD_FAILURE() << "loaded a model with an interleaved token_embd";
    } catch (const Error& err) {
        EXPECT_NE(std::string(err.what()).find("token_embd.weight must be row-major"),
                  std::string::npos)
            << err.what();
    }
}
