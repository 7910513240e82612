// GELU's float loops for AVX2 + FMA (the build's baseline).
#include <xsimd/xsimd.hpp>

#include "autograd/ops/gelu_rows.hpp"

namespace attn::simd_avx2 {
using SimdArch = xsimd::fma3<xsimd::avx2>;
#include "autograd/ops/gelu_simd.inl"
}  // namespace attn::simd_avx2
