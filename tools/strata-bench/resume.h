// strata-bench --resume: reopening a session file vs re-computing its prefix.
#pragma once

#include "formats/dtype.h"

#include <string>
#include <vector>

namespace strata {

// Prints one table row per prefix length (best of `reps` reopens).
void bench_resume(const std::string& model_path, const std::vector<int>& prefixes, int threads,
                  int reps, DType kv_type);

} // namespace strata
