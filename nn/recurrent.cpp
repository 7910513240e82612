#include "nn/recurrent.hpp"

#include <fmt/format.h>

#include <cmath>

namespace attn {

template <class T>
std::vector<Tensor<T>> running_masks(Graph<T>& g, int64_t B, int64_t steps, const std::vector<int>* lengths,
                                     const char* who) {
  std::vector<Tensor<T>> keep(steps);
  if (!lengths) return keep;
  if ((int64_t)lengths->size() != B) throw Error(fmt::format("{}: one length per sequence is needed", who));
  for (int64_t t = 0; t < steps; ++t) {
    bool any_done = false;
    std::vector<T> m(B);
    for (int64_t b = 0; b < B; ++b) {
      m[b] = t < (*lengths)[b] ? T(1) : T(0);
      any_done = any_done || m[b] == T(0);
    }
    if (any_done) keep[t] = g.tensor({B, 1}, m);
  }
  return keep;
}

template <class T>
HiddenRecurrent<T>::HiddenRecurrent(const char* who, int gates, int64_t in, int64_t h, int n, double dropout,
                                    Rng& init_rng, Rng& dropout_rng)
    : input_size(in), hidden(h), num_layers(n), who_(who), gates_(gates), dropout_(dropout, dropout_rng) {
  this->add_module("dropout", dropout_);  // no parameters; follows train/eval mode
  if (n < 1 || h < 1) throw Error(fmt::format("{}: need at least one layer and hidden size, got {} and {}", who, n, h));
  const double bound = 1.0 / std::sqrt(double(h));
  for (int l = 0; l < n; ++l) {
    const int64_t layer_in = l == 0 ? in : h;
    LayerParams p;
    p.w_ih = &this->add_parameter(fmt::format("weight_ih_l{}", l), {gates * h, layer_in});
    p.w_hh = &this->add_parameter(fmt::format("weight_hh_l{}", l), {gates * h, h});
    p.b_ih = &this->add_parameter(fmt::format("bias_ih_l{}", l), {gates * h});
    p.b_hh = &this->add_parameter(fmt::format("bias_hh_l{}", l), {gates * h});
    for (Parameter<T>* q : {p.w_ih, p.w_hh, p.b_ih, p.b_hh}) init_uniform(*q, bound, init_rng);
    params_.push_back(p);
  }
}

template <class T>
typename HiddenRecurrent<T>::State HiddenRecurrent<T>::zero_state(Graph<T>& g, int64_t batch) {
  State s;
  for (int l = 0; l < num_layers; ++l) s.h.push_back(g.zeros({batch, hidden}));
  return s;
}

template <class T>
Tensor<T> HiddenRecurrent<T>::forward(Graph<T>& g, const Tensor<T>& x, State& state, const std::vector<int>* lengths) {
  if (x.ndim() != 3 || x.shape()[2] != input_size)
    throw Error(fmt::format("{}: input {} is not [B, T, {}]", who_, x.shape().str(), input_size));
  const int64_t B = x.shape()[0], steps = x.shape()[1], G = gates_ * hidden;
  if ((int)state.h.size() != num_layers)
    throw Error(fmt::format("{}: state has {} layers, want {}", who_, state.h.size(), num_layers));
  const std::vector<Tensor<T>> keep = running_masks(g, B, steps, lengths, who_);
  Tensor<T> layer_in = x;
  if (keep_states) last_states.assign(num_layers, {});
  for (int l = 0; l < num_layers; ++l) {
    const LayerParams& p = params_[l];
    Tensor<T> w_hh = p.w_hh->bind(g), b_hh = p.b_hh->bind(g);
    Tensor<T> xp = linear(layer_in, p.w_ih->bind(g), p.b_ih->bind(g));  // all steps at once: [B, T, G]
    Tensor<T> h = state.h[l];
    std::vector<Tensor<T>> outs;
    for (int64_t t = 0; t < steps; ++t) {
      Tensor<T> h2 = cell(reshape(slice(xp, 1, t, t + 1), {B, G}), h, w_hh, b_hh);
      if (keep[t].defined()) h2 = h + keep[t] * (h2 - h);  // finished sequences keep their state
      h = h2;
      outs.push_back(h);
      if (keep_states) {
        if (h.requires_grad()) h.retain_grad();
        last_states[l].push_back(h);
      }
    }
    state.h[l] = h;
    layer_in = stack(outs, 1);
    if (l + 1 < num_layers) layer_in = dropout_.forward(layer_in);
  }
  return layer_in;
}

template <class T>
Tensor<T> GRU<T>::cell(const Tensor<T>& xp, const Tensor<T>& h, const Tensor<T>& w_hh, const Tensor<T>& b_hh) const {
  const int64_t H = this->hidden;
  Tensor<T> hp = linear(h, w_hh, b_hh);  // W_h{r,z,n} h + b_h{r,z,n}: [B, 3H]
  Tensor<T> r = sigmoid(slice(xp, 1, 0, H) + slice(hp, 1, 0, H));
  Tensor<T> z = sigmoid(slice(xp, 1, H, 2 * H) + slice(hp, 1, H, 2 * H));
  Tensor<T> n = tanh(slice(xp, 1, 2 * H, 3 * H) + r * slice(hp, 1, 2 * H, 3 * H));
  return n + z * (h - n);  // (1 - z) n + z h
}

template <class T>
Tensor<T> RNN<T>::cell(const Tensor<T>& xp, const Tensor<T>& h, const Tensor<T>& w_hh, const Tensor<T>& b_hh) const {
  return tanh(xp + linear(h, w_hh, b_hh));
}

template std::vector<Tensor<float>> running_masks(Graph<float>&, int64_t, int64_t, const std::vector<int>*, const char*);
template std::vector<Tensor<double>> running_masks(Graph<double>&, int64_t, int64_t, const std::vector<int>*,
                                                   const char*);
template class HiddenRecurrent<float>;
template class HiddenRecurrent<double>;
template class GRU<float>;
template class GRU<double>;
template class RNN<float>;
template class RNN<double>;

}  // namespace attn
