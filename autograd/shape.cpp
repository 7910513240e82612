#include "autograd/shape.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace attn {

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::vector<int64_t>(dims)) {}

Shape::Shape(const std::vector<int64_t>& dims) {
  if (dims.size() > (size_t)kMaxDims)
    throw Error(fmt::format("shape {} has {} dimensions; at most {} are supported",
                            fmt::join(dims, ", "), dims.size(), kMaxDims));
  for (int64_t n : dims) push_back(n);
}

void Shape::push_back(int64_t n) {
  if (nd_ == kMaxDims) throw Error(fmt::format("shape {}: at most {} dimensions", str(), kMaxDims));
  if (n < 0) throw Error(fmt::format("shape {} + [{}]: negative dimension", str(), n));
  d_[nd_++] = n;
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < nd_; ++i) n *= d_[i];
  return n;
}

int Shape::axis(int a, const char* op) const {
  const int r = a < 0 ? a + nd_ : a;
  if (r < 0 || r >= nd_)
    throw Error(fmt::format("{}: axis {} is out of range for shape {}", op, a, str()));
  return r;
}

int64_t Shape::size(int a) const { return d_[axis(a, "size")]; }

std::string Shape::str() const {
  return fmt::format("[{}]", fmt::join(d_, d_ + nd_, ", "));
}

bool Shape::operator==(const Shape& o) const {
  if (nd_ != o.nd_) return false;
  for (int i = 0; i < nd_; ++i)
    if (d_[i] != o.d_[i]) return false;
  return true;
}

std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.ndim());
  int64_t acc = 1;
  for (int i = s.ndim() - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const int nd = std::max(a.ndim(), b.ndim());
  std::vector<int64_t> out(nd);
  for (int i = 0; i < nd; ++i) {
    const int ia = a.ndim() - nd + i, ib = b.ndim() - nd + i;
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      throw Error(fmt::format("{}: shapes {} and {} cannot be broadcast together", op, a.str(),
                              b.str()));
    out[i] = da == 1 ? db : da;
  }
  return Shape(out);
}

}  // namespace attn
