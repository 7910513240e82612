// The vectorised float loops of softmax_rows.hpp, for one xsimd architecture. Included by
// softmax_simd_<isa>.cpp inside namespace attn::simd_<isa>, with SimdArch defined. Plain
// comparisons instead of std::max: an inline std:: template instantiated here could be picked by
// the linker for code built for AVX2.
using FloatBatch = xsimd::batch<float, SimdArch>;
constexpr int64_t kW = (int64_t)FloatBatch::size;

float row_max(const float* x, int64_t n) {
  const int64_t nv = n - n % kW;
  float m = -std::numeric_limits<float>::infinity();
  if (nv) {
    FloatBatch mv(m);
    for (int64_t j = 0; j < nv; j += kW) mv = xsimd::max(mv, FloatBatch::load_unaligned(x + j));
    alignas(64) float lanes[kW];
    mv.store_aligned(lanes);
    for (int64_t j = 0; j < kW; ++j) m = lanes[j] > m ? lanes[j] : m;
  }
  for (int64_t j = nv; j < n; ++j) m = x[j] > m ? x[j] : m;
  return m;
}

float exp_shifted(const float* x, float* y, int64_t n, float m) {
  const int64_t nv = n - n % kW;
  FloatBatch sv(0.0f);
  const FloatBatch mb(m);
  for (int64_t j = 0; j < nv; j += kW) {
    const FloatBatch e = xsimd::exp(FloatBatch::load_unaligned(x + j) - mb);
    e.store_unaligned(y + j);
    sv += e;
  }
  float s = nv ? xsimd::hadd(sv) : 0.0f;
  for (int64_t j = nv; j < n; ++j) s += (y[j] = ::expf(x[j] - m));
  return s;
}
