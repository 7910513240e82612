// Private to the op files: softmax's row kernels, shared by softmax.cpp, attention.cpp and
// cross_entropy.cpp, and the vectorised float loops behind them, compiled once per
// instruction set (isa.hpp).
#pragma once
#include <cstdint>

namespace attn {

// One row: y = softmax(x) (y may alias x). Returns false for a fully masked row (y set to 0).
// With `stats`, also stores the row's max and 1/sum, so that softmax_row_replay rebuilds y bit
// for bit: attention recomputes its probabilities in backward instead of keeping them.
template <class T>
bool softmax_row(const T* x, T* y, int64_t n, T* stats);
template <class T>
void softmax_row_replay(const T* x, T* y, int64_t n, const T* stats);
template <>
bool softmax_row<float>(const float* x, float* y, int64_t n, float* stats);
template <>
void softmax_row_replay<float>(const float* x, float* y, int64_t n, const float* stats);

// max(x[0..n)), and y = exp(x - m) returning sum(y) (y may alias x), on the vectorised loops for
// float: the tiled attention's online softmax (attention_tiled.cpp).
template <class T>
T row_max_of(const T* x, int64_t n);
template <class T>
T exp_row(const T* x, T* y, int64_t n, T m);
template <>
float row_max_of<float>(const float* x, int64_t n);
template <>
float exp_row<float>(const float* x, float* y, int64_t n, float m);

// log(sum(exp(x))) of one row, max-shifted: m + log(sum exp(x - m)); -inf for a fully masked
// row. log_softmax and cross_entropy both use it, so their rows agree bit for bit.
template <class T>
T row_logsumexp(const T* x, int64_t n);

// max(x[0..n)), and y = exp(x - m) returning sum(y). One set per instruction set, with the same
// arithmetic in forward and replay.
#define ATTN_DECLARE_ROW_KERNELS                        \
  float row_max(const float* x, int64_t n);             \
  float exp_shifted(const float* x, float* y, int64_t n, float m);
namespace simd_avx2 {
ATTN_DECLARE_ROW_KERNELS
}
namespace simd_avx512 {
ATTN_DECLARE_ROW_KERNELS
}
#undef ATTN_DECLARE_ROW_KERNELS

}  // namespace attn
