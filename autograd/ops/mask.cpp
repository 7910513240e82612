// masked_fill and dropout. Dropout draws from a generator passed in by the caller.
#include <fmt/format.h>

#include <cmath>

#include "autograd/gradcheck.hpp"
#include "autograd/ops/registry.hpp"
#include "autograd/ops.hpp"
#include "autograd/ops/kernels.hpp"
#include "autograd/ops/reference.hpp"

namespace attn {
namespace {
const OpDef kMaskedFill("masked_fill"), kDropout("dropout");
}

template <class T>
Tensor<T> masked_fill(const Tensor<T>& x, const Tensor<T>& mask, double value) {
  Graph<T>& g = x.graph();
  g.check(mask, "masked_fill");
  if (broadcast_shapes(x.shape(), mask.shape(), "masked_fill") != x.shape())
    throw Error(fmt::format("masked_fill: mask {} does not broadcast to input {}", mask.shape().str(),
                            x.shape().str()));
  Tensor<T> y = g.make(kMaskedFill, x.shape(), {&x});
  const auto sx = strides_of(x.shape()), sm = broadcast_strides(mask.shape(), x.shape());
  const T *px = x.data(), *pm = mask.data();
  T* py = y.mutable_data();
  const T v = T(value);
  for_each_broadcast(x.shape(), sx, sm, [&](int64_t i, int64_t, int64_t im) { py[i] = pm[im] != T(0) ? v : px[i]; });
  const uint32_t ix = x.index(), imask = mask.index();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    T* gx = g.grad_of(ix);
    const T* pm = g.node(imask).value;
    for_each_broadcast(out.shape, sx, sm, [&](int64_t i, int64_t, int64_t im) {
      if (pm[im] == T(0)) gx[i] += out.grad[i];
    });
  });
  return y;
}

template <class T>
Tensor<T> dropout(const Tensor<T>& x, double p, Rng& rng, bool training) {
  if (!(p >= 0.0 && p < 1.0)) throw Error(fmt::format("dropout: probability {} is outside [0, 1)", p));
  if (!training || p == 0.0) return x;
  Graph<T>& g = x.graph();
  g.check(x, "dropout");
  Tensor<T> y = g.make(kDropout, x.shape(), {&x});
  const int64_t n = x.numel();
  T* keep = g.template scratch<T>(n);  // 0 or 1/(1-p)
  const T scale = T(1.0 / (1.0 - p));
  for (int64_t i = 0; i < n; ++i) keep[i] = rng.uniform() >= p ? scale : T(0);
  const T* px = x.data();
  T* py = y.mutable_data();
  for (int64_t i = 0; i < n; ++i) py[i] = px[i] * keep[i];
  const uint32_t ix = x.index();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    T* gx = g.grad_of(ix);
    for (int64_t i = 0; i < n; ++i) gx[i] += out.grad[i] * keep[i];
  });
  return y;
}

template Tensor<float> masked_fill(const Tensor<float>&, const Tensor<float>&, double);
template Tensor<double> masked_fill(const Tensor<double>&, const Tensor<double>&, double);
template Tensor<float> dropout(const Tensor<float>&, double, Rng&, bool);
template Tensor<double> dropout(const Tensor<double>&, double, Rng&, bool);

// ---------------------------------------------------------------- gradcheck cases
namespace {

InputSpec mask_input(Shape s, std::vector<double> v) {
  InputSpec m;
  m.shape = s;
  m.fixed = std::move(v);
  m.requires_grad = false;
  return m;
}
InputSpec in(Shape s) {
  InputSpec i;
  i.shape = s;
  return i;
}
using Vals = std::vector<std::vector<double>>;

void cases(std::vector<GradCase>& out) {
  out.push_back(make_case("masked_fill", "broadcast_mask", {in({2, 3}), mask_input({3}, {0, 1, 0})},
                          [](auto& x) { return masked_fill(x[0], x[1], 5.0); },
                          [](const Vals& v) { return ref::masked_fill({2, 3}, {3}, v[0], v[1], 5.0); }));
  // -inf fill followed by softmax, with the second row masked entirely.
  out.push_back(make_case("masked_fill", "neg_inf_fully_masked_row",
                          {in({2, 3}), mask_input({2, 3}, {0, 1, 0, 1, 1, 1})},
                          [](auto& x) { return softmax(masked_fill(x[0], x[1], -INFINITY)); },
                          [](const Vals& v) {
                            return ref::softmax(ref::masked_fill({2, 3}, {2, 3}, v[0], v[1], -INFINITY), 3, false);
                          }));
  // Re-seeded on every evaluation, so the central differences see the same mask.
  // The mask is the generator's draws (the spec); the oracle only applies it.
  auto drop_ref = [](const Vals& v) {
    Rng rng(7);
    std::vector<double> keep(v[0].size());
    for (double& k : keep) k = rng.uniform() >= 0.3 ? 1 / 0.7 : 0.0;
    return ref::mul(v[0], keep);
  };
  out.push_back(make_case("dropout", "p0.3_reseeded", {in({4, 5})},
                          [](auto& x) {
                            Rng rng(7);
                            return dropout(x[0], 0.3, rng);
                          },
                          drop_ref));
}

}  // namespace

void add_mask_ops(std::vector<const OpDef*>& ops) { ops.insert(ops.end(), {&kMaskedFill, &kDropout}); }
void add_mask_cases(std::vector<GradCase>& out) { cases(out); }

}  // namespace attn
