#include "nn/layers.hpp"

#include <fmt/format.h>

#include <cmath>

namespace attn {

template <class T>
Linear<T>::Linear(int64_t in, int64_t out, bool has_bias, Rng& rng)
    : weight(this->add_parameter("weight", {out, in})) {
  const double bound = in > 0 ? 1.0 / std::sqrt(double(in)) : 0.0;
  init_uniform(weight, bound, rng);  // kaiming_uniform(a=sqrt(5)) reduces to this bound
  if (has_bias) {
    bias = &this->add_parameter("bias", {out});
    init_uniform(*bias, bound, rng);
  }
}

template <class T>
Tensor<T> Linear<T>::forward(Graph<T>& g, const Tensor<T>& x) {
  return linear(x, weight.bind(g), bias ? bias->bind(g) : Tensor<T>());
}

template <class T>
Tensor<T> Linear<T>::forward_relu(Graph<T>& g, const Tensor<T>& x) {
  return linear_relu(x, weight.bind(g), bias ? bias->bind(g) : Tensor<T>());
}

template <class T>
Tensor<T> Linear<T>::forward_gelu(Graph<T>& g, const Tensor<T>& x) {
  return linear_gelu(x, weight.bind(g), bias ? bias->bind(g) : Tensor<T>());
}

template <class T>
Tensor<T> Linear<T>::forward_add(Graph<T>& g, const Tensor<T>& x, const Tensor<T>& residual) {
  return linear_add(x, weight.bind(g), bias ? bias->bind(g) : Tensor<T>(), residual);
}

template <class T>
Embedding<T>::Embedding(int64_t vocab, int64_t dim, Rng& rng)
    : weight(this->add_parameter("weight", {vocab, dim})) {
  init_normal(weight, 1.0, rng);
}

template <class T>
Tensor<T> Embedding<T>::forward(Graph<T>& g, const std::vector<int>& ids, const Shape& ids_shape) {
  Tensor<T> out = embedding(weight.bind(g), ids, ids_shape);
  if (keep_output) {
    if (out.requires_grad()) out.retain_grad();
    outputs.push_back(out);
  }
  return out;
}

template <class T>
LayerNorm<T>::LayerNorm(int64_t dim, double eps)
    : weight(this->add_parameter("weight", {dim})), bias(this->add_parameter("bias", {dim})), eps(eps) {
  init_constant(weight, 1.0);
}

template <class T>
Tensor<T> LayerNorm<T>::forward(Graph<T>& g, const Tensor<T>& x) {
  return layer_norm(x, weight.bind(g), bias.bind(g), eps);
}

template <class T>
RMSNorm<T>::RMSNorm(int64_t dim, double eps) : weight(this->add_parameter("weight", {dim})), eps(eps) {
  init_constant(weight, 1.0);
}

Activation parse_activation(const std::string& s) {
  if (s == "relu") return Activation::relu;
  if (s == "gelu") return Activation::gelu;
  throw Error(fmt::format("unknown activation '{}' (relu or gelu)", s));
}

const char* activation_name(Activation a) { return a == Activation::relu ? "relu" : "gelu"; }

template <class T>
std::vector<T> sinusoidal_table(int64_t first, int64_t len, int64_t dim) {
  std::vector<T> pe(len * dim);
  for (int64_t r = 0; r < len; ++r)
    for (int64_t i = 0; i < dim; i += 2) {
      const double angle = double(first + r) / std::pow(10000.0, double(i) / double(dim));
      pe[r * dim + i] = T(std::sin(angle));
      if (i + 1 < dim) pe[r * dim + i + 1] = T(std::cos(angle));
    }
  return pe;
}

#define ATTN_INSTANTIATE(T)       \
  template class Linear<T>;       \
  template class Embedding<T>;    \
  template class LayerNorm<T>;    \
  template class RMSNorm<T>;      \
  template class Dropout<T>;      \
  template std::vector<T> sinusoidal_table(int64_t, int64_t, int64_t);
ATTN_INSTANTIATE(float)
ATTN_INSTANTIATE(double)
#undef ATTN_INSTANTIATE

}  // namespace attn
