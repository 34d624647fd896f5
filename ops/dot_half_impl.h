// F16 and BF16 weight rows against F32 activations, written once over per-ISA primitives (as
// attention_impl.h does for attention). Each step takes two vectors of values per row into two
// accumulators; GEMV slices take 4 rows at a time, so each activation load (and any shuffle of
// it) serves 4 rows and 4 weight streams are in flight (one row at a time left a 1.1B F16/BF16
// model's generation at ~16 GB/s of a 19-21 GB/s core). dot_half_row is the one-row case, so a
// row's result is the same from either. Include only from a .cpp, inside an anonymous namespace.
//
// H (one per ISA and half type) must provide:
//   using Vec = ...;                                    // a vector of floats
//   static constexpr int kStep;                         // values per step: 2 vectors' worth
//   static Vec zero();
//   static void act(const float* y, Vec& a0, Vec& a1);  // kStep activations, arranged to match
//   static void weights(const uint16_t* x, Vec& w0, Vec& w1); // kStep weights as floats
//   static Vec fma(Vec w, Vec a, Vec acc);              // acc + w a
//   static float hsum(Vec a, Vec b);                    // sum of all lanes of both
//   static float widen(uint16_t v);                     // one weight, for the tail

template <typename H, int R>
void dot_half(int n, const uint8_t* w, size_t stride, const float* y, float* out) {
    using Vec = typename H::Vec;
    const uint16_t* x[R];
    Vec acc[R][2];
    for (int k = 0; k < R; k++) {
        x[k] = reinterpret_cast<const uint16_t*>(w + size_t(k) * stride);
        acc[k][0] = acc[k][1] = H::zero();
    }
    int i = 0;
    for (; i + H::kStep <= n; i += H::kStep) {
        Vec a0, a1;
        H::act(y + i, a0, a1);
        for (int k = 0; k < R; k++) {
            Vec w0, w1;
            H::weights(x[k] + i, w0, w1);
            acc[k][0] = H::fma(w0, a0, acc[k][0]);
            acc[k][1] = H::fma(w1, a1, acc[k][1]);
        }
    }
    for (int k = 0; k < R; k++) {
        float sum = H::hsum(acc[k][0], acc[k][1]);
        for (int j = i; j < n; j++) sum += H::widen(x[k][j]) * y[j];
        out[k] = sum;
    }
}

template <typename H> float dot_half_row(int n, const void* w, const void* a) {
    float out;
    dot_half<H, 1>(n, static_cast<const uint8_t*>(w), 0, static_cast<const float*>(a), &out);
    return out;
}

template <typename H>
void dot_rows_half(int n, const void* w, size_t stride, int n_rows, const void* a, float* out) {
    const auto* wb = static_cast<const uint8_t*>(w);
    const auto* y = static_cast<const float*>(a);
    int r = 0;
    for (; r + 4 <= n_rows; r += 4) dot_half<H, 4>(n, wb + size_t(r) * stride, stride, y, out + r);
    for (; r < n_rows; r++) dot_half<H, 1>(n, wb + size_t(r) * stride, stride, y, out + r);
}
