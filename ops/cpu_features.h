// CPU features, detected once (CPUID on x86, getauxval(AT_HWCAP) on aarch64).
#pragma once

namespace strata {

struct CpuFeatures {
    bool avx2 = false, fma = false, f16c = false;
    bool avx512f = false, avx512bw = false, avx512vl = false, avx512vnni = false,
         avx512bf16 = false;
    bool amx_int8 = false; // AMX-TILE + AMX-INT8, tile state granted by the OS
    bool neon = false, dotprod = false;
};

const CpuFeatures& cpu_features();

} // namespace strata
