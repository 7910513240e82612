// Causal depthwise 1-D convolution over time, as Mamba's short convolution: PyTorch's
// nn.Conv1d(C, C, K, groups=C, padding=K-1) with its output cut to the first L positions.
// x [B, L, C] (channels last, as the engine's linears give them), weight [C, 1, K] (Conv1d's
// layout), bias [C] or undefined:
//   y[b, t, c] = bias[c] + sum_k weight[c, 0, k] x[b, t - (K-1) + k, c]   (x before t = 0 is 0)
// so y at t sees x at t-K+1..t only.
#include <fmt/format.h>

#include "autograd/gradcheck.hpp"
#include "autograd/ops/kernels.hpp"
#include "autograd/ops/reference.hpp"
#include "autograd/ops/registry.hpp"
#include "autograd/ops.hpp"

namespace attn {
namespace {
const OpDef kCausalConv1d("causal_conv1d");
}

template <class T>
Tensor<T> causal_conv1d(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias) {
  Graph<T>& g = x.graph();
  g.check(weight, "causal_conv1d");
  const Shape s = x.shape();
  const bool has_bias = bias.defined();
  if (has_bias) g.check(bias, "causal_conv1d");
  const int64_t C = s.ndim() == 3 ? s[2] : -1, K = weight.ndim() == 3 ? weight.shape()[2] : 0;
  if (s.ndim() != 3 || weight.shape() != Shape{C, 1, K} || K < 1 || (has_bias && bias.shape() != Shape{C}))
    throw Error(fmt::format("causal_conv1d: x {}, weight {}, bias {}: want x [B, L, C], weight [C, 1, K], bias [C]",
                            s.str(), weight.shape().str(), has_bias ? bias.shape().str() : "none"));
  const int64_t B = s[0], L = s[1];
  Tensor<T> y = has_bias ? g.make(kCausalConv1d, s, {&x, &weight, &bias}) : g.make(kCausalConv1d, s, {&x, &weight});
  const T *px = x.data(), *pw = weight.data(), *pb = has_bias ? bias.data() : nullptr;
  T* py = y.mutable_data();
#pragma omp parallel for if (x.numel() * K > kParallelMin)
  for (int64_t r = 0; r < B * L; ++r) {
    const int64_t t = r % L;
    T* yr = py + r * C;
    for (int64_t c = 0; c < C; ++c) yr[c] = pb ? pb[c] : T(0);
    for (int64_t k = 0; k < K; ++k) {
      const int64_t src = t - (K - 1) + k;
      if (src < 0) continue;
      const T* xr = px + (r - t + src) * C;
      for (int64_t c = 0; c < C; ++c) yr[c] += pw[c * K + k] * xr[c];
    }
  }
  const uint32_t ix = x.index(), iw = weight.index(), ib = has_bias ? bias.index() : 0;
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    const T *px = g.node(ix).value, *pw = g.node(iw).value, *go = out.grad;
    if (T* gx = g.grad_of(ix)) {  // x at s feeds y at s + (K-1) - k
#pragma omp parallel for if (B * L * C * K > kParallelMin)
      for (int64_t r = 0; r < B * L; ++r) {
        const int64_t t = r % L;
        for (int64_t k = 0; k < K; ++k) {
          const int64_t dst = t + (K - 1) - k;
          if (dst >= L) continue;
          const T* gr = go + (r - t + dst) * C;
          for (int64_t c = 0; c < C; ++c) gx[r * C + c] += pw[c * K + k] * gr[c];
        }
      }
    }
    T* gw = g.grad_of(iw);
    T* gb = has_bias ? g.grad_of(ib) : nullptr;
    for (int64_t r = 0; r < B * L; ++r) {  // serial: every row adds into the same [C, K]
      const int64_t t = r % L;
      const T* gr = go + r * C;
      if (gb)
        for (int64_t c = 0; c < C; ++c) gb[c] += gr[c];
      if (!gw) continue;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t src = t - (K - 1) + k;
        if (src < 0) continue;
        const T* xr = px + (r - t + src) * C;
        for (int64_t c = 0; c < C; ++c) gw[c * K + k] += gr[c] * xr[c];
      }
    }
  });
  return y;
}

template Tensor<float> causal_conv1d(const Tensor<float>&, const Tensor<float>&, const Tensor<float>&);
template Tensor<double> causal_conv1d(const Tensor<double>&, const Tensor<double>&, const Tensor<double>&);

// ---------------------------------------------------------------- gradcheck cases
namespace {

using Vals = std::vector<std::vector<double>>;

InputSpec in(Shape s) {
  InputSpec i;
  i.shape = s;
  return i;
}

void add(std::vector<GradCase>& out, const char* name, int64_t B, int64_t L, int64_t C, int64_t K, bool bias) {
  std::vector<InputSpec> inputs = {in({B, L, C}), in({C, 1, K})};
  if (bias) inputs.push_back(in({C}));
  out.push_back(make_case(
      "causal_conv1d", name, inputs,
      [bias](auto& v) { return causal_conv1d(v[0], v[1], bias ? v[2] : std::decay_t<decltype(v[0])>()); },
      [=](const Vals& v) { return ref::causal_conv1d(v[0], v[1], bias ? v[2] : Vals::value_type(), B, L, C, K); }));
}

void cases(std::vector<GradCase>& out) {
  add(out, "k4_bias", 2, 5, 3, 4, true);
  add(out, "k4_shorter_than_kernel", 2, 2, 3, 4, true);  // every output sees the zero padding
  add(out, "k1_no_bias_batch1", 1, 3, 2, 1, false);
  add(out, "k3_one_channel", 2, 4, 1, 3, true);
  InputSpec x = in({2, 4, 3});  // x reused after the convolution: gradients from both uses add up
  out.push_back(make_case("causal_conv1d", "reused_input", {x, in({3, 1, 2}), in({3})},
                          [](auto& v) { return causal_conv1d(v[0], v[1], v[2]) * v[0]; },
                          [](const Vals& v) { return ref::mul(ref::causal_conv1d(v[0], v[1], v[2], 2, 4, 3, 2), v[0]); }));
}

}  // namespace

void add_causal_conv1d_ops(std::vector<const OpDef*>& ops) { ops.insert(ops.end(), {&kCausalConv1d}); }
void add_causal_conv1d_cases(std::vector<GradCase>& out) { cases(out); }

}  // namespace attn
