// softmax and log_softmax over the last axis, fused, numerically stable (max subtracted).
// A row of all -inf (every position masked) gives zeros and passes no gradient.
#include <cmath>
#include <limits>

#include "autograd/gradcheck.hpp"
#include "autograd/ops/reference.hpp"
#include "autograd/ops/registry.hpp"
#include "autograd/isa.hpp"
#include "autograd/ops.hpp"
#include "autograd/ops/kernels.hpp"
#include "autograd/ops/softmax_rows.hpp"

namespace attn {
namespace {
const OpDef kSoftmax("softmax"), kLogSoftmax("log_softmax");
}

template <class T>
bool softmax_row(const T* x, T* y, int64_t n, T* stats) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t j = 0; j < n; ++j) m = std::max(m, x[j]);
  if (stats) stats[0] = m;
  if (m == -std::numeric_limits<T>::infinity()) {
    std::fill(y, y + n, T(0));
    return false;
  }
  T s = 0;
  for (int64_t j = 0; j < n; ++j) s += (y[j] = std::exp(x[j] - m));
  const T inv = T(1) / s;
  if (stats) stats[1] = inv;
  for (int64_t j = 0; j < n; ++j) y[j] *= inv;
  return true;
}

template <class T>
void softmax_row_replay(const T* x, T* y, int64_t n, const T* stats) {
  const T m = stats[0], inv = stats[1];
  if (m == -std::numeric_limits<T>::infinity()) {
    std::fill(y, y + n, T(0));
    return;
  }
  for (int64_t j = 0; j < n; ++j) y[j] = std::exp(x[j] - m) * inv;
}

template <class T>
T row_logsumexp(const T* x, int64_t n) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t j = 0; j < n; ++j) m = std::max(m, x[j]);
  if (m == -std::numeric_limits<T>::infinity()) return m;
  T s = 0;
  for (int64_t j = 0; j < n; ++j) s += std::exp(x[j] - m);
  return m + std::log(s);
}
template float row_logsumexp(const float*, int64_t);
template double row_logsumexp(const double*, int64_t);

// float: the hot path of attention. xsimd's vectorised exp is about ten times faster than a
// loop of std::exp (docs/performance.md); the float32 forward check bounds its error. The loops
// are compiled per instruction set; isa() picks one.
namespace {
float row_max(const float* x, int64_t n) {
  return isa() == Isa::avx512 ? simd_avx512::row_max(x, n) : simd_avx2::row_max(x, n);
}
float exp_shifted(const float* x, float* y, int64_t n, float m) {
  return isa() == Isa::avx512 ? simd_avx512::exp_shifted(x, y, n, m) : simd_avx2::exp_shifted(x, y, n, m);
}
}  // namespace

template <>
bool softmax_row<float>(const float* x, float* y, int64_t n, float* stats) {
  const float m = row_max(x, n);
  if (stats) stats[0] = m;
  if (m == -std::numeric_limits<float>::infinity()) {
    std::fill(y, y + n, 0.0f);
    return false;
  }
  const float inv = 1.0f / exp_shifted(x, y, n, m);
  if (stats) stats[1] = inv;
  for (int64_t j = 0; j < n; ++j) y[j] *= inv;
  return true;
}

template <>
void softmax_row_replay<float>(const float* x, float* y, int64_t n, const float* stats) {
  const float m = stats[0], inv = stats[1];
  if (m == -std::numeric_limits<float>::infinity()) {
    std::fill(y, y + n, 0.0f);
    return;
  }
  exp_shifted(x, y, n, m);
  for (int64_t j = 0; j < n; ++j) y[j] *= inv;
}
template <class T>
T row_max_of(const T* x, int64_t n) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t j = 0; j < n; ++j) m = std::max(m, x[j]);
  return m;
}

template <class T>
T exp_row(const T* x, T* y, int64_t n, T m) {
  T s = 0;
  for (int64_t j = 0; j < n; ++j) s += (y[j] = std::exp(x[j] - m));
  return s;
}

template <>
float row_max_of<float>(const float* x, int64_t n) {
  return row_max(x, n);
}

template <>
float exp_row<float>(const float* x, float* y, int64_t n, float m) {
  return exp_shifted(x, y, n, m);
}

template double row_max_of(const double*, int64_t);
template double exp_row(const double*, double*, int64_t, double);
template bool softmax_row(const double*, double*, int64_t, double*);
template void softmax_row_replay(const double*, double*, int64_t, const double*);

template <class T>
Tensor<T> softmax(const Tensor<T>& x) {
  Graph<T>& g = x.graph();
  g.check(x, "softmax");
  if (x.ndim() < 1) throw Error("softmax: needs at least one dimension");
  Tensor<T> y = g.make(kSoftmax, x.shape(), {&x});
  const int64_t C = x.shape()[x.ndim() - 1], rows = C ? x.numel() / C : 0;
  const T* px = x.data();
  T* py = y.mutable_data();
#pragma omp parallel for if (x.numel() > kParallelMin)
  for (int64_t r = 0; r < rows; ++r) softmax_row<T>(px + r * C, py + r * C, C, nullptr);
  const uint32_t ix = x.index();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    T* gx = g.grad_of(ix);
#pragma omp parallel for if (rows * C > kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      const T *yr = out.value + r * C, *gr = out.grad + r * C;
      T dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int64_t j = 0; j < C; ++j) dot += yr[j] * gr[j];
      for (int64_t j = 0; j < C; ++j) gx[r * C + j] += yr[j] * (gr[j] - dot);
    }
  });
  return y;
}

template <class T>
Tensor<T> log_softmax(const Tensor<T>& x) {
  Graph<T>& g = x.graph();
  g.check(x, "log_softmax");
  if (x.ndim() < 1) throw Error("log_softmax: needs at least one dimension");
  Tensor<T> y = g.make(kLogSoftmax, x.shape(), {&x});
  const int64_t C = x.shape()[x.ndim() - 1], rows = C ? x.numel() / C : 0;
  const T* px = x.data();
  T* py = y.mutable_data();
  uint8_t* dead = g.template scratch<uint8_t>(rows);  // fully masked rows
#pragma omp parallel for if (x.numel() > kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = px + r * C;
    T* yr = py + r * C;
    const T lse = row_logsumexp(xr, C);
    dead[r] = lse == -std::numeric_limits<T>::infinity();
    if (dead[r]) {
      std::fill(yr, yr + C, T(0));
      continue;
    }
    for (int64_t j = 0; j < C; ++j) yr[j] = xr[j] - lse;
  }
  const uint32_t ix = x.index();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    T* gx = g.grad_of(ix);
#pragma omp parallel for if (rows * C > kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      if (dead[r]) continue;
      const T *yr = out.value + r * C, *gr = out.grad + r * C;
      T s = 0;
      for (int64_t j = 0; j < C; ++j) s += gr[j];
      for (int64_t j = 0; j < C; ++j) gx[r * C + j] += gr[j] - std::exp(yr[j]) * s;
    }
  });
  return y;
}

template Tensor<float> softmax(const Tensor<float>&);
template Tensor<double> softmax(const Tensor<double>&);
template Tensor<float> log_softmax(const Tensor<float>&);
template Tensor<double> log_softmax(const Tensor<double>&);

// ---------------------------------------------------------------- gradcheck cases
namespace {

using Vals = std::vector<std::vector<double>>;

// An additive mask: 0 where visible, -inf where masked; row 1 is fully masked.
InputSpec additive_mask(int64_t rows, int64_t C, bool full_row) {
  InputSpec m;
  m.shape = {rows, C};
  m.requires_grad = false;
  m.fixed.assign(rows * C, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < C; ++j)
      if (j > r || (full_row && r == 1)) m.fixed[r * C + j] = -INFINITY;  // causal, plus a dead row
  return m;
}

InputSpec in(Shape s, double lo = -2, double hi = 2) {
  InputSpec i;
  i.shape = s;
  i.lo = lo;
  i.hi = hi;
  return i;
}

template <class T>
Tensor<T> apply(bool log, const Tensor<T>& x) {
  return log ? log_softmax(x) : softmax(x);
}

void cases(std::vector<GradCase>& out) {
  for (bool log : {false, true}) {
    const std::string op = log ? "log_softmax" : "softmax";
    out.push_back(make_case(op, "rows", {in({3, 5})}, [log](auto& x) { return apply(log, x[0]); },
                            [log](const Vals& v) { return ref::softmax(v[0], 5, log); }));
    out.push_back(make_case(op, "3d_batch1", {in({1, 2, 4})}, [log](auto& x) { return apply(log, x[0]); },
                            [log](const Vals& v) { return ref::softmax(v[0], 4, log); }));
    out.push_back(make_case(op, "large_logits", {in({2, 3}, 50, 60)}, [log](auto& x) { return apply(log, x[0]); },
                            [log](const Vals& v) { return ref::softmax(v[0], 3, log); }));
    out.push_back(make_case(op, "size1_row", {in({4, 1})}, [log](auto& x) { return apply(log, x[0]); },
                            [log](const Vals& v) { return ref::softmax(v[0], 1, log); }));
    // log_softmax is -inf where masked; exp() brings the checked value back to finite numbers.
    auto masked_ref = [log](const Vals& v) {
      const std::vector<double> y = ref::softmax(ref::add(v[0], v[1]), 4, log);
      return log ? ref::unary(y, [](double e) { return std::exp(e); }) : y;
    };
    auto masked = [log](auto& x) {
      auto y = apply(log, x[0] + x[1]);
      return log ? exp(y) : y;
    };
    // Additive -inf masks (causal), then one row masked entirely.
    out.push_back(make_case(op, "neg_inf_mask", {in({4, 4}), additive_mask(4, 4, false)}, masked, masked_ref));
    out.push_back(make_case(op, "fully_masked_row", {in({4, 4}), additive_mask(4, 4, true)}, masked, masked_ref));
  }
}

}  // namespace

void add_softmax_ops(std::vector<const OpDef*>& ops) { ops.insert(ops.end(), {&kSoftmax, &kLogSoftmax}); }
void add_softmax_cases(std::vector<GradCase>& out) { cases(out); }

}  // namespace attn
