// The training loop: a step function called until the step budget is spent, and hooks that do
// everything else (evaluation, metrics rows, checkpoints, early stopping, progress, signals).
// It knows nothing of the command line and accepts any step function, so any model that
// implements Seq2SeqModel, including one written outside this project, trains with it.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "train/checkpoint_set.hpp"
#include "train/evaluate.hpp"
#include "train/step.hpp"

namespace attn {

struct LoopSchedule {
  int64_t steps = 0;       // the budget: the loop ends when state.step reaches it
  int64_t log_every = 50;  // a metrics row every N steps (and at every evaluation)
  int64_t eval_every = 250;
};

// What the hooks see and change at one step.
struct LoopContext {
  LoopContext(LoopState& st, const LoopSchedule& sched, std::chrono::steady_clock::time_point t0)
      : state(st), schedule(sched), started(t0) {}
  LoopState& state;
  const LoopSchedule& schedule;
  StepResult result;  // of the step just taken
  double lr = 0;
  bool log_now = false, eval_now = false;
  std::optional<EvalResult> eval;  // set by an evaluation hook at evaluation steps
  bool best = false;               // the evaluated weights are the best so far
  nlohmann::json row;              // the metrics row being built at log steps
  double steps_per_s = 0;
  double elapsed() const;          // seconds of this run over all its sessions
  std::chrono::steady_clock::time_point started;
};

class LoopHook {
 public:
  virtual ~LoopHook() = default;
  // Before each step; returning true stops the loop at once (an interruption).
  virtual bool before_step(LoopContext&) { return false; }
  // After each step, in the order the hooks were added.
  virtual void after_step(LoopContext&) {}
};

enum class LoopEnd { Finished, Interrupted };

// Returns the learning rate for a step (0-based) and runs it.
using StepFn = std::function<StepResult(int64_t step, double& lr)>;

// Runs steps until state.step reaches the schedule's budget or state.finished is set. Throws
// NonFiniteError when a step's loss or gradient norm is not finite; the state then still
// describes the last finished step.
// `started`: when this session of the run began (for elapsed times).
LoopEnd run_loop(const StepFn& step, LoopState& state, const LoopSchedule& schedule,
                 const std::vector<LoopHook*>& hooks,
                 std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now());

}  // namespace attn
