// Mamba's mixer (Gu & Dao 2023; class Mamba of state-spaces/mamba, mamba_ssm/modules/mamba_simple.py),
// sequential form, with the reference's parameter names and initialisation (docs/models.md, mamba):
//   x, z = in_proj(u)                           (no bias; each E*D wide)
//   x = silu(conv1d(x))                         (causal, depthwise, width d_conv, with bias)
//   dt, B, C = x_proj(x)                        (no bias; dt_rank, N, N wide)
//   delta = softplus(dt_proj(dt))               (with bias)
//   y = selective_scan(x, delta, -exp(A_log), B, C, D) * silu(z);  out = out_proj(y)   (no bias)
// With `lti` the SSM is time-invariant (S4D-like, the ablation of Mamba's Table 1): delta =
// softplus(dt_proj.bias) per channel and B, C learned vectors [N], the same at every position
// and for every input; x_proj and dt_proj.weight do not exist.
#pragma once
#include <vector>

#include "nn/layers.hpp"

namespace attn {

struct MambaMixerConfig {
  int64_t d_model = 64, d_state = 16, d_conv = 4, expand = 2;
  int64_t dt_rank = 0;  // 0: ceil(d_model / 16), the reference's "auto"
  int64_t n_layer = 1;  // out_proj's init is divided by sqrt(n_layer)
  bool lti = false;
  double dt_min = 1e-3, dt_max = 1e-1, dt_init_floor = 1e-4;
  int64_t inner() const { return expand * d_model; }
  int64_t rank() const { return dt_rank > 0 ? dt_rank : (d_model + 15) / 16; }
};

template <class T>
class MambaMixer : public Module<T> {
 public:
  MambaMixer(const MambaMixerConfig& c, Rng& rng);
  // u [B, L, d_model] -> [B, L, d_model].
  Tensor<T> forward(Graph<T>& g, const Tensor<T>& u);

  // Decoding, one position at a time, with the state of mamba_simple.py's step(): the last
  // d_conv - 1 conv inputs and the SSM state, O(1) per token. Fresh states are zeros.
  struct State {
    std::vector<T> conv;  // [B, E*D, d_conv - 1], oldest first
    std::vector<T> ssm;   // [B, E*D, N]
  };
  State zero_state(int64_t batch) const;
  // u [B, 1, d_model] -> [B, 1, d_model]; advances `s` by one position.
  Tensor<T> step(Graph<T>& g, const Tensor<T>& u, State& s);

  MambaMixerConfig config;
  Linear<T> in_proj;
  Parameter<T>&conv_weight, &conv_bias;   // conv1d.weight [E*D, 1, d_conv], conv1d.bias
  std::unique_ptr<Linear<T>> x_proj;      // null with lti
  Parameter<T>* dt_weight = nullptr;      // dt_proj.weight [E*D, dt_rank]; null with lti
  Parameter<T>& dt_bias;                  // dt_proj.bias [E*D]
  Parameter<T>&A_log, &D;                 // [E*D, N], [E*D]
  Parameter<T>*B_lti = nullptr, *C_lti = nullptr;  // B, C [N]: lti only
  Linear<T> out_proj;

 private:
  // delta [B, L, E*D], B and C [B, L, N] from the conv output x.
  void ssm_inputs(Graph<T>& g, const Tensor<T>& x, Tensor<T>& delta, Tensor<T>& B, Tensor<T>& C);
};

}  // namespace attn
