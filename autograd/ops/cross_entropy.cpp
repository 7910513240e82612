// Fused cross-entropy over the last axis of logits, as PyTorch's CrossEntropyLoss (mean
// reduction): loss_r = (1 - e) * -log p[t_r] + e/C * sum_c -log p[c], averaged over the rows
// whose target is not ignore_index. With no such row the loss is 0 and no gradient flows.
#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "autograd/gradcheck.hpp"
#include "autograd/ops/reference.hpp"
#include "autograd/ops/registry.hpp"
#include "autograd/ops/softmax_rows.hpp"
#include "autograd/ops.hpp"
#include "autograd/ops/kernels.hpp"

namespace attn {
namespace {
const OpDef kCrossEntropy("cross_entropy");
}

template <class T>
Tensor<T> cross_entropy(const Tensor<T>& logits, const std::vector<int>& targets, int ignore_index,
                        double label_smoothing) {
  Graph<T>& g = logits.graph();
  g.check(logits, "cross_entropy");
  if (logits.ndim() < 1) throw Error("cross_entropy: logits need a class axis");
  const int64_t C = logits.shape()[logits.ndim() - 1], rows = C ? logits.numel() / C : 0;
  if ((int64_t)targets.size() != rows)
    throw Error(fmt::format("cross_entropy: logits {} have {} rows but {} targets were given",
                            logits.shape().str(), rows, targets.size()));
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
    throw Error(fmt::format("cross_entropy: label_smoothing {} is outside [0, 1]", label_smoothing));
  int64_t n = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const int t = targets[r];
    if (t == ignore_index) continue;
    if (t < 0 || t >= C)
      throw Error(fmt::format("cross_entropy: target {} (row {}) is out of range for {} classes", t, r, C));
    ++n;
  }
  Tensor<T> y = g.make(kCrossEntropy, Shape{}, {&logits});
  int* tg = g.template scratch<int>(rows);
  std::memcpy(tg, targets.data(), sizeof(int) * rows);
  T* lse = g.template scratch<T>(rows);  // log-sum-exp of each row
  const T* x = logits.data();
  const T eps = T(label_smoothing), inv_n = n ? T(1) / T(n) : T(0);
  T total = 0;
#pragma omp parallel for reduction(+ : total) if (rows * C > kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    if (tg[r] == ignore_index) continue;
    const T* xr = x + r * C;
    T sum_x = 0;
    for (int64_t j = 0; j < C; ++j) sum_x += xr[j];
    lse[r] = row_logsumexp(xr, C);
    total += (T(1) - eps) * (lse[r] - xr[tg[r]]) + eps * (lse[r] - sum_x / T(C));
  }
  y.mutable_data()[0] = total * inv_n;
  const uint32_t il = logits.index();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    T* gx = g.grad_of(il);
    const T* x = g.node(il).value;
    const T scale = out.grad[0] * inv_n, smooth = eps / T(C);
#pragma omp parallel for if (rows * C > kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      if (tg[r] == ignore_index) continue;
      const T *xr = x + r * C;
      T* gr = gx + r * C;
      for (int64_t j = 0; j < C; ++j) gr[j] += scale * (std::exp(xr[j] - lse[r]) - smooth);
      gr[tg[r]] -= scale * (T(1) - eps);
    }
  });
  return y;
}

template Tensor<float> cross_entropy(const Tensor<float>&, const std::vector<int>&, int, double);
template Tensor<double> cross_entropy(const Tensor<double>&, const std::vector<int>&, int, double);

// ---------------------------------------------------------------- gradcheck cases
namespace {

void cases(std::vector<GradCase>& out) {
  struct C {
    const char* name;
    Shape s;
    std::vector<int> t;
    int ignore;
    double smooth;
  };
  const C cases[] = {
      {"plain", {4, 5}, {0, 3, 4, 1}, -100, 0.0},
      {"ignore_index", {2, 3, 4}, {1, 0, 3, 0, 2, 0}, 0, 0.0},
      {"label_smoothing", {3, 6}, {5, 2, 0}, -100, 0.1},
      {"ignore_and_smoothing", {4, 3}, {2, -1, 1, -1}, -1, 0.25},
      {"batch1", {1, 7}, {6}, -100, 0.0},
      {"all_ignored", {2, 3}, {0, 0}, 0, 0.1},
  };
  for (const C& c : cases) {
    InputSpec in;
    in.shape = c.s;
    in.lo = -3;
    in.hi = 3;
    const std::vector<int> t = c.t;
    const int ig = c.ignore;
    const double sm = c.smooth;
    const int64_t classes = c.s[c.s.ndim() - 1];
    out.push_back(make_case("cross_entropy", c.name, {in}, [=](auto& x) { return cross_entropy(x[0], t, ig, sm); },
                            [=](const std::vector<std::vector<double>>& v) { return ref::cross_entropy(v[0], classes, t, ig, sm); }));
  }
}

}  // namespace

void add_cross_entropy_ops(std::vector<const OpDef*>& ops) { ops.insert(ops.end(), {&kCrossEntropy}); }
void add_cross_entropy_cases(std::vector<GradCase>& out) { cases(out); }

}  // namespace attn
