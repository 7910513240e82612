// Reductions over given axes (all axes when none are given), with keepdim.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <limits>

#include "autograd/gradcheck.hpp"
#include "autograd/ops/registry.hpp"
#include "autograd/ops.hpp"
#include "autograd/ops/kernels.hpp"
#include "autograd/ops/reference.hpp"

namespace attn {
namespace {
const OpDef kSum("sum"), kMean("mean"), kMax("max");

struct ReducePlan {
  Shape out;                       // the result's shape
  std::vector<int64_t> in_strides;   // contiguous strides of the input
  std::vector<int64_t> out_strides;  // output offset per input dimension (0 where reduced)
  int64_t count = 1;               // elements reduced into each output
};

ReducePlan plan(const Shape& s, const std::vector<int>& axes, bool keepdim, const char* op) {
  std::vector<bool> red(s.ndim(), axes.empty());
  for (int a : axes) {
    const int ax = s.axis(a, op);
    if (red[ax]) throw Error(fmt::format("{}: axis {} given twice", op, a));
    red[ax] = true;
  }
  ReducePlan p;
  Shape keep;
  for (int i = 0; i < s.ndim(); ++i) {
    keep.push_back(red[i] ? 1 : s[i]);
    if (red[i]) p.count *= s[i];
    if (!red[i] || keepdim) p.out.push_back(red[i] ? 1 : s[i]);
  }
  p.in_strides = strides_of(s);
  p.out_strides = broadcast_strides(keep, s);
  return p;
}

template <class T>
Tensor<T> sum_like(const OpDef& op, const Tensor<T>& x, const std::vector<int>& axes, bool keepdim, T scale) {
  Graph<T>& g = x.graph();
  g.check(x, op.name);
  const ReducePlan p = plan(x.shape(), axes, keepdim, op.name);
  Tensor<T> y = g.make(op, p.out, {&x});
  T* py = y.mutable_data();
  const T* px = x.data();
  std::fill(py, py + y.numel(), T(0));
  for_each_broadcast(x.shape(), p.in_strides, p.out_strides,
                     [&](int64_t, int64_t ix, int64_t iy) { py[iy] += px[ix]; });
  for (int64_t i = 0; i < y.numel(); ++i) py[i] *= scale;
  const uint32_t ixn = x.index();
  const Shape sx = x.shape();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    T* gx = g.grad_of(ixn);
    for_each_broadcast(sx, p.in_strides, p.out_strides,
                       [&](int64_t, int64_t ix, int64_t iy) { gx[ix] += scale * out.grad[iy]; });
  });
  return y;
}

}  // namespace

template <class T>
Tensor<T> sum(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  return sum_like(kSum, x, axes, keepdim, T(1));
}

template <class T>
Tensor<T> mean(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  const int64_t count = plan(x.shape(), axes, keepdim, "mean").count;
  if (count == 0) throw Error(fmt::format("mean: reducing shape {} over empty axes", x.shape().str()));
  return sum_like(kMean, x, axes, keepdim, T(1) / T(count));
}

template <class T>
Tensor<T> max(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  Graph<T>& g = x.graph();
  g.check(x, "max");
  const ReducePlan p = plan(x.shape(), axes, keepdim, "max");
  if (p.count == 0) throw Error(fmt::format("max: reducing shape {} over empty axes", x.shape().str()));
  Tensor<T> y = g.make(kMax, p.out, {&x});
  T* py = y.mutable_data();
  const T* px = x.data();
  int64_t* arg = g.template scratch<int64_t>(y.numel());  // first maximum of each output
  std::fill(py, py + y.numel(), -std::numeric_limits<T>::infinity());
  std::fill(arg, arg + y.numel(), int64_t(-1));
  for_each_broadcast(x.shape(), p.in_strides, p.out_strides, [&](int64_t, int64_t ix, int64_t iy) {
    if (px[ix] > py[iy] || arg[iy] < 0) {
      py[iy] = px[ix];
      arg[iy] = ix;
    }
  });
  const uint32_t ixn = x.index();
  const int64_t n = y.numel();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    T* gx = g.grad_of(ixn);
    for (int64_t i = 0; i < n; ++i) gx[arg[i]] += out.grad[i];
  });
  return y;
}

#define ATTN_INSTANTIATE(T)                                                     \
  template Tensor<T> sum(const Tensor<T>&, const std::vector<int>&, bool);      \
  template Tensor<T> mean(const Tensor<T>&, const std::vector<int>&, bool);     \
  template Tensor<T> max(const Tensor<T>&, const std::vector<int>&, bool);
ATTN_INSTANTIATE(float)
ATTN_INSTANTIATE(double)
#undef ATTN_INSTANTIATE

// ---------------------------------------------------------------- gradcheck cases
namespace {

using Vals = std::vector<std::vector<double>>;

template <class T>
Tensor<T> apply(const std::string& op, const Tensor<T>& x, const std::vector<int>& axes, bool keep) {
  if (op == "sum") return sum(x, axes, keep);
  if (op == "mean") return mean(x, axes, keep);
  return max(x, axes, keep);
}

void cases(std::vector<GradCase>& out) {
  struct C {
    const char* name;
    Shape s;
    std::vector<int> axes;
    bool keep;
  };
  const C cases[] = {
      {"all", {3, 4}, {}, false},
      {"last_keepdim", {2, 3, 4}, {-1}, true},
      {"two_axes", {2, 3, 4}, {0, 2}, false},
      {"size1_batch1", {1, 1, 5}, {1}, false},
  };
  for (const char* op : {"sum", "mean", "max"}) {
    for (const C& c : cases) {
      InputSpec in;
      in.shape = c.s;
      in.distinct = std::string(op) == "max";  // keep max away from ties
      const std::string o = op;
      const std::vector<int> axes = c.axes;
      const bool keep = c.keep;
      const Shape s = c.s;
      out.push_back(make_case(o, c.name, {in}, [=](auto& x) { return apply(o, x[0], axes, keep); },
                              [=](const Vals& v) { return ref::reduce(o.c_str(), s, axes, v[0]); }));
    }
  }
}

}  // namespace

void add_reduce_ops(std::vector<const OpDef*>& ops) { ops.insert(ops.end(), {&kSum, &kMean, &kMax}); }
void add_reduce_cases(std::vector<GradCase>& out) { cases(out); }

}  // namespace attn
