// F16 and BF16 weight rows against F32 activations, written once over per-ISA primitives (as
// attention_impl.h does for attention). Each step takes two vectors of values per row into two
// accumulators; GEMV slices take R rows at a time (4 or 8, the ISA's choice), so each activation
// load (and any shuffle of it) serves R rows and R weight streams are in flight. dot_half_row is
// the one-row case, so a row's result is the same from either. Include only from a .cpp, inside an
// anonymous namespace.
//
// Prefetch: each row of a slice is its own short stream (a 2048-column row is one 4 KiB page),
// and the hardware prefetcher starts over at every page, so on its own it left a 1.1B F16/BF16
// model's generation at 51-65% of the read bandwidth on the Zen 5 VM. Every row's stream is
// prefetched kHalfAhead / R bytes ahead, once per 64-byte line; past the row's end the prefetch
// moves on to the same row of the next slice (R rows on), which this thread reads next (prefetches
// never fault, past the matrix's end included). Into L2 (locality 2, PREFETCHT1), as the
// interleaved K-type kernels: TinyLlama F16 generation on the Zen 5 VM went from 7.4-8.0 to
// 9.1-10.9 t/s at 1 thread (L1 against L2, alternating runs of the two libraries, 2026-12-03).
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

constexpr int kHalfLine = 32; // values of one 64-byte line of a half row
// Bytes a slice's streams run ahead, together: each of R rows kHalfAhead / R ahead. 8 KiB as the
// interleaved kernels' one stream (x8::kAhead); 8 and 16 KiB measured best of 0.5-32 KiB with
// 8-row slices (32000x2048 GEMV, 1 thread, Zen 5 VM, loaded: ±30% noise).
constexpr size_t kHalfAhead = 8192;

template <typename H, int R>
void dot_half(int n, const uint8_t* w, size_t stride, const float* y, float* out) {
    static_assert(kHalfLine % H::kStep == 0, "a step within one line");
    using Vec = typename H::Vec;
    const uint16_t* x[R];
    Vec acc[R][2];
    for (int k = 0; k < R; k++) {
        x[k] = reinterpret_cast<const uint16_t*>(w + size_t(k) * stride);
        acc[k][0] = acc[k][1] = H::zero();
    }
    auto step = [&](int i) {
        Vec a0, a1;
        H::act(y + i, a0, a1);
        for (int k = 0; k < R; k++) {
            Vec w0, w1;
            H::weights(x[k] + i, w0, w1);
            acc[k][0] = H::fma(w0, a0, acc[k][0]);
            acc[k][1] = H::fma(w1, a1, acc[k][1]);
        }
    };
    const size_t rb = size_t(n) * sizeof(uint16_t);
    int i = 0;
    for (; i + kHalfLine <= n; i += kHalfLine) {
        const size_t o = size_t(i) * sizeof(uint16_t) + kHalfAhead / R;
        const uint8_t* p = o < rb ? w + o : w + size_t(R) * stride + (o - rb);
        for (int k = 0; k < R; k++) __builtin_prefetch(p + size_t(k) * stride, 0, 2); // to L2
        for (int s = 0; s < kHalfLine; s += H::kStep) step(i + s);
    }
    for (; i + H::kStep <= n; i += H::kStep) step(i);
    for (int k = 0; k < R; k++) {
        float sum = H::hsum(acc[k][0], acc[k][1]);
        for (int j = i; j < n; j++) sum += H::widen(x[k][j]) * y[j];
        out[k] = sum;
    }
}

template <typename H> float dot_half_row(int n, const void* w, const void* a) {
    float out; // (a lone row: its prefetches run on past its end)
    dot_half<H, 1>(n, static_cast<const uint8_t*>(w), size_t(n) * sizeof(uint16_t),
                   static_cast<const float*>(a), &out);
    return out;
}

template <typename H, int R = 4>
void dot_rows_half(int n, const void* w, size_t stride, int n_rows, const void* a, float* out) {
    const auto* wb = static_cast<const uint8_t*>(w);
    const auto* y = static_cast<const float*>(a);
    int r = 0;
    for (; r + R <= n_rows; r += R) dot_half<H, R>(n, wb + size_t(r) * stride, stride, y, out + r);
    for (; r < n_rows; r++) dot_half<H, 1>(n, wb + size_t(r) * stride, stride, y, out + r);
}
