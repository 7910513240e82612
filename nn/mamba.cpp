#include "nn/mamba.hpp"

#include <fmt/format.h>

#include <cmath>

namespace attn {

namespace {

// dt_proj.bias as mamba_simple.py lines 90-97: dt = exp(U(log dt_min, log dt_max)) clamped to at
// least dt_init_floor, then softplus^-1(dt) = dt + log(-expm1(-dt)), so softplus(bias) = dt.
template <class T>
void init_dt_bias(Parameter<T>& p, const MambaMixerConfig& c, Rng& rng) {
  for (T& v : p.value) {
    const double dt = std::max(std::exp(rng.uniform(std::log(c.dt_min), std::log(c.dt_max))), c.dt_init_floor);
    v = T(dt + std::log(-std::expm1(-dt)));
  }
}

// Columns from..from+n of the last axis of x.
template <class T>
Tensor<T> columns(const Tensor<T>& x, int64_t from, int64_t n) {
  return slice(x, x.ndim() - 1, from, from + n);
}

}  // namespace

template <class T>
MambaMixer<T>::MambaMixer(const MambaMixerConfig& c, Rng& rng)
    : config(c),
      in_proj(c.d_model, 2 * c.inner(), false, rng),
      conv_weight(this->add_parameter("conv1d.weight", {c.inner(), 1, c.d_conv})),
      conv_bias(this->add_parameter("conv1d.bias", {c.inner()})),
      dt_bias(this->add_parameter("dt_proj.bias", {c.inner()})),
      A_log(this->add_parameter("A_log", {c.inner(), c.d_state})),
      D(this->add_parameter("D", {c.inner()})),
      out_proj(c.inner(), c.d_model, false, rng) {
  if (c.d_model < 1 || c.d_state < 1 || c.d_conv < 1 || c.expand < 1 || c.n_layer < 1)
    throw Error("MambaMixer: d_model, d_state, d_conv, expand and n_layer must be positive");
  const int64_t ED = c.inner(), N = c.d_state, R = c.rank();
  this->add_module("in_proj", in_proj);
  // nn.Conv1d's default init: kaiming_uniform(a=sqrt(5)) with fan_in = (in / groups) * K = K.
  init_uniform(conv_weight, 1.0 / std::sqrt(double(c.d_conv)), rng);
  init_uniform(conv_bias, 1.0 / std::sqrt(double(c.d_conv)), rng);
  if (!c.lti) {
    x_proj = std::make_unique<Linear<T>>(ED, R + 2 * N, false, rng);
    this->add_module("x_proj", *x_proj);
    dt_weight = &this->add_parameter("dt_proj.weight", {ED, R});
    init_uniform(*dt_weight, 1.0 / std::sqrt(double(R)), rng);  // dt_init "random", dt_scale 1
  }
  init_dt_bias(dt_bias, c, rng);
  for (int64_t i = 0; i < ED * N; ++i) A_log.value[i] = T(std::log(double(i % N + 1)));  // S4D-real: A = -(n+1)
  A_log.no_weight_decay = D.no_weight_decay = true;  // as the reference's _no_weight_decay
  init_constant(D, 1.0);
  if (c.lti) {  // S4D's init for the time-invariant B and C: B = 1, C ~ N(0, 1)
    B_lti = &this->add_parameter("B", {N});
    C_lti = &this->add_parameter("C", {N});
    init_constant(*B_lti, 1.0);
    init_normal(*C_lti, 1.0, rng);
  }
  // _init_weights(rescale_prenorm_residual): out_proj.weight re-drawn as nn.Linear's, / sqrt(n_layer).
  for (T& v : out_proj.weight.value) v = T(double(v) / std::sqrt(double(c.n_layer)));
  this->add_module("out_proj", out_proj);
}

template <class T>
void MambaMixer<T>::ssm_inputs(Graph<T>& g, const Tensor<T>& x, Tensor<T>& delta, Tensor<T>& B, Tensor<T>& C) {
  const int64_t N = config.d_state, R = config.rank();
  if (config.lti) {  // the same delta, B and C at every position: broadcast over [batch, L]
    const Shape s = x.shape();
    delta = softplus(dt_bias.bind(g)) + g.zeros(s);
    B = B_lti->bind(g) + g.zeros({s[0], s[1], N});
    C = C_lti->bind(g) + g.zeros({s[0], s[1], N});
    return;
  }
  Tensor<T> x_dbl = x_proj->forward(g, x);  // [B, L, R + 2N]
  delta = softplus(linear(columns(x_dbl, 0, R), dt_weight->bind(g), dt_bias.bind(g)));
  B = columns(x_dbl, R, N);
  C = columns(x_dbl, R + N, N);
}

template <class T>
Tensor<T> MambaMixer<T>::forward(Graph<T>& g, const Tensor<T>& u) {
  const int64_t ED = config.inner();
  Tensor<T> xz = in_proj.forward(g, u);
  Tensor<T> x = silu(causal_conv1d(columns(xz, 0, ED), conv_weight.bind(g), conv_bias.bind(g)));
  Tensor<T> delta, B, C;
  ssm_inputs(g, x, delta, B, C);
  Tensor<T> y = selective_scan(x, delta, -exp(A_log.bind(g)), B, C, D.bind(g));
  return out_proj.forward(g, y * silu(columns(xz, ED, ED)));
}

template <class T>
typename MambaMixer<T>::State MambaMixer<T>::zero_state(int64_t batch) const {
  State s;
  s.conv.assign(batch * config.inner() * (config.d_conv - 1), T(0));
  s.ssm.assign(batch * config.inner() * config.d_state, T(0));
  return s;
}

namespace {

// The convolution's newest output for each (row, channel) from the kept K-1 inputs `win` and the
// new input (column c of xz's first half), as causal_conv1d's last position; then the window
// moves on by one.
template <class T>
void conv_step(int64_t Bt, int64_t ED, int64_t K, const T* xz, const T* w, const T* bias, T* win_all, T* out) {
  for (int64_t b = 0; b < Bt; ++b)
    for (int64_t c = 0; c < ED; ++c) {
      T* win = win_all + (b * ED + c) * (K - 1);
      const T xn = xz[b * 2 * ED + c];
      T acc = bias[c];
      for (int64_t k = 0; k < K - 1; ++k) acc += w[c * K + k] * win[k];
      out[b * ED + c] = acc + w[c * K + K - 1] * xn;
      for (int64_t k = 0; k + 1 < K - 1; ++k) win[k] = win[k + 1];
      if (K > 1) win[K - 2] = xn;
    }
}

// One position of the recurrence for each (row, channel), as selective_scan's loop body:
// h = exp(delta A) h + delta B x, y = C . h + D x.
template <class T>
void ssm_step(int64_t Bt, int64_t ED, int64_t N, const T* x, const T* delta, const T* A, const T* B, const T* C,
              const T* D, T* h_all, T* y) {
  for (int64_t b = 0; b < Bt; ++b)
    for (int64_t c = 0; c < ED; ++c) {
      const T dv = delta[b * ED + c], dx = dv * x[b * ED + c];
      T* h = h_all + (b * ED + c) * N;
      T acc = 0;
      for (int64_t n = 0; n < N; ++n) {
        h[n] = std::exp(dv * A[c * N + n]) * h[n] + dx * B[b * N + n];
        acc += C[b * N + n] * h[n];
      }
      y[b * ED + c] = acc + D[c] * x[b * ED + c];
    }
}

}  // namespace

template <class T>
Tensor<T> MambaMixer<T>::step(Graph<T>& g, const Tensor<T>& u, State& s) {
  const int64_t ED = config.inner(), N = config.d_state, K = config.d_conv;
  const int64_t Bt = u.ndim() == 3 ? u.shape()[0] : 0;
  if (u.ndim() != 3 || u.shape()[1] != 1 || u.shape()[2] != config.d_model || (int64_t)s.ssm.size() != Bt * ED * N)
    throw Error(fmt::format("MambaMixer::step: input {} needs [B, 1, {}] and a state for B rows", u.shape().str(),
                            config.d_model));
  Tensor<T> xz = in_proj.forward(g, u);
  Tensor<T> xc = g.zeros({Bt, 1, ED});
  conv_step(Bt, ED, K, xz.data(), conv_weight.value.data(), conv_bias.value.data(), s.conv.data(), xc.mutable_data());
  Tensor<T> x = silu(xc), delta, B, C;
  ssm_inputs(g, x, delta, B, C);
  Tensor<T> A = -exp(A_log.bind(g)), y = g.zeros({Bt, 1, ED});
  ssm_step(Bt, ED, N, x.data(), delta.data(), A.data(), B.data(), C.data(), D.value.data(), s.ssm.data(),
           y.mutable_data());
  return out_proj.forward(g, y * silu(columns(xz, ED, ED)));
}

template class MambaMixer<float>;
template class MambaMixer<double>;

}  // namespace attn
