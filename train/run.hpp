// One training run, as `attnlab train` does it: data -> model -> the loop (train/loop.hpp) with
// evaluation, metrics, checkpoints, progress and signal hooks -> the test with the best weights.
// It writes the run's folder and resumes one exactly. It throws ConfigError and NonFiniteError
// (train/errors.hpp); the command line turns them into exit codes.
#pragma once
#include <string>

#include "train/loop.hpp"
#include "train/train_config.hpp"

namespace attn {

struct RunOptions {
  std::string out;        // the run's folder
  bool resume = false;    // continue the run in `out` from its last checkpoint
  bool dry_run = false;   // print the resolved config and parameter count; write nothing
  bool overwrite = false; // replace a run already in `out`
};

struct RunOutcome {
  LoopEnd end = LoopEnd::Finished;
  int signal = 0;  // the signal that interrupted it
};

RunOutcome run_training(const TrainArgs& args, const RunOptions& opt);

// A run's wall time predicted from measurements of its own model and data on this machine: a few
// training steps (after one warm-up step) and one validation pass over a few examples, scaled to
// its budget, its evaluations and its test. Writes nothing.
struct RunTimeEstimate {
  double step_seconds = 0, eval_seconds = 0;  // one step; one full validation or test pass
  double total() const;
  int64_t steps = 0, evaluations = 0;
};
RunTimeEstimate estimate_run_time(const TrainArgs& args);
// The estimated bytes of one training step (models/memory_estimate.hpp) of a run on a task; 0
// for file and text data, whose shapes are known only once read.
double estimate_step_bytes(const TrainArgs& args);

// The flags of `given` that would change a finished part of the run in `stored` (its model, data,
// seed or optimiser): only fields declared extends_run may differ on resume.
std::vector<std::string> resume_conflicts(const TrainArgs& stored, const TrainArgs& requested,
                                          const std::vector<std::string>& given);

}  // namespace attn
