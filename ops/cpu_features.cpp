#include "ops/cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#elif defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

namespace strata {

#if defined(__x86_64__) && defined(__linux__)
// Linux gives a process AMX tile state only on request (arch_prctl ARCH_REQ_XCOMP_PERM for
// XFEATURE_XTILEDATA, kernel 5.16+); a tile instruction without it is SIGILL. The permission is
// the whole process's, so asking once here, before any kernel runs, covers every thread.
static bool request_amx_tiles() {
    constexpr int kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}
#endif

static CpuFeatures detect() {
    CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    f.fma = c & (1u << 12);
    f.f16c = c & (1u << 29);
    const bool osxsave = c & (1u << 27);
    if (!osxsave) return f;
    // The OS must save the YMM (bits 1-2) and, for AVX-512, the opmask/ZMM state (bits 5-7).
    unsigned xcr0_lo, xcr0_hi;
    __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    const bool ymm = (xcr0_lo & 0x6) == 0x6;
    const bool zmm = (xcr0_lo & 0xe6) == 0xe6;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
    f.avx2 = ymm && (b & (1u << 5));
    f.avx512f = zmm && (b & (1u << 16));
    f.avx512bw = zmm && (b & (1u << 30));
    f.avx512vl = zmm && (b & (1u << 31));
    f.avx512vnni = zmm && (c & (1u << 11));
    // AMX-TILE (EDX bit 24) and AMX-INT8 (bit 25), with the OS saving tile state (XCR0 bits
    // 17-18) once the process asks for it
    const bool amx_cpu = zmm && (d & (1u << 24)) && (d & (1u << 25));
    if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) f.avx512bf16 = zmm && (a & (1u << 5));
#if defined(__x86_64__) && defined(__linux__)
    if (amx_cpu && request_amx_tiles()) {
        __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
        f.amx_int8 = (xcr0_lo & (3u << 17)) == (3u << 17);
    }
#else
    (void)amx_cpu;
#endif
    f.fma &= ymm;
    f.f16c &= ymm;
#elif defined(__aarch64__)
    f.neon = true; // mandatory on aarch64
    f.dotprod = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
    return f;
}

const CpuFeatures& cpu_features() {
    static const CpuFeatures f = detect();
    return f;
}

} // namespace strata
