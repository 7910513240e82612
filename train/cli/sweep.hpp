// What `attnlab sweep`'s parts share: its arguments, the grid runner and the collect step.
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <string>
#include <vector>

#include "train/cli/options.hpp"
#include "train/train_config.hpp"

namespace attn::cli {

struct SweepArgs {
  TrainArgs train;
  std::string vary, models = fmt::format("{}", fmt::join(model_family_names(), ",")), out, shard = "1/1", collect;
  std::string model_lr;  // "transformer=0.001,lstm=0.003": a learning rate per model
  int seeds = 1, jobs = 1;
};

// "a, b,c" -> {"a", "b", "c"}: empty items and spaces dropped.
std::vector<std::string> split_list(const std::string& s);
inline std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  return fmt::format("{}", fmt::join(v, sep));
}

// Runs the grid (or only collects, with --collect); the exit code.
int run_sweep(const SweepArgs& a);
// Merges the finished runs of sweep folder `dir` into results.csv and plots; 1 if any is missing.
int collect(const std::string& dir);

}  // namespace attn::cli
