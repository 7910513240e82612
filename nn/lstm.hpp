// A multi-layer LSTM built from engine ops, with nn.LSTM's parameter names and layout
// (weight_ih_l0 [4H, in], weight_hh_l0 [4H, H], bias_ih_l0, bias_hh_l0; gates i, f, g, o) and
// its init, U(-1/sqrt(H), 1/sqrt(H)) for every parameter.
#pragma once
#include "nn/recurrent.hpp"

namespace attn {

template <class T>
class LSTM : public Module<T> {
 public:
  // `dropout` applies to the outputs of every layer but the last, as nn.LSTM's.
  LSTM(int64_t input_size, int64_t hidden, int num_layers, double dropout, Rng& init_rng, Rng& dropout_rng);

  struct State {
    std::vector<Tensor<T>> h, c;  // one [B, H] per layer
  };
  State zero_state(Graph<T>& g, int64_t batch);
  // x [B, T, in] -> outputs of the last layer [B, T, H]; `state` is read and updated. With
  // `lengths`, sequence b keeps its state from step lengths[b] on (right padding), so the
  // final state is the one after its last real token.
  Tensor<T> forward(Graph<T>& g, const Tensor<T>& x, State& state, const std::vector<int>* lengths = nullptr);

  // Initialisation options, applied over the default init (every layer). forget_bias: the
  // forget-gate slice of bias_ih set to `b`, that of bias_hh to 0 (so b_f = b in total).
  void init_forget_bias(double b);
  // Chrono init (Tallec & Ollivier 2018): b_f = log(u), u ~ U(1, tmax - 1), and b_i = -b_f, on
  // bias_ih; bias_hh's i and f slices 0. Draws from `rng`, one u per layer and unit.
  void init_chrono(int64_t tmax, Rng& rng);

  int64_t input_size, hidden;
  int num_layers;
  // For the probes: when set, each forward keeps every layer's h at every step ([layer][t],
  // each [B, H]) with its gradient retained.
  bool keep_states = false;
  std::vector<std::vector<Tensor<T>>> last_states;

 private:
  struct LayerParams {
    Parameter<T>*w_ih, *w_hh, *b_ih, *b_hh;
  };
  std::vector<LayerParams> params_;
  Dropout<T> dropout_;
};

}  // namespace attn
