// Shapes and the engine's error type.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

namespace attn {

// Misuse of the engine: a shape mismatch, a bad axis, a tensor from another graph. The message
// names the op and the shapes involved.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

constexpr int kMaxDims = 6;

// Dimensions of a contiguous row-major tensor; at most kMaxDims of them.
class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int ndim() const { return nd_; }
  int64_t operator[](int i) const { return d_[i]; }
  int64_t& operator[](int i) { return d_[i]; }
  int64_t numel() const;
  // Size of `axis`, which may be negative (counted from the end).
  int64_t size(int axis) const;
  // Normalises a possibly negative axis; throws naming `op` when out of range.
  int axis(int axis, const char* op) const;
  std::vector<int64_t> vec() const { return {d_, d_ + nd_}; }
  std::string str() const;  // "[2, 3, 4]"
  void push_back(int64_t n);
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }

 private:
  int64_t d_[kMaxDims] = {};
  int nd_ = 0;
};

// Row-major strides (in elements) of a shape.
std::vector<int64_t> strides_of(const Shape& s);

// NumPy broadcast of two shapes; throws naming `op` when they are incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace attn
