// CPU features, detected once (CPUID on x86, getauxval(AT_HWCAP) on aarch64).
#pragma once

namespace strata {

struct CpuFeatures {
    bool avx2 = false, fma = false, f16c = false;
    bool avx512f = false, avx512bw = false, avx512vl = false, avx512vnni = false,
         avx512bf16 = false;
    bool neon = false, dotprod = false;
};

const CpuFeatures& cpu_features();

} // namespace strata
