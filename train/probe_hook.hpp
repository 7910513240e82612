// `train --probe-every N`: the gradient-flow and attention probes (train/probe.hpp) recorded over
// training, at step 0 and every N steps, on the first examples of the validation split.
#pragma once
#include <string>

#include "data/dataset.hpp"
#include "train/loop.hpp"

namespace attn {

class ProbeRecorder : public LoopHook {
 public:
  // Writes into `dir` (the run's probes/ folder): gradflow.csv, gradflow_state.csv for a
  // recurrence, attention.csv for a model with heads, and their plots over steps.
  ProbeRecorder(Seq2SeqModel<float>& model, const data::Dataset& ds, int64_t every, std::string dir);
  bool before_step(LoopContext& c) override;
  void after_step(LoopContext& c) override;

 private:
  void record(int64_t step);
  void plot() const;
  void drop_rows_after(int64_t step) const;  // rows of steps > step, left by an earlier session
  Seq2SeqModel<float>& model_;
  data::Batch batch_;
  int64_t every_;
  std::string dir_;
  bool attention_;
  int vocab_;
  bool started_ = false;
};

}  // namespace attn
