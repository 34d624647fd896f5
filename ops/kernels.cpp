#include "ops/kernels.h"

#include "core/error.h"
#include "core/quantize_ref.h"
#include "ops/cpu_features.h"
#include "ops/dot_ref.h"

#include <cstdio>
#include <cstdlib>

namespace strata {

namespace {

// The reference row: every type's scalar dot product (ops/dot_ref*.cpp), the activation
// quantizers, and the Interleave8 references. Built at compile time (constinit): other rows and
// start-up code may read it before any dynamic initializer runs.
constexpr Kernels make_reference_row() {
    Kernels k{.name = "ref"};
    k[DType::F32].dot = dot_f32_ref;
    k[DType::F16].dot = dot_f16_ref;
    k[DType::BF16].dot = dot_bf16_ref;
    k[DType::Q8_0] = {.dot = dot_q8_0_ref, .x8 = dot_x8_q8_0_ref, .quantize = quantize_q8_0_ref};
    k[DType::Q4_0] = {.dot = dot_q4_0_ref, .x8 = dot_x8_q4_0_ref};
    k[DType::Q4_1] = {.dot = dot_q4_1_ref, .x8 = dot_x8_q4_1_ref};
    k[DType::Q5_0] = {.dot = dot_q5_0_ref, .x8 = dot_x8_q5_0_ref};
    k[DType::Q5_1] = {.dot = dot_q5_1_ref, .x8 = dot_x8_q5_1_ref};
    k[DType::IQ4_NL] = {.dot = dot_iq4_nl_ref, .x8 = dot_x8_iq4_nl_ref};
    k[DType::Q2_K] = {.dot = dot_q2_k_ref, .x8 = dot_x8_q2_k_ref};
    k[DType::Q3_K] = {.dot = dot_q3_k_ref, .x8 = dot_x8_q3_k_ref};
    k[DType::Q4_K] = {.dot = dot_q4_k_ref, .x8 = dot_x8_q4_k_ref};
    k[DType::Q5_K] = {.dot = dot_q5_k_ref, .x8 = dot_x8_q5_k_ref};
    k[DType::Q6_K] = {.dot = dot_q6_k_ref, .x8 = dot_x8_q6_k_ref};
    k[DType::IQ4_XS] = {.dot = dot_iq4_xs_ref, .x8 = dot_x8_iq4_xs_ref};
    k[DType::Q8_K].quantize = quantize_q8_k_ref;
    k.rmsnorm = rmsnorm_ref;
    k.softmax = softmax_ref;
    k.swiglu = swiglu_ref;
    k.geglu = geglu_ref;
    k.rope = rope_apply_ref;
    k.attention = attention_ref;
    k.dequantize = [](DType t, const void* x, float* y, int n) { dequantize_row_ref(t, x, y, n); };
    return k;
}

} // namespace

constinit const Kernels kKernelsRef = make_reference_row();

#if !defined(__x86_64__)
const Kernels* kernels_avx2() { return nullptr; }
const Kernels* kernels_avx512() { return nullptr; }
const Kernels* kernels_avx512_vnni() { return nullptr; }
const Kernels* kernels_avx512_amx() { return nullptr; }
#endif
#if !defined(__aarch64__)
const Kernels* kernels_neon() { return nullptr; }
const Kernels* kernels_neon_dotprod() { return nullptr; }
#endif

DotRowsFn Kernels::dot_rows(DType t) const { return (*this)[t].rows; }

DotTileFn Kernels::dot_tile(DType t) const { return (*this)[t].tile; }

DotX8Fn Kernels::dot_x8(DType t) const {
    if (dtype_info(t).interleave8) {
        if (DotX8Fn f = (*this)[t].x8) return f;
        if (DotX8Fn f = kKernelsRef[t].x8) return f;
    }
    fail(std::string("no kernel for interleaved ") + dtype_name(t) + " rows in the " + name +
         " kernels");
}

DotFn Kernels::dot(DType t) const {
    if (dtype_info(t).weight) {
        if (DotFn f = (*this)[t].dot) return f;
        if (DotFn f = kKernelsRef[t].dot) return f;
    }
    fail(std::string("no dot product for weight type ") + dtype_name(t));
}

QuantizeFn Kernels::quantize(DType t) const {
    if (QuantizeFn f = (*this)[t].quantize) return f;
    if (QuantizeFn f = kKernelsRef[t].quantize) return f;
    fail(std::string("no activation quantizer for ") + dtype_name(t));
}

std::vector<const Kernels*> available_kernels() {
    const CpuFeatures& f = cpu_features();
    std::vector<const Kernels*> out{&kKernelsRef};
    auto add = [&](const Kernels* k, bool ok) {
        if (k && ok) out.push_back(k);
    };
    add(kernels_avx2(), f.avx2 && f.fma && f.f16c);
    add(kernels_avx512(), f.avx512f && f.avx512bw && f.avx512vl && f.fma && f.f16c);
    add(kernels_avx512_vnni(),
        f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni && f.fma && f.f16c);
    add(kernels_avx512_amx(),
        f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni && f.fma && f.f16c && f.amx_int8);
    add(kernels_neon(), f.neon);
    add(kernels_neon_dotprod(), f.neon && f.dotprod);
    return out;
}

const Kernels* kernels_named(const std::string& name) {
    const Kernels* best = nullptr;
    for (const Kernels* k : available_kernels()) {
        const std::string n = k->name;
        // "avx512" picks the best AVX-512 row (with VNNI, then AMX, where present); "neon"
        // likewise.
        if (n == name || (name == "avx512" && (n == "avx512_vnni" || n == "avx512_amx")) ||
            (name == "neon" && n == "neon_dotprod"))
            best = k;
    }
    return best;
}

static const Kernels* choose() {
    if (const char* env = std::getenv("STRATA_ISA"); env && *env) {
        if (const Kernels* k = kernels_named(env)) return k;
        // An error the caller sees (the C API's STRATA_NOT_SUPPORTED), never an exit: the library
        // must not end its host process. kernels() retries, and fails again, on the next call.
        fail(Status::not_supported, std::string("STRATA_ISA=") + env +
                                        " names kernels this CPU lacks (or none strata knows); "
                                        "use ref, avx2, avx512 or neon where the CPU has them");
    }
    return available_kernels().back();
}

const Kernels& kernels() {
    static const Kernels* k = choose();
    return *k;
}

} // namespace strata
