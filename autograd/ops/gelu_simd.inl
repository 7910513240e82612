// GELU's vectorised float loops for one xsimd architecture. Included by gelu_simd_<isa>.cpp
// inside namespace attn::simd_<isa>, with SimdArch defined. A tail shorter than a vector goes
// through the same vector code in a zero-padded buffer, so an element gets the same bits
// wherever a split (threads, rows) puts it. Plain loops, not std:: templates, which the linker
// could take from the AVX-512 build.
using GeluBatch = xsimd::batch<float, SimdArch>;
constexpr int64_t kGeluW = (int64_t)GeluBatch::size;
constexpr float kRsqrt2 = 0.70710678118654752440f, kRsqrt2Pi = 0.39894228040143267794f;

inline GeluBatch gelu_cdf(GeluBatch v) { return GeluBatch(0.5f) * (GeluBatch(1.0f) + xsimd::erf(v * GeluBatch(kRsqrt2))); }

// gelu'(x) = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
inline GeluBatch gelu_slope(GeluBatch v, GeluBatch cdf) {
  return cdf + v * GeluBatch(kRsqrt2Pi) * xsimd::exp(GeluBatch(-0.5f) * v * v);
}

void gelu_forward(const float* x, float* y, float* cdf, int64_t n) {
  int64_t j = 0;
  for (; j + kGeluW <= n; j += kGeluW) {
    const GeluBatch v = GeluBatch::load_unaligned(x + j), p = gelu_cdf(v);
    p.store_unaligned(cdf + j);
    (v * p).store_unaligned(y + j);
  }
  if (j == n) return;
  alignas(64) float bx[kGeluW] = {}, bp[kGeluW];
  for (int64_t i = 0; i < n - j; ++i) bx[i] = x[j + i];
  const GeluBatch v = GeluBatch::load_aligned(bx), p = gelu_cdf(v);
  p.store_aligned(bp);
  (v * p).store_aligned(bx);
  for (int64_t i = 0; i < n - j; ++i) y[j + i] = bx[i], cdf[j + i] = bp[i];
}

// gx = go * gelu'(x), plus gx when accumulating. Each vector of x and cdf is loaded before gx's
// is stored, so gx may alias either.
void gelu_backward(const float* x, const float* cdf, const float* go, float* gx, int64_t n, bool accumulate) {
  int64_t j = 0;
  for (; j + kGeluW <= n; j += kGeluW) {
    const GeluBatch slope = gelu_slope(GeluBatch::load_unaligned(x + j), GeluBatch::load_unaligned(cdf + j));
    const GeluBatch dy = GeluBatch::load_unaligned(go + j) * slope;
    (accumulate ? dy + GeluBatch::load_unaligned(gx + j) : dy).store_unaligned(gx + j);
  }
  if (j == n) return;
  alignas(64) float bx[kGeluW] = {}, bp[kGeluW] = {}, bg[kGeluW] = {};
  for (int64_t i = 0; i < n - j; ++i) bx[i] = x[j + i], bp[i] = cdf[j + i], bg[i] = go[j + i];
  (GeluBatch::load_aligned(bg) * gelu_slope(GeluBatch::load_aligned(bx), GeluBatch::load_aligned(bp))).store_aligned(bx);
  for (int64_t i = 0; i < n - j; ++i) gx[j + i] = accumulate ? gx[j + i] + bx[i] : bx[i];
}
