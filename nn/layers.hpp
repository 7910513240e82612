// The basic layers: Linear, Embedding, LayerNorm, RMSNorm, Dropout, FeedForward, sinusoidal positions.
#pragma once
#include <string>

#include "nn/module.hpp"

namespace attn {

// y = x W^T + b, W stored [out, in]. Init as nn.Linear: U(-1/sqrt(in), 1/sqrt(in)) for both.
template <class T>
class Linear : public Module<T> {
 public:
  Linear(int64_t in, int64_t out, bool bias, Rng& rng);
  Tensor<T> forward(Graph<T>& g, const Tensor<T>& x);
  // Fused forms (see linear_relu, linear_gelu and linear_add): relu(forward(x)), gelu(forward(x)),
  // residual + forward(x).
  Tensor<T> forward_relu(Graph<T>& g, const Tensor<T>& x);
  Tensor<T> forward_gelu(Graph<T>& g, const Tensor<T>& x);
  Tensor<T> forward_add(Graph<T>& g, const Tensor<T>& x, const Tensor<T>& residual);
  Parameter<T>& weight;
  Parameter<T>* bias = nullptr;
};

// Rows of weight [V, D]. Init as nn.Embedding: N(0, 1).
template <class T>
class Embedding : public Module<T> {
 public:
  Embedding(int64_t vocab, int64_t dim, Rng& rng);
  Tensor<T> forward(Graph<T>& g, const std::vector<int>& ids, const Shape& ids_shape);
  Parameter<T>& weight;
  // For the probes: when set, each forward appends its output here, with its gradient retained
  // (an encoder-decoder sharing one table embeds the source first, then the target).
  bool keep_output = false;
  std::vector<Tensor<T>> outputs;
};

// Over the last axis; weight 1, bias 0, eps 1e-5, as nn.LayerNorm.
template <class T>
class LayerNorm : public Module<T> {
 public:
  explicit LayerNorm(int64_t dim, double eps = 1e-5);
  Tensor<T> forward(Graph<T>& g, const Tensor<T>& x);
  Parameter<T>& weight;
  Parameter<T>& bias;
  double eps;
};

// RMS norm over the last axis; weight 1, eps 1e-5, no bias, as mamba_ssm's RMSNorm.
template <class T>
class RMSNorm : public Module<T> {
 public:
  explicit RMSNorm(int64_t dim, double eps = 1e-5);
  Tensor<T> forward(Graph<T>& g, const Tensor<T>& x) { return rms_norm(x, weight.bind(g), eps); }
  Parameter<T>& weight;
  double eps;
};

// Active only in training mode; draws from the generator it was given.
template <class T>
class Dropout : public Module<T> {
 public:
  Dropout(double p, Rng& rng) : p(p), rng_(rng) {}
  Tensor<T> forward(const Tensor<T>& x) { return dropout(x, p, rng_, this->training()); }
  // True when forward returns its input unchanged (p = 0 or eval mode), so that the ops around
  // it may be fused.
  bool is_identity() const { return p == 0.0 || !this->training(); }
  double p;

 private:
  Rng& rng_;
};

enum class Activation { relu, gelu };
Activation parse_activation(const std::string& s);  // "relu" | "gelu"
const char* activation_name(Activation a);

// Rows first..first+len of the fixed sinusoidal table of Vaswani et al. (2017), [len, dim]:
// pe[p, 2i] = sin(p / 10000^(2i/dim)), pe[p, 2i+1] = cos(p / 10000^(2i/dim)).
template <class T>
std::vector<T> sinusoidal_table(int64_t first, int64_t len, int64_t dim);

}  // namespace attn
