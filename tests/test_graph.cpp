// The compute graph: built from kv_source alone (no architecture special cases), planned so
// tensors share one arena.
#include "formats/convert.h"
#include "runtime/forward.h"
#include "tests/fixtures.h"

using namespace strata;
using namespace strata::test;

TEST(Graph, ConsumerLayersStoreNoKvAndTheArenaIsShared) {
    TempDir dir;
    for (int cla : {0, 2, 3}) {
        SyntheticOptions syn;
        syn.shape = "test-tiny";
        syn.layers = 6;
        ModelSource src = make_synthetic(syn);
        convert_model(src, dir.file("m.strata"), {DType::Q8_0, uint32_t(cla)});
        auto m = Model::load(dir.file("m.strata"));
        for (int n : {1, 7}) {
            const Graph g = build_llama_graph(*m, n, false);
            const size_t sources = cla == 0 ? 6 : 6 / size_t(cla);
            EXPECT_EQ(g.count(Op::StoreKv), sources) << "cla " << cla;
            EXPECT_EQ(g.count(Op::Attention), 6u);
            EXPECT_EQ(g.count(Op::MatMul), 6 * 5 + 2 * sources + 1); // q o gate up down, k v, head
            EXPECT_LT(g.arena_floats(), g.unshared_floats() / 3) << "planning should reuse memory";
            EXPECT_GT(g.activation_bytes(), 0u);
        }
    }
}
