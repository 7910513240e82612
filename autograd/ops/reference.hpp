// Naive forward references for gradcheck cases: plain loops over multi-indices, written without
// the kernels' tricks so that a kernel bug cannot hide in both.
#pragma once
#include <functional>
#include <vector>

#include "autograd/shape.hpp"

namespace attn::ref {

// Decodes flat index i of shape s into a multi-index.
inline std::vector<int64_t> unravel(int64_t i, const Shape& s) {
  std::vector<int64_t> idx(s.ndim());
  for (int d = s.ndim() - 1; d >= 0; --d) {
    idx[d] = s[d] ? i % s[d] : 0;
    i = s[d] ? i / s[d] : 0;
  }
  return idx;
}

// Flat index in `in` of the element that broadcasts to multi-index `idx` of a larger shape.
inline int64_t broadcast_index(const std::vector<int64_t>& idx, const Shape& in) {
  int64_t flat = 0;
  const int off = (int)idx.size() - in.ndim();
  for (int d = 0; d < in.ndim(); ++d) flat = flat * in[d] + (in[d] == 1 ? 0 : idx[off + d]);
  return flat;
}

inline std::vector<double> binary(const Shape& sa, const Shape& sb, const std::vector<double>& a,
                                  const std::vector<double>& b,
                                  const std::function<double(double, double)>& f) {
  const Shape out = broadcast_shapes(sa, sb, "reference");
  std::vector<double> y(out.numel());
  for (int64_t i = 0; i < out.numel(); ++i) {
    const auto idx = unravel(i, out);
    y[i] = f(a[broadcast_index(idx, sa)], b[broadcast_index(idx, sb)]);
  }
  return y;
}

inline std::vector<double> unary(const std::vector<double>& x, const std::function<double(double)>& f) {
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = f(x[i]);
  return y;
}

}  // namespace attn::ref
