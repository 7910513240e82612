// GELU's loops: float picks the instruction set's vector kernels, double the scalar formula.
#include "autograd/ops/gelu_rows.hpp"

#include <cmath>

#include "autograd/isa.hpp"

namespace attn {
namespace {
constexpr double kInvSqrt2 = 0.70710678118654752440, kInvSqrt2Pi = 0.39894228040143267794;
}

template <>
void gelu_span<double>(const double* x, double* y, double* cdf, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    cdf[i] = 0.5 * (1 + std::erf(x[i] * kInvSqrt2));
    y[i] = x[i] * cdf[i];
  }
}
template <>
void gelu_grad_span<double>(const double* x, const double* cdf, const double* go, double* gx, int64_t n,
                            bool accumulate) {
  for (int64_t i = 0; i < n; ++i) {
    const double d = go[i] * (cdf[i] + x[i] * kInvSqrt2Pi * std::exp(-0.5 * x[i] * x[i]));
    gx[i] = accumulate ? gx[i] + d : d;
  }
}
template <>
void gelu_span<float>(const float* x, float* y, float* cdf, int64_t n) {
  isa() == Isa::avx512 ? simd_avx512::gelu_forward(x, y, cdf, n) : simd_avx2::gelu_forward(x, y, cdf, n);
}
template <>
void gelu_grad_span<float>(const float* x, const float* cdf, const float* go, float* gx, int64_t n, bool accumulate) {
  isa() == Isa::avx512 ? simd_avx512::gelu_backward(x, cdf, go, gx, n, accumulate)
                       : simd_avx2::gelu_backward(x, cdf, go, gx, n, accumulate);
}

}  // namespace attn
