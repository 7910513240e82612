// One optimiser step: forward, loss, backward (over micro-batches when asked), clipping and the
// optimiser's update. `attnlab train` and `attnlab bench` both run exactly this.
#pragma once
#include <string>

#include "data/batch.hpp"
#include "models/seq2seq.hpp"
#include "train/optim.hpp"

namespace attn {

struct StepSettings {
  int64_t accumulate = 1;       // micro-batches per step
  double clip_norm = 1.0;       // 0: off
  double label_smoothing = 0.0;
  bool detect_anomaly = false;  // an op's non-finite output stops the step with its name
};

struct StepResult {
  double loss = 0;       // mean cross-entropy per target token of the whole batch
  double grad_norm = 0;  // before clipping
  std::string anomaly;   // the op named by detect_anomaly, when it stopped the step
  bool finite() const;
};

// Rows [lo, hi) of a batch, trimmed to their own longest source and target.
data::Batch batch_rows(const data::Batch& b, int lo, int hi);

// Accumulates into the parameters' gradients the gradient of the batch's mean token loss, split
// into `micro` micro-batches run one after another. Each micro-batch's mean loss is weighted by
// its share of the batch's target tokens, so the result is the unsplit one up to summation order.
// Returns the loss; does not run backward when it is not finite.
template <class T>
double accumulate_gradients(Seq2SeqModel<T>& model, Graph<T>& g, const data::Batch& b, int64_t micro,
                            double label_smoothing);

// Zeroes the gradients, accumulates them, clips them and, when everything is finite, updates the
// parameters at learning rate `lr`.
StepResult train_step(Seq2SeqModel<float>& model, Optimizer& optim, Graph<float>& g, const data::Batch& b,
                      const StepSettings& s, double lr);

}  // namespace attn
