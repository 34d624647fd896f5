// strata-bench --streams: batched decode of N sessions through strata_decode_batch reports one
// row per stream count (1 always, the ratio's base) with aggregate and per-stream tokens/s.
#include "tests/fixtures.h"

#include <nlohmann/json.hpp>

using namespace strata::test;

namespace {
const std::string kBench = STRATA_BENCH_BIN;
const std::string kConvert = STRATA_CONVERT_BIN;
} // namespace

TEST(BenchStreams, ReportsEachStreamCountAgainstOneStream) {
    TempDir dir;
    const std::string model = dir.file("tiny.strata");
    ASSERT_EQ(run_command(kConvert + " --synthetic test-tiny --type q4_0 -o " + model).exit_code,
              0);
    const CommandResult r =
        run_command(kBench + " -m " + model + " --streams 3,8 -p 5 -n 4 -r 2 -t 2 --json", false);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto rows = nlohmann::json::parse(r.output);
    ASSERT_EQ(rows.size(), 3u) << r.output;
    const int expect[] = {1, 3, 8};
    for (size_t i = 0; i < rows.size(); i++) {
        const auto& row = rows[i];
        EXPECT_EQ(row["n_streams"].get<int>(), expect[i]);
        EXPECT_EQ(row["n_threads"].get<int>(), 2);
        EXPECT_EQ(row["n_gen"].get<int>(), 4);
        const double agg = row["avg_ts"].get<double>(), per = row["stream_ts"].get<double>();
        EXPECT_GT(agg, 0.0);
        EXPECT_NEAR(per * expect[i], agg, 1e-3 * agg);
        EXPECT_NEAR(row["vs_one_stream"].get<double>(), agg / rows[0]["avg_ts"].get<double>(),
                    1e-3);
    }
    // the table names the columns and has a row per stream count
    const CommandResult t =
        run_command(kBench + " -m " + model + " --streams 2 -p 3 -n 2 -r 1 -t 1", false);
    ASSERT_EQ(t.exit_code, 0) << t.output;
    EXPECT_NE(t.output.find("aggregate t/s"), std::string::npos) << t.output;
    EXPECT_NE(t.output.find("per stream t/s"), std::string::npos) << t.output;
    EXPECT_NE(t.output.find("x 1 stream"), std::string::npos) << t.output;
}

TEST(BenchStreams, HelpDocumentsTheFlagAndBadCountsAreRefused) {
    const CommandResult h = run_command(kBench + " --help", false);
    ASSERT_EQ(h.exit_code, 0);
    EXPECT_NE(h.output.find("--streams LIST"), std::string::npos) << h.output;
    const CommandResult bad = run_command(kBench + " -m x.strata --streams 0");
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.output.find("bad stream count '0'"), std::string::npos) << bad.output;
}
