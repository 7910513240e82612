#include "nn/lstm.hpp"

#include <fmt/format.h>

#include <cmath>

namespace attn {

template <class T>
LSTM<T>::LSTM(int64_t in, int64_t h, int n, double dropout, Rng& init_rng, Rng& dropout_rng)
    : input_size(in), hidden(h), num_layers(n), dropout_(dropout, dropout_rng) {
  this->add_module("dropout", dropout_);  // no parameters; follows train/eval mode
  if (n < 1 || h < 1) throw Error(fmt::format("LSTM: need at least one layer and hidden size, got {} and {}", n, h));
  const double bound = 1.0 / std::sqrt(double(h));
  for (int l = 0; l < n; ++l) {
    const int64_t layer_in = l == 0 ? in : h;
    LayerParams p;
    p.w_ih = &this->add_parameter(fmt::format("weight_ih_l{}", l), {4 * h, layer_in});
    p.w_hh = &this->add_parameter(fmt::format("weight_hh_l{}", l), {4 * h, h});
    p.b_ih = &this->add_parameter(fmt::format("bias_ih_l{}", l), {4 * h});
    p.b_hh = &this->add_parameter(fmt::format("bias_hh_l{}", l), {4 * h});
    for (Parameter<T>* q : {p.w_ih, p.w_hh, p.b_ih, p.b_hh}) init_uniform(*q, bound, init_rng);
    params_.push_back(p);
  }
}

template <class T>
typename LSTM<T>::State LSTM<T>::zero_state(Graph<T>& g, int64_t batch) {
  State s;
  for (int l = 0; l < num_layers; ++l) {
    s.h.push_back(g.zeros({batch, hidden}));
    s.c.push_back(g.zeros({batch, hidden}));
  }
  return s;
}

template <class T>
Tensor<T> LSTM<T>::forward(Graph<T>& g, const Tensor<T>& x, State& state, const std::vector<int>* lengths) {
  if (x.ndim() != 3 || x.shape()[2] != input_size)
    throw Error(fmt::format("LSTM: input {} is not [B, T, {}]", x.shape().str(), input_size));
  const int64_t B = x.shape()[0], steps = x.shape()[1], H = hidden;
  if ((int)state.h.size() != num_layers)
    throw Error(fmt::format("LSTM: state has {} layers, want {}", state.h.size(), num_layers));
  const std::vector<Tensor<T>> keep = running_masks(g, B, steps, lengths, "LSTM");
  Tensor<T> layer_in = x;
  if (keep_states) last_states.assign(num_layers, {});
  for (int l = 0; l < num_layers; ++l) {
    const LayerParams& p = params_[l];
    Tensor<T> w_hh = p.w_hh->bind(g), b_hh = p.b_hh->bind(g);
    Tensor<T> xp = linear(layer_in, p.w_ih->bind(g), p.b_ih->bind(g));  // all steps at once: [B, T, 4H]
    Tensor<T> h = state.h[l], c = state.c[l];
    std::vector<Tensor<T>> outs;
    for (int64_t t = 0; t < steps; ++t) {
      Tensor<T> gates = reshape(slice(xp, 1, t, t + 1), {B, 4 * H}) + linear(h, w_hh, b_hh);
      Tensor<T> i = sigmoid(slice(gates, 1, 0, H)), f = sigmoid(slice(gates, 1, H, 2 * H));
      Tensor<T> gg = tanh(slice(gates, 1, 2 * H, 3 * H)), o = sigmoid(slice(gates, 1, 3 * H, 4 * H));
      Tensor<T> c2 = f * c + i * gg;
      Tensor<T> h2 = o * tanh(c2);
      if (keep[t].defined()) {  // finished sequences keep their state
        c2 = c + keep[t] * (c2 - c);
        h2 = h + keep[t] * (h2 - h);
      }
      h = h2;
      c = c2;
      outs.push_back(h);
      if (keep_states) {
        if (h.requires_grad()) h.retain_grad();
        last_states[l].push_back(h);
      }
    }
    state.h[l] = h;
    state.c[l] = c;
    layer_in = stack(outs, 1);
    if (l + 1 < num_layers) layer_in = dropout_.forward(layer_in);
  }
  return layer_in;
}

// Gate slices of a [4H] bias: i [0, H), f [H, 2H), g, o.
template <class T>
void LSTM<T>::init_forget_bias(double b) {
  const int64_t H = hidden;
  for (LayerParams& p : params_)
    for (int64_t k = H; k < 2 * H; ++k) {
      p.b_ih->value[k] = T(b);
      p.b_hh->value[k] = T(0);
    }
}

template <class T>
void LSTM<T>::init_chrono(int64_t tmax, Rng& rng) {
  if (tmax < 2) throw Error(fmt::format("LSTM: chrono init needs T_max >= 2, got {}", tmax));
  const int64_t H = hidden;
  for (LayerParams& p : params_)
    for (int64_t k = 0; k < H; ++k) {
      const T bf = T(std::log(rng.uniform(1.0, double(tmax - 1))));
      p.b_ih->value[H + k] = bf;
      p.b_ih->value[k] = -bf;
      p.b_hh->value[H + k] = T(0);
      p.b_hh->value[k] = T(0);
    }
}

template class LSTM<float>;
template class LSTM<double>;

}  // namespace attn
