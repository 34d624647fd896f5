// Signed byte dot products shared by the NEON kernel files. Each file is compiled twice (the
// neon and neon_dotprod rows, with and without -march=armv8.2-a+dotprod), so these are SDOT in
// one build and widening multiplies in the other. Include only from a .cpp, inside an anonymous
// namespace (the two builds' copies must not be merged by the linker).
#pragma once

// acc += dot products of 16 signed bytes, 4 at a time, into 4 int32 lanes (only their total
// counts: the fallback mixes lanes).
inline int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
#ifdef __ARM_FEATURE_DOTPROD
    return vdotq_s32(acc, a, b);
#else
    const int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    const int16x8_t hi = vmull_high_s8(a, b);
    return vaddq_s32(acc, vaddq_s32(vpaddlq_s16(lo), vpaddlq_s16(hi)));
#endif
}

// As dot16, but lane i gets exactly the products of bytes 4i..4i+3 (as SDOT defines it).
inline int32x4_t dot4x4(int32x4_t acc, int8x16_t a, int8x16_t b) {
#ifdef __ARM_FEATURE_DOTPROD
    return vdotq_s32(acc, a, b);
#else
    const int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    const int16x8_t hi = vmull_high_s8(a, b);
    return vaddq_s32(acc, vpaddq_s32(vpaddlq_s16(lo), vpaddlq_s16(hi)));
#endif
}
