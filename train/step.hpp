// One optimiser step: forward, loss, backward (over micro-batches when asked), clipping and the
// optimiser's update. `attnlab train` and `attnlab bench` both run exactly this.
#pragma once
#include <string>

#include "data/batch.hpp"
#include "models/seq2seq.hpp"
#include "train/distributed.hpp"
#include "train/optim.hpp"

namespace attn {

struct StepSettings {
  int64_t accumulate = 1;       // micro-batches per step
  double clip_norm = 1.0;       // 0: off
  double label_smoothing = 0.0;
  bool detect_anomaly = false;  // an op's non-finite output stops the step with its name
  const Ranks* ranks = nullptr; // the processes that share each batch (none: this one alone)
};

struct StepResult {
  double loss = 0;       // mean cross-entropy per target token of the whole batch
  double grad_norm = 0;  // before clipping
  std::string anomaly;   // the op named by detect_anomaly, when it stopped the step
  bool finite() const;
};

// Rows [lo, hi) of a batch, trimmed to their own longest source and target.
data::Batch batch_rows(const data::Batch& b, int lo, int hi);

// Sets the parameters' gradients to the gradient of the batch's mean token loss. With `micro` > 1
// or several ranks the batch is split into micro * ranks micro-batches, rows [B*k/M, B*(k+1)/M)
// for micro-batch k of M, and rank r runs micro-batches r*micro to r*micro+micro-1 one after
// another. Each gives the gradient of its summed token loss, started from zero; these are
// summed (in micro-batch order here, then over the ranks) with the token counts and divided by
// the batch's token count. So N ranks give bitwise what one process with --accumulate N gives
// when their sum is exact in order (N = 2: a + b = b + a), and the unsplit result up to
// summation order. Returns the loss (the same on every rank); runs no backward, and sums no
// gradients, when it is not finite.
template <class T>
double accumulate_gradients(Seq2SeqModel<T>& model, Graph<T>& g, const data::Batch& b, int64_t micro,
                            double label_smoothing, const Ranks* ranks = nullptr);

// Zeroes the gradients, accumulates them, clips them and, when everything is finite, updates the
// parameters at learning rate `lr`.
StepResult train_step(Seq2SeqModel<float>& model, Optimizer& optim, Graph<float>& g, const data::Batch& b,
                      const StepSettings& s, double lr);

}  // namespace attn
