#include "runtime/session.h"

#include "formats/error.h"

#include <algorithm>
#include <cstring>

namespace strata {

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& options)
    : model_(std::move(model)), options_(options),
      kernels_(options.kernels ? options.kernels : &strata::kernels()),
      cache_(model_->config(),
             options.n_ctx > 0 ? options.n_ctx : int(model_->config().n_ctx_train),
             options.kv_type) {
    if (options_.n_threads < 1) fail("thread count must be at least 1");
    if (options_.n_batch < 1) fail("batch size must be at least 1");
}

const float* Session::decode(const int32_t* tokens, int n, bool all_logits) {
    if (n <= 0) fail("decode needs at least one token");
    if (n_past() + n > n_ctx())
        fail("context is full: " + std::to_string(n_past()) + " tokens held + " +
             std::to_string(n) + " new exceed the context size " + std::to_string(n_ctx()));
    const size_t V = model_->config().n_vocab;
    if (all_logits) all_logits_.resize(size_t(n) * V);
    for (int done = 0; done < n;) {
        const int chunk = std::min(options_.n_batch, n - done);
        forward_llama(*model_, cache_, ws_, *kernels_, options_.n_threads, tokens + done, chunk,
                      n_past(), all_logits);
        history_.insert(history_.end(), tokens + done, tokens + done + chunk);
        if (all_logits)
            std::memcpy(all_logits_.data() + size_t(done) * V, ws_.logits.data(),
                        size_t(chunk) * V * 4);
        done += chunk;
    }
    return all_logits ? all_logits_.data() : ws_.logits.data();
}

} // namespace strata
