// Private to the op files: GELU's loops, gelu(x) = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, as
// PyTorch's exact (non-tanh) GELU. float runs xsimd's erf and exp on every element, tails
// included, compiled once per instruction set (isa.hpp): an element's bits do not depend on where
// a split puts it. double runs std::erf, so gradcheck's float64 checks the formula and its
// float32 forward check covers the vector loops.
#pragma once
#include <cstdint>

namespace attn {

// y = gelu(x) and cdf = Phi(x), which backward reads so as not to evaluate erf again.
template <class T>
void gelu_span(const T* x, T* y, T* cdf, int64_t n);
// gx += go * gelu'(x), or gx = go * gelu'(x) when not accumulating (gx may then alias x or cdf).
template <class T>
void gelu_grad_span(const T* x, const T* cdf, const T* go, T* gx, int64_t n, bool accumulate = true);

#define ATTN_DECLARE_GELU_KERNELS                                      \
  void gelu_forward(const float* x, float* y, float* cdf, int64_t n); \
  void gelu_backward(const float* x, const float* cdf, const float* go, float* gx, int64_t n, bool accumulate);
namespace simd_avx2 {
ATTN_DECLARE_GELU_KERNELS
}
namespace simd_avx512 {
ATTN_DECLARE_GELU_KERNELS
}
#undef ATTN_DECLARE_GELU_KERNELS

}  // namespace attn
