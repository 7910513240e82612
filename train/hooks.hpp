// The pieces `attnlab train` hangs on the loop (train/loop.hpp), in the order it adds them.
#pragma once
#include <chrono>
#include <csignal>

#include "data/dataset.hpp"
#include "train/loop.hpp"
#include "train/run_files.hpp"

namespace attn {

// Evaluates on validation at evaluation steps and keeps the best weights' step: the highest
// sequence accuracy, ties broken by the lower validation loss.
class Evaluation : public LoopHook {
 public:
  // `ranks`: split each evaluation over them (every rank runs this hook).
  Evaluation(Seq2SeqModel<float>& model, const data::Dataset& ds, size_t examples, const Ranks* ranks = nullptr)
      : model_(model), ds_(ds), examples_(examples), ranks_(ranks) {}
  void after_step(LoopContext& c) override;

 private:
  Seq2SeqModel<float>& model_;
  const data::Dataset& ds_;
  size_t examples_;
  const Ranks* ranks_;
};

// Ends training once validation sequence accuracy reaches `target` (> 0).
class EarlyStopping : public LoopHook {
 public:
  explicit EarlyStopping(double target) : target_(target) {}
  void after_step(LoopContext& c) override;
  bool stopped_early() const { return reached_; }

 private:
  double target_;
  bool reached_ = false;
};

// Appends a row to metrics.jsonl/csv at log steps: the training loss averaged since the last row,
// and the evaluation when there is one.
class MetricsRows : public LoopHook {
 public:
  explicit MetricsRows(RunFiles& files) : files_(files) {}
  void after_step(LoopContext& c) override;

 private:
  RunFiles& files_;
};

// Writes the checkpoint set at evaluation steps (after the row: a checkpoint at step N implies
// every row up to N is on disk).
class Checkpointing : public LoopHook {
 public:
  Checkpointing(CheckpointSet& set, Seq2SeqModel<float>& model, Optimizer& optim)
      : set_(set), model_(model), optim_(optim) {}
  void after_step(LoopContext& c) override;
  void save(const LoopContext& c, bool best);

 private:
  CheckpointSet& set_;
  Seq2SeqModel<float>& model_;
  Optimizer& optim_;
};

// A redrawn status line on a terminal, a line per row otherwise, nothing when quiet.
class Progress : public LoopHook {
 public:
  explicit Progress(bool quiet);
  void after_step(LoopContext& c) override;
  void end_line();  // ends the status line before other output

 private:
  bool quiet_, tty_;
  double last_val_acc_;
  std::chrono::steady_clock::time_point last_draw_;
};

// SIGINT and SIGTERM stop the loop before the next step (the run then checkpoints and exits).
// With `ranks`, a signal on any rank stops all of them before the same step.
class SignalGuard : public LoopHook {
 public:
  explicit SignalGuard(const Ranks* ranks = nullptr);
  ~SignalGuard() override;
  bool before_step(LoopContext&) override;
  int signal() const;

 private:
  void (*old_int_)(int), (*old_term_)(int);
  const Ranks* ranks_;
};

}  // namespace attn
