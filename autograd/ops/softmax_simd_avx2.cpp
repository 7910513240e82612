// softmax's float row loops for AVX2 + FMA (the build's baseline).
#include <xsimd/xsimd.hpp>

#include <cmath>
#include <limits>

#include "autograd/ops/softmax_rows.hpp"

namespace attn::simd_avx2 {
using SimdArch = xsimd::fma3<xsimd::avx2>;
#include "autograd/ops/softmax_simd.inl"
}  // namespace attn::simd_avx2
