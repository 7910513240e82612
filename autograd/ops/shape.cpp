// Shape ops: reshape (an alias, no copy), permute/transpose, slice, concat and stack.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>
#include <numeric>

#include "autograd/gradcheck.hpp"
#include "autograd/ops/registry.hpp"
#include "autograd/ops.hpp"
#include "autograd/ops/kernels.hpp"
#include "autograd/ops/reference.hpp"

namespace attn {
namespace {
const OpDef kReshape("reshape"), kPermute("permute"), kSlice("slice"), kConcat("concat");

template <class T>
void add_into(T* dst, const T* src, int64_t n) {
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}
}  // namespace

template <class T>
Tensor<T> reshape(const Tensor<T>& x, const std::vector<int64_t>& want) {
  Graph<T>& g = x.graph();
  g.check(x, "reshape");
  Shape s;
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < (int)want.size(); ++i) {
    if (want[i] == -1) {
      if (infer >= 0) throw Error(fmt::format("reshape: more than one -1 in [{}]", fmt::join(want, ", ")));
      infer = i;
    } else {
      known *= want[i];
    }
  }
  std::vector<int64_t> dims = want;
  if (infer >= 0) dims[infer] = known ? x.numel() / known : 0;
  s = Shape(dims);
  if (s.numel() != x.numel())
    throw Error(fmt::format("reshape: cannot view {} ({} elements) as [{}]", x.shape().str(), x.numel(),
                            fmt::join(want, ", ")));
  Tensor<T> y = g.make_alias(kReshape, s, x.mutable_data(), x.requires_grad());
  const uint32_t ix = x.index();
  const int64_t n = x.numel();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) { add_into(g.grad_of(ix), out.grad, n); });
  return y;
}

template <class T>
Tensor<T> permute(const Tensor<T>& x, const std::vector<int>& dims) {
  Graph<T>& g = x.graph();
  g.check(x, "permute");
  const Shape sx = x.shape();
  const int nd = sx.ndim();
  std::vector<int> p(dims.size());
  std::vector<bool> seen(nd, false);
  if ((int)dims.size() != nd)
    throw Error(fmt::format("permute: {} dims given for shape {}", dims.size(), sx.str()));
  for (int i = 0; i < nd; ++i) {
    p[i] = sx.axis(dims[i], "permute");
    if (seen[p[i]]) throw Error(fmt::format("permute: {} is not a permutation", fmt::join(dims, ",")));
    seen[p[i]] = true;
  }
  Shape so;
  for (int i = 0; i < nd; ++i) so.push_back(sx[p[i]]);
  Tensor<T> y = g.make(kPermute, so, {&x});
  // Output element i reads input offset `src`; the strides of the input seen in output order.
  const auto sti = strides_of(sx);
  std::vector<int64_t> st(nd), zero(nd, 0);
  for (int i = 0; i < nd; ++i) st[i] = sti[p[i]];
  const T* px = x.data();
  T* py = y.mutable_data();
  for_each_broadcast(so, st, zero, [&](int64_t i, int64_t src, int64_t) { py[i] = px[src]; });
  const uint32_t ix = x.index();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    T* gx = g.grad_of(ix);
    const T* go = out.grad;
    for_each_broadcast(out.shape, st, zero, [&](int64_t i, int64_t src, int64_t) { gx[src] += go[i]; });
  });
  return y;
}

template <class T>
Tensor<T> transpose(const Tensor<T>& x, int a, int b) {
  std::vector<int> dims(x.ndim());
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[x.shape().axis(a, "transpose")], dims[x.shape().axis(b, "transpose")]);
  return permute(x, dims);
}

template <class T>
Tensor<T> slice(const Tensor<T>& x, int axis, int64_t start, int64_t end) {
  Graph<T>& g = x.graph();
  g.check(x, "slice");
  const Shape sx = x.shape();
  const int ax = sx.axis(axis, "slice");
  if (start < 0 || end > sx[ax] || start > end)
    throw Error(fmt::format("slice: [{}, {}) is out of range for axis {} of shape {}", start, end, axis,
                            sx.str()));
  Shape so = sx;
  so[ax] = end - start;
  Tensor<T> y = g.make(kSlice, so, {&x});
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < ax; ++i) outer *= sx[i];
  for (int i = ax + 1; i < sx.ndim(); ++i) inner *= sx[i];
  const int64_t len = (end - start) * inner, stride = sx[ax] * inner, skip = start * inner;
  const T* px = x.data();
  T* py = y.mutable_data();
  for (int64_t o = 0; o < outer; ++o) std::memcpy(py + o * len, px + o * stride + skip, sizeof(T) * len);
  const uint32_t ix = x.index();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    T* gx = g.grad_of(ix);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < len; ++j) gx[o * stride + skip + j] += out.grad[o * len + j];
  });
  return y;
}

template <class T>
Tensor<T> concat(const std::vector<Tensor<T>>& xs, int axis) {
  if (xs.empty()) throw Error("concat: no tensors given");
  Graph<T>& g = xs[0].graph();
  const Shape s0 = xs[0].shape();
  const int ax = s0.axis(axis, "concat");
  Shape so = s0;
  so[ax] = 0;
  for (const Tensor<T>& x : xs) {
    g.check(x, "concat");
    bool ok = x.ndim() == s0.ndim();
    for (int i = 0; ok && i < s0.ndim(); ++i) ok = i == ax || x.shape()[i] == s0[i];
    if (!ok)
      throw Error(fmt::format("concat: shapes {} and {} differ outside axis {}", s0.str(), x.shape().str(), axis));
    so[ax] += x.shape()[ax];
  }
  Tensor<T> y = g.make(kConcat, so, xs);
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < ax; ++i) outer *= s0[i];
  for (int i = ax + 1; i < s0.ndim(); ++i) inner *= s0[i];
  const int64_t row = so[ax] * inner;
  T* py = y.mutable_data();
  int64_t at = 0;
  std::vector<std::pair<uint32_t, int64_t>> parts;  // (node, width) for backward
  for (const Tensor<T>& x : xs) {
    const int64_t w = x.shape()[ax] * inner;
    for (int64_t o = 0; o < outer; ++o) std::memcpy(py + o * row + at, x.data() + o * w, sizeof(T) * w);
    parts.push_back({x.index(), w});
    at += w;
  }
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    int64_t at = 0;
    for (auto [ix, w] : parts) {
      if (T* gx = g.grad_of(ix))
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t j = 0; j < w; ++j) gx[o * w + j] += out.grad[o * row + at + j];
      at += w;
    }
  });
  return y;
}

template <class T>
Tensor<T> stack(const std::vector<Tensor<T>>& xs, int axis) {
  if (xs.empty()) throw Error("stack: no tensors given");
  const Shape s0 = xs[0].shape();
  const int ax = axis < 0 ? axis + s0.ndim() + 1 : axis;
  if (ax < 0 || ax > s0.ndim())
    throw Error(fmt::format("stack: axis {} is out of range for shape {}", axis, s0.str()));
  std::vector<Tensor<T>> parts;
  for (const Tensor<T>& x : xs) {
    if (x.shape() != s0)
      throw Error(fmt::format("stack: shapes {} and {} differ", s0.str(), x.shape().str()));
    std::vector<int64_t> d = x.shape().vec();
    d.insert(d.begin() + ax, 1);
    parts.push_back(reshape(x, d));
  }
  return concat(parts, ax);
}

#define ATTN_INSTANTIATE(T)                                                 \
  template Tensor<T> reshape(const Tensor<T>&, const std::vector<int64_t>&); \
  template Tensor<T> permute(const Tensor<T>&, const std::vector<int>&);    \
  template Tensor<T> transpose(const Tensor<T>&, int, int);                 \
  template Tensor<T> slice(const Tensor<T>&, int, int64_t, int64_t);        \
  template Tensor<T> concat(const std::vector<Tensor<T>>&, int);            \
  template Tensor<T> stack(const std::vector<Tensor<T>>&, int);
ATTN_INSTANTIATE(float)
ATTN_INSTANTIATE(double)
#undef ATTN_INSTANTIATE

// ---------------------------------------------------------------- gradcheck cases
namespace {

InputSpec in(Shape s) {
  InputSpec i;
  i.shape = s;
  return i;
}
using Vals = std::vector<std::vector<double>>;

void cases(std::vector<GradCase>& out) {
  out.push_back(make_case("reshape", "split_heads", {in({2, 3, 4})},
                          [](auto& x) { return reshape(x[0], {2, 3, 2, -1}) * 2.0; },
                          [](const Vals& v) { return ref::unary(v[0], [](double a) { return 2 * a; }); }));
  out.push_back(make_case("reshape", "flatten_reused", {in({2, 3})},
                          [](auto& x) { return reshape(x[0], {6}) * reshape(x[0], {6}); },
                          [](const Vals& v) { return ref::unary(v[0], [](double a) { return a * a; }); }));
  out.push_back(make_case("permute", "heads_0213", {in({2, 3, 2, 4})},
                          [](auto& x) { return permute(x[0], {0, 2, 1, 3}); },
                          [](const Vals& v) { return ref::permute({2, 3, 2, 4}, {0, 2, 1, 3}, v[0]); }));
  out.push_back(make_case("permute", "transpose_2d", {in({3, 5})}, [](auto& x) { return transpose(x[0], 0, 1); },
                          [](const Vals& v) { return ref::permute({3, 5}, {1, 0}, v[0]); }));
  out.push_back(make_case("permute", "cycle_size1", {in({1, 3, 2})},
                          [](auto& x) { return permute(x[0], {2, 0, 1}); },
                          [](const Vals& v) { return ref::permute({1, 3, 2}, {2, 0, 1}, v[0]); }));
  auto ref_slice = [](Shape s, int ax, int64_t a, int64_t b) {
    return [=](const Vals& v) { return ref::slice(s, ax, a, b, v[0]); };
  };
  out.push_back(make_case("slice", "middle_axis", {in({2, 5, 3})}, [](auto& x) { return slice(x[0], 1, 1, 4); },
                          ref_slice({2, 5, 3}, 1, 1, 4)));
  out.push_back(make_case("slice", "last_axis_gates", {in({3, 8})}, [](auto& x) { return slice(x[0], -1, 6, 8); },
                          ref_slice({3, 8}, 1, 6, 8)));
  out.push_back(make_case("slice", "overlapping_reused", {in({4, 3})},
                          [](auto& x) { return slice(x[0], 0, 0, 3) * slice(x[0], 0, 1, 4); },
                          [](const Vals& v) {
                            return ref::mul(ref::slice({4, 3}, 0, 0, 3, v[0]), ref::slice({4, 3}, 0, 1, 4, v[0]));
                          }));
  out.push_back(make_case("concat", "axis1", {in({2, 1, 3}), in({2, 2, 3})},
                          [](auto& x) { return concat(std::vector{x[0], x[1]}, 1); },
                          [](const Vals& v) { return ref::concat({{2, 1, 3}, {2, 2, 3}}, 1, v); }));
  out.push_back(make_case("concat", "last_axis_reused", {in({2, 2}), in({2, 3})},
                          [](auto& x) { return concat(std::vector{x[0], x[1], x[0]}, -1); },
                          [](const Vals& v) { return ref::concat({{2, 2}, {2, 3}, {2, 2}}, 1, {v[0], v[1], v[0]}); }));
  out.push_back(make_case("concat", "stack_axis0", {in({2, 3}), in({2, 3})},
                          [](auto& x) { return stack(std::vector{x[0], x[1]}, 0); },
                          [](const Vals& v) { return ref::stack({2, 3}, 0, v); }));
  out.push_back(make_case("concat", "stack_last", {in({3}), in({3})},
                          [](auto& x) { return stack(std::vector{x[0], x[1]}, -1); },
                          [](const Vals& v) { return ref::stack({3}, -1, v); }));
}

}  // namespace

void add_shape_ops(std::vector<const OpDef*>& ops) {
  ops.insert(ops.end(), {&kReshape, &kPermute, &kSlice, &kConcat});
}
void add_shape_cases(std::vector<GradCase>& out) { cases(out); }

}  // namespace attn
