// Optimisers (Adam, AdamW, SGD with momentum), learning-rate schedules and gradient clipping,
// over a model's parameters. Their state can be saved and restored for an exact resume.
// The update rules are PyTorch's (torch.optim.Adam, AdamW, SGD with dampening 0, no Nesterov;
// torch.nn.utils.clip_grad_norm_), checked against it in float64 by tests/train/test_optim.cpp.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "models/safetensors.hpp"
#include "nn/module.hpp"

namespace attn {

struct OptimConfig {
  std::string name = "adam";  // adam | adamw | sgd
  double lr = 1e-3;
  double weight_decay = 0.0;  // adam: L2 added to the gradient; adamw: decoupled; sgd: L2
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double momentum = 0.0;      // sgd
  std::string schedule = "constant";  // constant | warmup-cosine | noam
  int64_t warmup = 0;
  double lr_min = 0.0;  // warmup-cosine ends here (nanoGPT's min_lr)
  void validate() const;  // throws attn::Error naming the bad field
};

// The learning rate at `step` (0-based) of `total` steps. Warmup is linear: step s gets
// lr * (s+1)/warmup, so lr is first reached at step warmup-1.
//   constant       lr (after the warmup when warmup > 0)
//   warmup-cosine  the warmup, then cosine decay that is lr_min at the last step (total-1); without
//                  warmup the decay starts at step 0, which gets lr * (1 + cos(pi/total))/2
//   noam           lr * min((step+1)/warmup, sqrt(warmup/(step+1))): the schedule of Vaswani
//                  et al. (2017) (their step number is step+1), scaled so that its peak, at
//                  step warmup-1, is lr
double scheduled_lr(const OptimConfig& c, int64_t step, int64_t total);

// Over float parameters for training and double ones for checking against PyTorch
// (tests/train/test_optim.cpp); instantiated for both in optim.cpp.
template <class T>
class BasicOptimizer {
 public:
  BasicOptimizer(const OptimConfig& c, NamedParameters<T> params);
  // The L2 norm of all gradients; when above max_norm (> 0), scales them by
  // max_norm / (norm + 1e-6). Unlike torch.nn.utils.clip_grad_norm_, a norm in
  // (max_norm - 1e-6, max_norm] or a non-finite one leaves the gradients unchanged.
  double clip_grad_norm(double max_norm);
  double grad_norm() const;
  void step(double lr);
  int64_t steps() const { return t_; }
  // Moments as named tensors ("m.<param>", "v.<param>") plus the step count, and back.
  void save_state(Checkpoint& ck) const;
  void load_state(const Checkpoint& ck, const std::string& path);

 private:
  OptimConfig c_;
  NamedParameters<T> params_;
  std::vector<std::vector<T>> m_, v_;
  int64_t t_ = 0;
  int64_t total_ = 0;  // elements over all parameters
  // Below this many, the update runs on one thread.
  static constexpr int64_t kParallelElements = 1 << 15;
};

extern template class BasicOptimizer<float>;
extern template class BasicOptimizer<double>;
using Optimizer = BasicOptimizer<float>;  // what training uses

}  // namespace attn
