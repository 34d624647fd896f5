// Kernel benchmarks (Google Benchmark; `make bench-kernels`): strata's GEMV and GEMM for every
// weight type on TinyLlama-1.1B's matrix shapes, next to OpenBLAS sgemm/sgemv and oneDNN matmul
// (f32, bf16, u8*s8) on the same shapes. GEMV reports weight-read bandwidth (bytes/s); GEMM
// reports operations (2 x M x N x K) per second. Threads: the benchmark's argument. Also the
// decode attention kernel at depth (attention/...).
#include "core/dtype.h"
#include "core/half.h"
#include "core/interleave.h"
#include "core/quantize_ref.h"
#include "ops/attention.h"
#include "ops/kernels.h"
#include "ops/matmul.h"

#include <benchmark/benchmark.h>
#include <cblas.h>
#include <cmath>
#include <cstring>
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <tuple>
#include <vector>

using namespace strata;

namespace {

struct Shape {
    int rows, cols; // weights: rows x cols (out x in)
};
const Shape kShapes[] = {{2048, 2048}, {256, 2048}, {5632, 2048}, {2048, 5632}, {32000, 2048}};
constexpr int kPromptTokens = 512;

std::vector<float> random_row(int n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0, 1);
    std::vector<float> v(size_t(n), 0.0f);
    for (auto& x : v) x = d(rng);
    return v;
}

// rows x cols weights of `type`: one random row quantized, copied to every row (the content
// does not change the speed; the addresses are distinct, so large matrices exceed the caches).
std::vector<uint8_t> make_weights(DType type, int rows, int cols) {
    const size_t rb = row_bytes(type, uint64_t(cols));
    std::vector<uint8_t> w(rb * size_t(rows));
    const auto x = random_row(cols, 1);
    quantize_row_ref(type, x.data(), w.data(), cols);
    for (int r = 1; r < rows; r++) std::memcpy(w.data() + rb * size_t(r), w.data(), rb);
    return w;
}

// one_row_dots: the kernel row with `type`'s GEMV slices and prefill tiles taken out, so matmul
// calls its one-row dot per row and token (what those kernels are measured against).
void bench_strata(benchmark::State& state, DType type, Shape s, int tokens,
                  TensorLayout layout = TensorLayout::RowMajor, bool one_row_dots = false) {
    const int threads = int(state.range(0));
    Kernels k = kernels();
    if (one_row_dots) {
        k[type].rows = nullptr;
        k[type].tile = nullptr;
    }
    auto w = make_weights(type, s.rows, s.cols);
    if (layout == TensorLayout::Interleave8) {
        std::vector<uint8_t> x(w.size());
        interleave8(type, w.data(), x.data(), uint64_t(s.rows), uint64_t(s.cols));
        w = std::move(x);
    }
    std::vector<float> x(size_t(tokens) * size_t(s.cols));
    for (int t = 0; t < tokens; t++) {
        const auto row = random_row(s.cols, uint32_t(t + 2));
        std::memcpy(x.data() + size_t(t) * s.cols, row.data(), row.size() * 4);
    }
    std::vector<uint8_t> act(activation_row_bytes(type, s.cols) * size_t(tokens));
    std::vector<float> y(size_t(tokens) * size_t(s.rows));
    const MatrixRef m{type, w.data(), s.rows, s.cols, layout};
    for (auto _ : state) {
        quantize_activations(k, type, x.data(), s.cols, s.cols, tokens, act.data());
        matmul(k, m, act.data(), tokens, y.data(), s.rows, threads);
        benchmark::DoNotOptimize(y.data());
    }
    if (tokens == 1)
        state.counters["weight_bytes/s"] =
            benchmark::Counter(double(w.size()), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["op/s"] = benchmark::Counter(2.0 * s.rows * s.cols * tokens,
                                                benchmark::Counter::kIsIterationInvariantRate);
    state.SetLabel(std::string(k.name));
}

void bench_openblas(benchmark::State& state, Shape s, int tokens) {
    const int threads = int(state.range(0));
    openblas_set_num_threads(threads);
    std::vector<float> w(size_t(s.rows) * s.cols), x(size_t(tokens) * s.cols),
        y(size_t(tokens) * s.rows);
    const auto row = random_row(s.cols, 1);
    for (int r = 0; r < s.rows; r++)
        std::memcpy(w.data() + size_t(r) * s.cols, row.data(), row.size() * 4);
    for (auto& v : x) v = 0.5f;
    for (auto _ : state) {
        if (tokens == 1)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, s.rows, s.cols, 1.0f, w.data(), s.cols,
                        x.data(), 1, 0.0f, y.data(), 1);
        else // Y (tokens x rows) = X (tokens x cols) W^T
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, tokens, s.rows, s.cols, 1.0f,
                        x.data(), s.cols, w.data(), s.cols, 0.0f, y.data(), s.rows);
        benchmark::DoNotOptimize(y.data());
    }
    if (tokens == 1)
        state.counters["weight_bytes/s"] =
            benchmark::Counter(double(w.size() * 4), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["op/s"] = benchmark::Counter(2.0 * s.rows * s.cols * tokens,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void bench_onednn(benchmark::State& state, Shape s, int tokens, dnnl::memory::data_type src_t,
                  dnnl::memory::data_type wei_t, dnnl::memory::data_type dst_t) {
    using namespace dnnl;
    omp_set_num_threads(int(state.range(0)));
    engine eng(engine::kind::cpu, 0);
    stream strm(eng);
    const memory::dims src_dims = {tokens, s.cols}, wei_dims = {s.cols, s.rows},
                       dst_dims = {tokens, s.rows};
    memory::desc src_md(src_dims, src_t, memory::format_tag::ab);
    memory::desc wei_any(wei_dims, wei_t,
                         memory::format_tag::any); // oneDNN picks its packed layout
    memory::desc dst_md(dst_dims, dst_t, memory::format_tag::ab);
    dnnl::matmul::primitive_desc pd;
    try {
        pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(src_md, wei_any, dst_md), eng);
    } catch (const dnnl::error&) {
        state.SkipWithError("oneDNN has no implementation for this type on this CPU");
        for (auto _ : state) {
        }
        return;
    }
    memory src(pd.src_desc(), eng), wei(pd.weights_desc(), eng), dst(pd.dst_desc(), eng);
    std::memset(src.get_data_handle(), 1, pd.src_desc().get_size());
    std::memset(wei.get_data_handle(), 1, pd.weights_desc().get_size());
    dnnl::matmul prim(pd);
    for (auto _ : state) {
        prim.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
        strm.wait();
    }
    if (tokens == 1)
        state.counters["weight_bytes/s"] = benchmark::Counter(
            double(pd.weights_desc().get_size()), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["op/s"] = benchmark::Counter(2.0 * s.rows * s.cols * tokens,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

// One token's attention over n_pos positions of an F16 cache in the KV cache's layout (each KV
// head's positions side by side), all KV heads in one call on one thread: the decode kernel at
// depth, its K/V in cache (one layer: 0.2-4 MiB). Reports K/V bytes and FLOPs (2 x 2 x heads x
// positions x head_dim) per second.
void bench_attention(benchmark::State& state, int heads, int kv_heads, int hd, int n_pos) {
    const Kernels& k = kernels();
    const size_t hb = size_t(hd) * 2, stride = hb * size_t(n_pos);
    std::vector<uint8_t> K(stride * size_t(kv_heads)), V(K.size());
    const auto x = random_row(int(K.size() / 2), 3);
    for (size_t i = 0; i < x.size(); i++) {
        const uint16_t h = f32_to_f16(0.1f * x[i]);
        std::memcpy(&K[2 * i], &h, 2);
        std::memcpy(&V[2 * i], &h, 2);
    }
    const auto q = random_row(heads * hd, 4);
    std::vector<float> out(size_t(heads) * size_t(hd));
    std::vector<float> scratch(attention_scratch_floats(heads, kv_heads, hd));
    AttentionArgs a{q.data(),   DType::F16,    K.data(), V.data(), hb,
                    n_pos,      heads,         kv_heads, hd,       1.0f / std::sqrt(float(hd)),
                    out.data(), scratch.data()};
    a.kv_head_stride = stride;
    for (auto _ : state) {
        k.attention(a, 0, kv_heads);
        benchmark::DoNotOptimize(out.data());
    }
    state.counters["kv_bytes/s"] =
        benchmark::Counter(double(2 * K.size()), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["flop/s"] =
        benchmark::Counter(4.0 * heads * n_pos * hd, benchmark::Counter::kIsIterationInvariantRate);
    state.SetLabel(k.name);
}

std::string shape_name(Shape s) { return std::to_string(s.rows) + "x" + std::to_string(s.cols); }

} // namespace

int main(int argc, char** argv) {
    using dt = dnnl::memory::data_type;
    const DType types[] = {DType::F32,    DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                           DType::Q4_K,   DType::Q6_K, DType::Q2_K, DType::Q3_K, DType::Q5_K,
                           DType::IQ4_XS, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::IQ4_NL};
    for (Shape s : kShapes) {
        for (DType t : types) {
            benchmark::RegisterBenchmark(
                ("gemv/strata/" + std::string(dtype_name(t)) + "/" + shape_name(s)).c_str(),
                [=](benchmark::State& st) { bench_strata(st, t, s, 1); })
                ->Arg(1)
                ->Arg(2)
                ->UseRealTime()
                ->Unit(benchmark::kMicrosecond);
            benchmark::RegisterBenchmark(
                ("gemm512/strata/" + std::string(dtype_name(t)) + "/" + shape_name(s)).c_str(),
                [=](benchmark::State& st) { bench_strata(st, t, s, kPromptTokens); })
                ->Arg(2)
                ->UseRealTime()
                ->Unit(benchmark::kMillisecond)
                ->MinTime(0.5);
        }
        // The 32-value types with a minimum or non-uniform levels, per row and token
        for (DType t : {DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::IQ4_NL}) {
            const std::string name = std::string(dtype_name(t)) + "-dots/" + shape_name(s);
            benchmark::RegisterBenchmark(("gemv/strata/" + name).c_str(),
                                         [=](benchmark::State& st) {
                                             bench_strata(st, t, s, 1, TensorLayout::RowMajor,
                                                          true);
                                         })
                ->Arg(1)
                ->Arg(2)
                ->UseRealTime()
                ->Unit(benchmark::kMicrosecond);
            benchmark::RegisterBenchmark(("gemm512/strata/" + name).c_str(),
                                         [=](benchmark::State& st) {
                                             bench_strata(st, t, s, kPromptTokens,
                                                          TensorLayout::RowMajor, true);
                                         })
                ->Arg(2)
                ->UseRealTime()
                ->Unit(benchmark::kMillisecond)
                ->MinTime(0.5);
        }
        // every type the converter writes in the interleave8 layout (core/interleave.h)
        for (uint32_t id = 0; id < kDTypeSlots; id++) {
            const auto type = dtype_from_id(id);
            if (!type || !can_interleave8(*type, 8)) continue;
            const DType t = *type;
            const std::string name = std::string(dtype_name(t)) + "x8/" + shape_name(s);
            benchmark::RegisterBenchmark(
                ("gemv/strata/" + name).c_str(),
                [=](benchmark::State& st) { bench_strata(st, t, s, 1, TensorLayout::Interleave8); })
                ->Arg(1)
                ->Arg(2)
                ->UseRealTime()
                ->Unit(benchmark::kMicrosecond);
            benchmark::RegisterBenchmark(("gemm512/strata/" + name).c_str(),
                                         [=](benchmark::State& st) {
                                             bench_strata(st, t, s, kPromptTokens,
                                                          TensorLayout::Interleave8);
                                         })
                ->Arg(2)
                ->UseRealTime()
                ->Unit(benchmark::kMillisecond)
                ->MinTime(0.5);
        }
        benchmark::RegisterBenchmark(("gemv/openblas/f32/" + shape_name(s)).c_str(),
                                     [=](benchmark::State& st) { bench_openblas(st, s, 1); })
            ->Arg(1)
            ->Arg(2)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark(
            ("gemm512/openblas/f32/" + shape_name(s)).c_str(),
            [=](benchmark::State& st) { bench_openblas(st, s, kPromptTokens); })
            ->Arg(2)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond)
            ->MinTime(0.5);
        const std::tuple<const char*, dt, dt, dt> dnnl_types[] = {
            {"f32", dt::f32, dt::f32, dt::f32},
            {"bf16", dt::bf16, dt::bf16, dt::f32},
            {"u8s8", dt::u8, dt::s8, dt::s32}};
        for (auto [name, a, b, c] : dnnl_types) {
            benchmark::RegisterBenchmark(
                ("gemm512/onednn/" + std::string(name) + "/" + shape_name(s)).c_str(),
                [=](benchmark::State& st) { bench_onednn(st, s, kPromptTokens, a, b, c); })
                ->Arg(2)
                ->UseRealTime()
                ->Unit(benchmark::kMillisecond)
                ->MinTime(0.5);
            benchmark::RegisterBenchmark(
                ("gemv/onednn/" + std::string(name) + "/" + shape_name(s)).c_str(),
                [=](benchmark::State& st) { bench_onednn(st, s, 1, a, b, c); })
                ->Arg(2)
                ->UseRealTime()
                ->Unit(benchmark::kMicrosecond);
        }
    }
    // SmolLM-135M (GQA 9/3 and MQA 9/1) and TinyLlama-1.1B (32/4) heads, head_dim 64
    for (auto [name, heads, kv_heads] : {std::tuple{"smollm", 9, 3}, std::tuple{"smollm-mqa", 9, 1},
                                         std::tuple{"tinyllama", 32, 4}})
        for (int n_pos : {256, 2048})
            benchmark::RegisterBenchmark(
                ("attention/strata/f16/" + std::string(name) + "/" + std::to_string(n_pos)).c_str(),
                [=](benchmark::State& st) { bench_attention(st, heads, kv_heads, 64, n_pos); })
                ->UseRealTime()
                ->Unit(benchmark::kMicrosecond);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
