// strata-bench --resume: reopening a session file vs re-computing its prefix.
#pragma once

#include <string>
#include <vector>

// Prints one table row per prefix length (best of `reps` reopens). Throws std::runtime_error.
void bench_resume(const std::string& model_path, const std::vector<int>& prefixes, int threads,
                  int reps, const std::string& kv_type);
