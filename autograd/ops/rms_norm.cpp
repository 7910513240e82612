// Fused RMS normalisation over the last axis (Zhang & Sennrich 2019), as Mamba's RMSNorm
// (mamba_ssm/ops/triton/layer_norm.py, rms_norm_ref): y = x / sqrt(mean(x^2) + eps) * weight.
// No mean is subtracted and there is no bias.
#include <fmt/format.h>

#include <cmath>

#include "autograd/gradcheck.hpp"
#include "autograd/ops/kernels.hpp"
#include "autograd/ops/reference.hpp"
#include "autograd/ops/registry.hpp"
#include "autograd/ops.hpp"

namespace attn {
namespace {
const OpDef kRmsNorm("rms_norm");
}

template <class T>
Tensor<T> rms_norm(const Tensor<T>& x, const Tensor<T>& weight, double eps) {
  Graph<T>& g = x.graph();
  g.check(weight, "rms_norm");
  const int64_t D = x.ndim() ? x.shape()[x.ndim() - 1] : 0;
  if (x.ndim() < 1 || D == 0 || weight.shape() != Shape{D})
    throw Error(fmt::format("rms_norm: input {} needs a weight of shape [{}], got {}", x.shape().str(), D,
                            weight.shape().str()));
  Tensor<T> y = g.make(kRmsNorm, x.shape(), {&x, &weight});
  const int64_t rows = x.numel() / D;
  T* rstd = g.template scratch<T>(rows);  // 1/rms of each row, for backward
  const T *px = x.data(), *pw = weight.data();
  T* py = y.mutable_data();
#pragma omp parallel for if (x.numel() > kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = px + r * D;
    T ss = 0;  // summed in vector lanes (omp simd), the same order in every row
#pragma omp simd reduction(+ : ss)
    for (int64_t j = 0; j < D; ++j) ss += xr[j] * xr[j];
    const T s = T(1) / std::sqrt(ss / T(D) + T(eps));
    rstd[r] = s;
    for (int64_t j = 0; j < D; ++j) py[r * D + j] = xr[j] * s * pw[j];
  }
  const uint32_t ix = x.index(), iw = weight.index();
  // With xhat = x * rstd: dx = rstd * (dy w - xhat * mean(dy w xhat)); dw = sum over rows of dy xhat.
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    const T *px = g.node(ix).value, *pw = g.node(iw).value, *go = out.grad;
    if (T* gx = g.grad_of(ix)) {
#pragma omp parallel for if (rows * D > kParallelMin)
      for (int64_t r = 0; r < rows; ++r) {
        const T s = rstd[r];
        const T *xr = px + r * D, *gr = go + r * D;
        T m = 0;
#pragma omp simd reduction(+ : m)
        for (int64_t j = 0; j < D; ++j) m += gr[j] * pw[j] * xr[j] * s;
        m /= T(D);
        for (int64_t j = 0; j < D; ++j) gx[r * D + j] += s * (gr[j] * pw[j] - xr[j] * s * m);
      }
    }
    if (T* gw = g.grad_of(iw))
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < D; ++j) gw[j] += go[r * D + j] * px[r * D + j] * rstd[r];
  });
  return y;
}

template Tensor<float> rms_norm(const Tensor<float>&, const Tensor<float>&, double);
template Tensor<double> rms_norm(const Tensor<double>&, const Tensor<double>&, double);

// ---------------------------------------------------------------- gradcheck cases
namespace {

using Vals = std::vector<std::vector<double>>;

InputSpec in(Shape s, double lo = -1, double hi = 1) {
  InputSpec i;
  i.shape = s;
  i.lo = lo;
  i.hi = hi;
  return i;
}

void cases(std::vector<GradCase>& out) {
  out.push_back(make_case("rms_norm", "3d", {in({2, 3, 5}), in({5}, 0.5, 1.5)},
                          [](auto& x) { return rms_norm(x[0], x[1], 1e-5); },
                          [](const Vals& v) { return ref::rms_norm(v[0], v[1], 5, 1e-5); }));
  // A large eps makes the eps term matter in the gradient; one row, batch 1.
  out.push_back(make_case("rms_norm", "batch1_wide_eps", {in({1, 8}), in({8}, 0.5, 1.5)},
                          [](auto& x) { return rms_norm(x[0], x[1], 0.1); },
                          [](const Vals& v) { return ref::rms_norm(v[0], v[1], 8, 0.1); }));
  out.push_back(make_case("rms_norm", "width1", {in({3, 1}), in({1}, 0.5, 1.5)},
                          [](auto& x) { return rms_norm(x[0], x[1], 1e-5); },
                          [](const Vals& v) { return ref::rms_norm(v[0], v[1], 1, 1e-5); }));
  out.push_back(make_case("rms_norm", "reused_input", {in({3, 4}), in({4}, 0.5, 1.5)},
                          [](auto& x) { return rms_norm(x[0], x[1], 1e-5) * x[0]; },
                          [](const Vals& v) { return ref::mul(ref::rms_norm(v[0], v[1], 4, 1e-5), v[0]); }));
}

}  // namespace

void add_rms_norm_ops(std::vector<const OpDef*>& ops) { ops.insert(ops.end(), {&kRmsNorm}); }
void add_rms_norm_cases(std::vector<GradCase>& out) { cases(out); }

}  // namespace attn
