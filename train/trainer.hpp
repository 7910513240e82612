// The training loop behind `attnlab train`: data -> model -> loss -> backward -> optimiser, with
// periodic evaluation, checkpoints, metrics, plots, exact resume and clean interruption.
#pragma once
#include <string>

#include "train/train_config.hpp"

namespace attn {

// Exit codes of `attnlab train` (docs/cli.md).
enum ExitCode { kOk = 0, kFailure = 1, kUsage = 2, kNonFinite = 3, kInterrupted = 130 };

struct RunOptions {
  std::string out;        // the run's folder
  bool resume = false;    // continue the run in `out` from its last checkpoint
  bool dry_run = false;   // print the resolved config and parameter count; write nothing
  bool overwrite = false; // replace a run already in `out`
};

int run_training(const TrainArgs& args, const RunOptions& opt);

}  // namespace attn
