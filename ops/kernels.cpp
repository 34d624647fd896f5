#include "ops/kernels.h"

#include "core/error.h"
#include "ops/cpu_features.h"
#include "ops/dot_ref.h"
#include "core/quantize_ref.h"

#include <cstdio>
#include <cstdlib>

namespace strata {

const Kernels kKernelsRef = {
    .name = "ref",
    .dot_f32 = dot_f32_ref,
    .dot_f16 = dot_f16_ref,
    .dot_bf16 = dot_bf16_ref,
    .dot_q8_0 = dot_q8_0_ref,
    .dot_q4_0 = dot_q4_0_ref,
    .dot_q4_k = dot_q4_k_ref,
    .dot_q6_k = dot_q6_k_ref,
    .quantize_q8_0 = quantize_q8_0_ref,
    .quantize_q8_k = quantize_q8_k_ref,
    .rmsnorm = rmsnorm_ref,
    .softmax = softmax_ref,
    .swiglu = swiglu_ref,
    .geglu = geglu_ref,
    .rope = rope_apply_ref,
    .attention = attention_ref,
    .dequantize = [](DType t, const void* x, float* y, int n) { dequantize_row_ref(t, x, y, n); },
    .dot_x8_q4_0 = dot_x8_q4_0_ref,
    .dot_x8_q4_k = dot_x8_q4_k_ref,
    .dot_x8_q6_k = dot_x8_q6_k_ref,
    .dot_x8_q8_0 = dot_x8_q8_0_ref,
};

#if !defined(__x86_64__)
const Kernels* kernels_avx2() { return nullptr; }
const Kernels* kernels_avx512() { return nullptr; }
const Kernels* kernels_avx512_vnni() { return nullptr; }
#endif
#if !defined(__aarch64__)
const Kernels* kernels_neon() { return nullptr; }
const Kernels* kernels_neon_dotprod() { return nullptr; }
#endif

DotRowsFn Kernels::dot_rows(DType t) const {
    switch (t) {
    case DType::Q8_0:
        return dot_rows_q8_0;
    case DType::Q4_0:
        return dot_rows_q4_0;
    case DType::F16:
        return dot_rows_f16;
    case DType::BF16:
        return dot_rows_bf16;
    default:
        return nullptr;
    }
}

DotTileFn Kernels::dot_tile(DType t) const {
    return t == DType::Q8_0 ? dot_tile_q8_0 : t == DType::Q4_0 ? dot_tile_q4_0 : nullptr;
}

DotX8Fn Kernels::dot_x8(DType t) const {
    const DotX8Fn f = t == DType::Q4_0   ? dot_x8_q4_0
                      : t == DType::Q8_0 ? dot_x8_q8_0
                      : t == DType::Q4_K ? dot_x8_q4_k
                      : t == DType::Q6_K ? dot_x8_q6_k
                                         : nullptr;
    if (!f)
        fail(std::string("no kernel for interleaved ") + dtype_name(t) + " rows in the " + name +
             " kernels");
    return f;
}

DotFn Kernels::dot(DType t) const {
    switch (t) {
    case DType::F32:
        return dot_f32;
    case DType::F16:
        return dot_f16;
    case DType::BF16:
        return dot_bf16;
    case DType::Q8_0:
        return dot_q8_0;
    case DType::Q4_0:
        return dot_q4_0;
    case DType::Q4_K:
        return dot_q4_k;
    case DType::Q6_K:
        return dot_q6_k;
    case DType::Q8_K:
        break;
    }
    fail(std::string("no dot product for weight type ") + dtype_name(t));
}

DType activation_type(DType t) {
    switch (t) {
    case DType::Q8_0:
    case DType::Q4_0:
        return DType::Q8_0;
    case DType::Q4_K:
    case DType::Q6_K:
        return DType::Q8_K;
    default:
        return DType::F32;
    }
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
    add(kernels_neon(), f.neon);
    add(kernels_neon_dotprod(), f.neon && f.dotprod);
    return out;
}

const Kernels* kernels_named(const std::string& name) {
    const Kernels* best = nullptr;
    for (const Kernels* k : available_kernels()) {
        const std::string n = k->name;
        // "avx512" picks the best AVX-512 row (with VNNI where present); "neon" likewise.
        if (n == name || (name == "avx512" && n == "avx512_vnni") ||
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
