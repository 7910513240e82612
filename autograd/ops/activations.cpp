// SiLU (swish) and softplus, the two activations of Mamba (Gu & Dao 2023): SiLU after the causal
// convolution and on the gate z, softplus on the step size Delta. Elementwise, with PyTorch's
// definitions: silu(x) = x sigmoid(x); softplus(x) = log(1 + e^x), and x itself above 20
// (F.softplus's threshold, beta 1), where the gradient is then exactly 1.
#include <cmath>

#include "autograd/gradcheck.hpp"
#include "autograd/ops/kernels.hpp"
#include "autograd/ops/reference.hpp"
#include "autograd/ops/registry.hpp"
#include "autograd/ops.hpp"

namespace attn {
namespace {

const OpDef kSilu("silu"), kSoftplus("softplus");
constexpr double kSoftplusThreshold = 20;

// y = f(x); backward adds gy * d(x) to x's gradient.
template <class T, class F, class D>
Tensor<T> pointwise(const OpDef& op, const Tensor<T>& x, F f, D d) {
  Graph<T>& g = x.graph();
  Tensor<T> y = g.make(op, x.shape(), {&x});
  const T* px = x.data();
  T* py = y.mutable_data();
  const int64_t n = x.numel();
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) py[i] = f(px[i]);
  const uint32_t ix = x.index();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    T* gx = g.grad_of(ix);
    if (!gx) return;
    const T *vx = g.node(ix).value, *go = out.grad;
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) gx[i] += go[i] * d(vx[i]);
  });
  return y;
}

template <class T>
T sigmoid_of(T v) {
  return T(1) / (T(1) + std::exp(-v));
}

}  // namespace

template <class T>
Tensor<T> silu(const Tensor<T>& x) {
  return pointwise(kSilu, x, [](T v) { return v * sigmoid_of(v); },
                   [](T v) {
                     const T s = sigmoid_of(v);
                     return s * (T(1) + v * (T(1) - s));
                   });
}

template <class T>
Tensor<T> softplus(const Tensor<T>& x) {
  return pointwise(kSoftplus, x, [](T v) { return v > T(kSoftplusThreshold) ? v : std::log1p(std::exp(v)); },
                   [](T v) { return v > T(kSoftplusThreshold) ? T(1) : sigmoid_of(v); });
}

template Tensor<float> silu(const Tensor<float>&);
template Tensor<double> silu(const Tensor<double>&);
template Tensor<float> softplus(const Tensor<float>&);
template Tensor<double> softplus(const Tensor<double>&);

// ---------------------------------------------------------------- gradcheck cases
namespace {

using Vals = std::vector<std::vector<double>>;

InputSpec in(Shape s, double lo, double hi) {
  InputSpec i;
  i.shape = s;
  i.lo = lo;
  i.hi = hi;
  return i;
}

double ref_silu(double v) { return v / (1 + std::exp(-v)); }
// Written differently from the kernel: log(1 + e^x) = max(x, 0) + log(1 + e^-|x|).
double ref_softplus(double v) { return v > kSoftplusThreshold ? v : std::max(v, 0.0) + std::log1p(std::exp(-std::fabs(v))); }

void cases(std::vector<GradCase>& out) {
  out.push_back(make_case("silu", "rows", {in({3, 4}, -4, 4)}, [](auto& v) { return silu(v[0]); },
                          [](const Vals& v) { return ref::unary(v[0], ref_silu); }));
  out.push_back(make_case("silu", "batch1_reused", {in({1, 5}, -3, 3)}, [](auto& v) { return silu(v[0]) * v[0]; },
                          [](const Vals& v) { return ref::mul(ref::unary(v[0], ref_silu), v[0]); }));
  out.push_back(make_case("softplus", "rows", {in({3, 4}, -6, 6)}, [](auto& v) { return softplus(v[0]); },
                          [](const Vals& v) { return ref::unary(v[0], ref_softplus); }));
  // Far negative (Mamba's dt bias starts near softplus^-1(1e-3) = -6.9) and above the threshold.
  out.push_back(make_case("softplus", "tails", {in({2, 3}, -9, -5)}, [](auto& v) { return softplus(v[0]); },
                          [](const Vals& v) { return ref::unary(v[0], ref_softplus); }));
  out.push_back(make_case("softplus", "above_threshold", {in({4}, 21, 25)}, [](auto& v) { return softplus(v[0]); },
                          [](const Vals& v) { return ref::unary(v[0], ref_softplus); }));
}

}  // namespace

void add_activations_ops(std::vector<const OpDef*>& ops) { ops.insert(ops.end(), {&kSilu, &kSoftplus}); }
void add_activations_cases(std::vector<GradCase>& out) { cases(out); }

}  // namespace attn
