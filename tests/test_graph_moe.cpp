// The mixture-of-experts op (runtime/graph_moe.cpp) on random experts, against a reference
// written from the formulas here: softmax over the router logits, the n_used most probable
// experts, each a SwiGLU FFN computed in double from the dequantized weights and the dequantized
// activation rows the kernels read, weighted and summed. Sizes leave partial 32-row chunks and
// 8-row groups; decode must give the same bits for any number of threads.
#include "core/interleave.h"
#include "core/quantize_ref.h"
#include "runtime/graph_moe.h"

#include "tests/kernel_test_data.h"
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

using namespace strata;
using namespace strata::test;

namespace {

struct ExpertSet { // n matrices of rows x cols, one type and layout
    DType type;
    int rows, cols;
    TensorLayout layout;
    std::vector<std::vector<uint8_t>> bytes; // as the kernels read them
    std::vector<std::vector<float>> dequant; // row-major values
    std::vector<MatrixRef> refs;

    ExpertSet(int n, DType t, int r, int c, bool interleave, uint32_t seed)
        : type(t), rows(r), cols(c),
          layout(interleave && can_interleave8(t, uint64_t(r)) ? TensorLayout::Interleave8
                                                               : TensorLayout::RowMajor) {
        const size_t rb = row_bytes(t, uint64_t(c));
        for (int e = 0; e < n; e++) {
            const std::vector<float> v = random_floats(size_t(r) * size_t(c), seed + uint32_t(e));
            std::vector<uint8_t> q(size_t(r) * rb);
            std::vector<float> d(v.size());
            for (int i = 0; i < r; i++) {
                quantize_row_ref(t, &v[size_t(i) * size_t(c)], &q[size_t(i) * rb], c);
                dequantize_row_ref(t, &q[size_t(i) * rb], &d[size_t(i) * size_t(c)], c);
            }
            if (layout == TensorLayout::Interleave8) {
                std::vector<uint8_t> il(q.size());
                interleave8(t, q.data(), il.data(), uint64_t(r), uint64_t(c));
                q.swap(il);
            }
            bytes.push_back(std::move(q));
            dequant.push_back(std::move(d));
        }
        for (int e = 0; e < n; e++) refs.push_back({t, bytes[size_t(e)].data(), r, c, layout});
    }
};

// x as the kernels see it for weights of type wt: quantized to the activation type and back.
std::vector<double> as_activation(DType wt, const float* x, int n) {
    const DType at = activation_type(wt);
    std::vector<float> y(x, x + n);
    if (at != DType::F32) {
        std::vector<uint8_t> q(row_bytes(at, uint64_t(n)));
        quantize_row_ref(at, x, q.data(), n);
        dequantize_row_ref(at, q.data(), y.data(), n);
    }
    return std::vector<double>(y.begin(), y.end());
}

std::vector<double> product(const std::vector<float>& w, int rows, int cols,
                            const std::vector<double>& a) {
    std::vector<double> y(size_t(rows), 0.0);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            y[size_t(r)] += w[size_t(r) * size_t(cols) + size_t(c)] * a[size_t(c)];
    return y;
}

struct Case {
    const char* name;
    DType gate, up, down;
    int n_expert, n_used, D, FE;
    bool interleave, norm_topk;
};

class GraphMoe : public ::testing::TestWithParam<Case> {};

TEST_P(GraphMoe, DecodeMatchesTheFormulasAndIsTheSameAtAnyThreadCount) {
    const Case& cs = GetParam();
    const int E = cs.n_expert, U = cs.n_used, D = cs.D, FE = cs.FE;
    const ExpertSet gate(E, cs.gate, FE, D, cs.interleave, 100),
        up(E, cs.up, FE, D, cs.interleave, 200), down(E, cs.down, D, FE, cs.interleave, 300);
    MoeWeights w;
    w.gate = gate.refs.data(), w.up = up.refs.data(), w.down = down.refs.data();
    w.n_expert = E, w.n_used = U, w.norm_topk = cs.norm_topk;
    for (uint32_t token = 0; token < 4; token++) {
        const std::vector<float> x = random_floats(size_t(D), 1000 + token, 0.5f);
        const std::vector<float> logits = random_floats(size_t(E), 2000 + token, 2.0f);
        // the reference: the n_used largest probabilities of the softmax
        std::vector<double> p(logits.begin(), logits.end());
        const double mx = *std::max_element(p.begin(), p.end());
        double sum = 0;
        for (double& v : p) sum += (v = std::exp(v - mx));
        for (double& v : p) v /= sum;
        std::vector<int> order(static_cast<size_t>(E));
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](int a, int b) { return p[size_t(a)] > p[size_t(b)]; });
        double chosen = 0;
        for (int j = 0; j < U; j++) chosen += p[size_t(order[size_t(j)])];
        std::vector<double> want(size_t(D), 0.0);
        for (int j = 0; j < U; j++) {
            const int e = order[size_t(j)];
            const double weight = p[size_t(e)] / (cs.norm_topk ? chosen : 1.0);
            const auto g =
                product(gate.dequant[size_t(e)], FE, D, as_activation(cs.gate, x.data(), D));
            const auto u = product(up.dequant[size_t(e)], FE, D, as_activation(cs.up, x.data(), D));
            std::vector<float> h(static_cast<size_t>(FE));
            for (int i = 0; i < FE; i++) {
                const double gi = g[size_t(i)];
                h[size_t(i)] = float(gi / (1 + std::exp(-gi)) * u[size_t(i)]);
            }
            const auto y =
                product(down.dequant[size_t(e)], D, FE, as_activation(cs.down, h.data(), FE));
            for (int c = 0; c < D; c++) want[size_t(c)] += weight * y[size_t(c)];
        }
        double rms = 0;
        for (double v : want) rms += v * v;
        rms = std::sqrt(rms / D);
        ASSERT_GT(rms, 0.0);
        for (const Kernels* k : available_kernels()) {
            std::vector<float> first;
            for (int threads : {1, 2, 3, 5}) {
                std::vector<float> y(size_t(D), -1.0f), probs(static_cast<size_t>(E));
                GraphContext c{};
                c.kernels = k;
                c.n_threads = threads;
                MoeIo io;
                io.x = x.data(), io.logits = logits.data(), io.y = y.data(),
                io.probs = probs.data();
                io.x_stride = D, io.logits_stride = E, io.y_stride = D;
                io.n_tokens = 1, io.cols = D;
                moe_forward(c, w, io, nullptr);
                const std::string at = std::string(cs.name) + " " + k->name + " at " +
                                       std::to_string(threads) + " thread(s), token " +
                                       std::to_string(token);
                double worst = 0;
                for (int i = 0; i < D; i++)
                    worst = std::max(worst, std::fabs(y[size_t(i)] - want[size_t(i)]));
                // (the hidden rows are quantized from float sums in a different order: a
                // rounding step may fall the other way)
                EXPECT_LE(worst, 2e-3 * rms) << at;
                if (first.empty())
                    first = y;
                else
                    EXPECT_EQ(y, first) << at << ": differs from 1 thread";
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    Types, GraphMoe,
    ::testing::Values(
        // partial 32-row chunks (72 = 2 x 32 + 8 gate rows, 40 = 32 + 8 down rows)
        Case{"f32", DType::F32, DType::F32, DType::F32, 5, 2, 40, 72, false, true},
        Case{"q8_0_interleaved", DType::Q8_0, DType::Q8_0, DType::Q8_0, 6, 3, 96, 160, true, false},
        Case{"q8_0_row_major", DType::Q8_0, DType::Q8_0, DType::Q8_0, 6, 3, 96, 160, false, true},
        Case{"q4_0_interleaved", DType::Q4_0, DType::Q4_0, DType::Q8_0, 7, 2, 64, 96, true, true},
        // Q4_K_M's experts (down in Q6_K where llama.cpp's mix puts it)
        Case{"q4_k_q6_k", DType::Q4_K, DType::Q4_K, DType::Q6_K, 8, 4, 256, 512, true, false},
        // gate and up with different activation types
        Case{"q4_k_gate_q8_0_up", DType::Q4_K, DType::Q8_0, DType::Q4_K, 4, 2, 256, 256, true,
             true}),
    [](const auto& info) { return std::string(info.param.name); });

} // namespace
