// The fused attention algorithm, written once over a small set of vector primitives that each
// ISA file supplies (`Prims`): the reference instantiates it with scalar loops, the SIMD files
// with their intrinsics. Include only from a .cpp, inside an anonymous namespace.
//
// Prims must provide:
//   static void load(DType t, const uint8_t* row, float* out, int n)   // f16/f32/q8_0 -> f32
//   static float dot(const float* a, const float* b, int n)
//   static void axpy(float a, const float* x, float* y, int n)         // y += a x
//   static void scale(float* y, float a, int n)                        // y *= a
//   static float exp(float x)
//   static float exp_sum(float* x, int n, float m)                     // x = exp(x - m); sum
// and may provide, for a block of rows (row j at rows + j * n), in place of a loop over dot/axpy:
//   static void dots(const float* q, const float* rows, int n_rows, int n, float scale,
//                    float* out)                                      // out[j] = q.row j x scale
//   static void axpys(const float* s, const float* rows, int n_rows, int n, float* y)
//                                                                     // y += sum_j s[j] row j
//   static float max(const float* x, int n, float m)                  // max(m, x[0..n))
//   static void softcap(float* x, int n, float cap)                   // x = cap tanh(x / cap)

// One KV head of one position is a short piece (e.g. 128 bytes) of a row that holds every head,
// so walking the positions is a strided stream the hardware prefetcher loses at each page: ask
// for the rows kAhead positions ahead (prefetches never fault, past the end included).
inline void prefetch_head(const uint8_t* p, size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(p + o);
}

template <typename Prims>
void block_dots(const float* q, const float* rows, int n_rows, int n, float scale, float* out) {
    if constexpr (requires { Prims::dots(q, rows, n_rows, n, scale, out); })
        Prims::dots(q, rows, n_rows, n, scale, out);
    else
        for (int j = 0; j < n_rows; j++) out[j] = Prims::dot(q, rows + size_t(j) * n, n) * scale;
}

template <typename Prims>
void block_axpys(const float* s, const float* rows, int n_rows, int n, float* y) {
    if constexpr (requires { Prims::axpys(s, rows, n_rows, n, y); })
        Prims::axpys(s, rows, n_rows, n, y);
    else
        for (int j = 0; j < n_rows; j++) Prims::axpy(s[j], rows + size_t(j) * n, y, n);
}

template <typename Prims> float block_max(const float* x, int n, float m) {
    if constexpr (requires { Prims::max(x, n, m); })
        return Prims::max(x, n, m);
    else {
        for (int j = 0; j < n; j++) m = x[j] > m ? x[j] : m;
        return m;
    }
}

template <typename Prims> void block_softcap(float* x, int n, float cap) {
    if constexpr (requires { Prims::softcap(x, n, cap); })
        Prims::softcap(x, n, cap);
    else
        for (int j = 0; j < n; j++) x[j] = cap * std::tanh(x[j] / cap);
}

template <typename Prims> void attention_impl(const strata::AttentionArgs& a, int g0, int g1) {
    constexpr int kBlock = 64; // positions per streaming-softmax step (matches the scratch size)
    constexpr int kAhead = 16;
    const int group = a.n_head / a.n_head_kv;
    const int hd = a.head_dim;
    const int n_tok = a.n_tok;
    // (token u, head h of the group) is row u * group + h of the scores, max and sum
    const int n_q = n_tok * group;
    float* rows = a.scratch; // a block's K (then V) rows of this head as floats
    float* scores = rows + size_t(kBlock) * size_t(hd);
    float* max = scores + size_t(n_q) * kBlock;
    float* sum = max + n_q;
    const int end = a.n_pos + n_tok - 1; // the last token's positions end here
    for (int g = g0; g < g1; g++) {
        auto q_of = [&](int u, int h) {
            return a.q + size_t(u) * a.q_stride + size_t(g * group + h) * size_t(hd);
        };
        auto out_of = [&](int u, int h) {
            return a.out + size_t(u) * a.out_stride + size_t(g * group + h) * size_t(hd);
        };
        for (int u = 0; u < n_tok; u++)
            for (int h = 0; h < group; h++) {
                max[u * group + h] = -INFINITY, sum[u * group + h] = 0;
                for (int i = 0; i < hd; i++) out_of(u, h)[i] = 0;
            }
        const size_t head_off = a.kv_head_stride
                                    ? size_t(g) * a.kv_head_stride
                                    : strata::row_bytes(a.kv_type, uint64_t(g) * uint64_t(hd));
        const size_t head_bytes = strata::row_bytes(a.kv_type, uint64_t(hd));
        // a block's rows of this head, converted once for every head and token
        const bool contiguous = a.kv_row_bytes == head_bytes; // (the KV cache's layout)
        // indices [i0, i0 + nb) into rows [r0, r0 + nb)
        auto load_run = [&](const uint8_t* base, int i0, int r0, int nb) {
            float* dst = rows + size_t(r0) * size_t(hd);
            if (contiguous) { // one run of nb * hd values, which the hardware prefetcher follows
                Prims::load(a.kv_type, base + head_off + size_t(i0) * head_bytes, dst, nb * hd);
                return;
            }
            for (int j = 0; j < nb; j++) {
                prefetch_head(base + size_t(i0 + j + kAhead) * a.kv_row_bytes + head_off,
                              head_bytes);
                Prims::load(a.kv_type, base + size_t(i0 + j) * a.kv_row_bytes + head_off,
                            dst + size_t(j) * size_t(hd), hd);
            }
        };
        // positions [j0, j0 + nb): in a ring, the run up to its end and the rest from index 0
        auto load_block = [&](const uint8_t* base, int j0, int nb) {
            if (a.ring <= 0) return load_run(base, j0, 0, nb);
            const int i0 = j0 % a.ring;
            const int first_run = nb < a.ring - i0 ? nb : a.ring - i0;
            load_run(base, i0, 0, first_run);
            if (first_run < nb) load_run(base, 0, first_run, nb - first_run);
        };
        // (with a window, the first token's first position: nothing before it is read)
        int first = a.pos_begin;
        if (a.window > 0 && a.n_pos - a.window > first) first = a.n_pos - a.window;
        for (int j0 = first; j0 < end; j0 += kBlock) {
            const int nb = end - j0 < kBlock ? end - j0 : kBlock;
            // token u (at position n_pos - 1 + u) sees the block's rows [lo(u), hi(u)): causal,
            // and with a window none before its position - window + 1
            auto hi = [&](int u) {
                const int n = a.n_pos + u - j0;
                return n < 0 ? 0 : n < nb ? n : nb;
            };
            auto lo = [&](int u) {
                if (a.window <= 0) return 0;
                const int n = a.n_pos + u - a.window - j0;
                return n < 0 ? 0 : n < nb ? n : nb;
            };
            load_block(a.k, j0, nb);
            for (int u = 0; u < n_tok; u++) {
                const int l = lo(u), nu = hi(u) - l;
                if (nu <= 0) continue;
                for (int h = 0; h < group; h++) {
                    float* sc = scores + (u * group + h) * kBlock + l;
                    block_dots<Prims>(q_of(u, h), rows + size_t(l) * size_t(hd), nu, hd, a.scale,
                                      sc);
                    if (a.softcap > 0) block_softcap<Prims>(sc, nu, a.softcap);
                }
            }
            // online softmax: rescale what was accumulated when the running max grows
            for (int u = 0; u < n_tok; u++) {
                const int l = lo(u), nu = hi(u) - l;
                if (nu <= 0) continue;
                for (int h = 0; h < group; h++) {
                    const int i = u * group + h;
                    float* sc = scores + i * kBlock + l;
                    const float m = block_max<Prims>(sc, nu, max[i]);
                    const float correction = Prims::exp(max[i] - m);
                    const float s = sum[i] * correction + Prims::exp_sum(sc, nu, m);
                    Prims::scale(out_of(u, h), correction, hd);
                    max[i] = m;
                    sum[i] = s;
                }
            }
            load_block(a.v, j0, nb);
            for (int u = 0; u < n_tok; u++) {
                const int l = lo(u), nu = hi(u) - l;
                if (nu <= 0) continue;
                for (int h = 0; h < group; h++)
                    block_axpys<Prims>(scores + (u * group + h) * kBlock + l,
                                       rows + size_t(l) * size_t(hd), nu, hd, out_of(u, h));
            }
        }
        if (a.partial_stats) { // KV head g's stats after those of g0 .. g-1 (one token)
            float* st = a.partial_stats + size_t(g - g0) * 2 * size_t(group);
            for (int h = 0; h < group; h++) st[2 * h] = max[h], st[2 * h + 1] = sum[h];
            continue;
        }
        for (int u = 0; u < n_tok; u++)
            for (int h = 0; h < group; h++)
                Prims::scale(out_of(u, h), 1.0f / sum[u * group + h], hd);
    }
}
