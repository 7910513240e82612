// softmax's float row loops for AVX-512, built with ATTNLAB_AVX512_FLAGS (autograd/CMakeLists.txt)
// and called only when isa() says so. .ci/check_isa.sh allows AVX-512 code only in this
// namespace and in xsimd's avx512 instantiations.
#include <xsimd/xsimd.hpp>

#include <cmath>
#include <limits>

#include "autograd/ops/softmax_rows.hpp"

namespace attn::simd_avx512 {
using SimdArch = xsimd::avx512bw;
#include "autograd/ops/softmax_simd.inl"
}  // namespace attn::simd_avx512
