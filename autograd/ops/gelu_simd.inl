// GELU's vectorised float loops for one xsimd architecture. Included by gelu_simd_<isa>.cpp
// inside namespace attn::simd_<isa>, with SimdArch defined. The tails call the C library's erff
// and expf, not std:: templates (which the linker could take from the AVX-512 build).
using GeluBatch = xsimd::batch<float, SimdArch>;
constexpr int64_t kGeluW = (int64_t)GeluBatch::size;
constexpr float kRsqrt2 = 0.70710678118654752440f, kRsqrt2Pi = 0.39894228040143267794f;

void gelu_forward(const float* x, float* y, int64_t n) {
  const GeluBatch half(0.5f), one(1.0f), r(kRsqrt2);
  int64_t j = 0;
  for (; j + kGeluW <= n; j += kGeluW) {
    const GeluBatch v = GeluBatch::load_unaligned(x + j);
    (half * v * (one + xsimd::erf(v * r))).store_unaligned(y + j);
  }
  for (; j < n; ++j) y[j] = 0.5f * x[j] * (1.0f + ::erff(x[j] * kRsqrt2));
}

// gelu'(x) = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
// (gx = go * gelu'(x) when not accumulating: each vector of x is loaded before gx's is stored,
// so gx may alias x.)
void gelu_backward(const float* x, const float* go, float* gx, int64_t n, bool accumulate) {
  const GeluBatch half(0.5f), one(1.0f), r(kRsqrt2), c(kRsqrt2Pi);
  int64_t j = 0;
  for (; j + kGeluW <= n; j += kGeluW) {
    const GeluBatch v = GeluBatch::load_unaligned(x + j);
    const GeluBatch d = half * (one + xsimd::erf(v * r)) + v * c * xsimd::exp(-half * v * v);
    const GeluBatch dy = GeluBatch::load_unaligned(go + j) * d;
    (accumulate ? dy + GeluBatch::load_unaligned(gx + j) : dy).store_unaligned(gx + j);
  }
  for (; j < n; ++j) {
    const float d = go[j] * (0.5f * (1.0f + ::erff(x[j] * kRsqrt2)) + x[j] * kRsqrt2Pi * ::expf(-0.5f * x[j] * x[j]));
    gx[j] = accumulate ? gx[j] + d : d;
  }
}
