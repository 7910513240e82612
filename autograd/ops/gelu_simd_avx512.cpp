// GELU's float loops for AVX-512, built with ATTNLAB_AVX512_FLAGS (autograd/CMakeLists.txt) and
// called only when isa() says so.
#include <xsimd/xsimd.hpp>

#include "autograd/ops/gelu_rows.hpp"

namespace attn::simd_avx512 {
using SimdArch = xsimd::avx512bw;
#include "autograd/ops/gelu_simd.inl"
}  // namespace attn::simd_avx512
