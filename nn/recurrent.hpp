// The single-state recurrent layers, built from engine ops with PyTorch's parameter names and
// layout: GRU as nn.GRU (weight_ih_l0 [3H, in], weight_hh_l0 [3H, H], bias_ih_l0, bias_hh_l0;
// gates r, z, n) and the Elman RNN as nn.RNN with tanh (the same names, [H, in] and [H, H]).
// Both initialise every parameter from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch does.
#pragma once
#include "nn/layers.hpp"

namespace attn {

// keep[t] is [B, 1]: 1 for the sequences still running at step t, 0 for those past their end;
// undefined at the steps where every sequence runs (or without lengths). Shared with the LSTM.
template <class T>
std::vector<Tensor<T>> running_masks(Graph<T>& g, int64_t batch, int64_t steps, const std::vector<int>* lengths,
                                     const char* who);

// A multi-layer recurrence whose state is one [B, H] per layer; the cell is the subclass's.
template <class T>
class HiddenRecurrent : public Module<T> {
 public:
  struct State {
    std::vector<Tensor<T>> h;  // one [B, H] per layer
  };
  State zero_state(Graph<T>& g, int64_t batch);
  // x [B, T, in] -> outputs of the last layer [B, T, H]; `state` is read and updated. With
  // `lengths`, sequence b keeps its state from step lengths[b] on (right padding), as LSTM does.
  Tensor<T> forward(Graph<T>& g, const Tensor<T>& x, State& state, const std::vector<int>* lengths = nullptr);

  int64_t input_size, hidden;
  int num_layers;
  // For the probes: when set, each forward keeps every layer's h at every step ([layer][t],
  // each [B, H]) with its gradient retained.
  bool keep_states = false;
  std::vector<std::vector<Tensor<T>>> last_states;

 protected:
  // `gates` blocks of H rows per weight (3 for the GRU, 1 for the RNN). `dropout` applies to
  // the outputs of every layer but the last, as in PyTorch.
  HiddenRecurrent(const char* who, int gates, int64_t input_size, int64_t hidden, int num_layers, double dropout,
                  Rng& init_rng, Rng& dropout_rng);
  // One step: the input projection W_ih x + b_ih of this step [B, gates*H] and the previous h.
  virtual Tensor<T> cell(const Tensor<T>& x_proj, const Tensor<T>& h, const Tensor<T>& w_hh,
                         const Tensor<T>& b_hh) const = 0;

 private:
  struct LayerParams {
    Parameter<T>*w_ih, *w_hh, *b_ih, *b_hh;
  };
  const char* who_;
  int gates_;
  std::vector<LayerParams> params_;
  Dropout<T> dropout_;
};

template <class T>
class GRU : public HiddenRecurrent<T> {
 public:
  GRU(int64_t input_size, int64_t hidden, int num_layers, double dropout, Rng& init_rng, Rng& dropout_rng)
      : HiddenRecurrent<T>("GRU", 3, input_size, hidden, num_layers, dropout, init_rng, dropout_rng) {}

 protected:
  Tensor<T> cell(const Tensor<T>& x_proj, const Tensor<T>& h, const Tensor<T>& w_hh,
                 const Tensor<T>& b_hh) const override;
};

// The Elman RNN, h' = tanh(W_ih x + b_ih + W_hh h + b_hh).
template <class T>
class RNN : public HiddenRecurrent<T> {
 public:
  RNN(int64_t input_size, int64_t hidden, int num_layers, double dropout, Rng& init_rng, Rng& dropout_rng)
      : HiddenRecurrent<T>("RNN", 1, input_size, hidden, num_layers, dropout, init_rng, dropout_rng) {}

 protected:
  Tensor<T> cell(const Tensor<T>& x_proj, const Tensor<T>& h, const Tensor<T>& w_hh,
                 const Tensor<T>& b_hh) const override;
};

}  // namespace attn
