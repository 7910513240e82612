// Private to the attention op (attention.cpp): its tiled kernel, forward and backward.
#pragma once
#include <cstdint>

namespace attn {

template <class T>
class Graph;

// One attention call's sizes, heads packed in [B, T, D] with D = H * Dh, and its masks: key
// padding (B*Tk bytes or null), ALiBi slopes (H or null), causality and the query offset.
// q's rows (and dq's) are ldq apart, k's and v's (and their gradients') ldkv apart: D for
// separate tensors, 3D or 2D when they are column blocks of one projection. out's are D apart.
struct AttentionShape {
  int64_t B, Tq, Tk, D, H, Dh, ldq, ldkv;
  const uint8_t* pad;
  const double* slopes;
  bool causal;
  int64_t offset;
};

// Streams blocks of `k_block` keys past blocks of `q_block` queries through an online softmax
// (FlashAttention, Dao et al. 2022): no Tq x Tk matrix exists, only a q_block x k_block tile per
// thread. Writes out and, when stats is not null, each row's max and 1/sum (B*H*Tq*2).
template <class T>
void tiled_attention_forward(Graph<T>& g, const AttentionShape& s, int64_t q_block, int64_t k_block, const T* q,
                             const T* k, const T* v, T* out, T* stats);

// Recomputes each tile's probabilities from the row statistics and accumulates dq, dk and dv
// (each may be null), one (batch, head) per thread.
template <class T>
void tiled_attention_backward(Graph<T>& g, const AttentionShape& s, int64_t q_block, int64_t k_block, const T* q,
                              const T* k, const T* v, const T* out, const T* dout, const T* stats, T* dq, T* dk,
                              T* dv);

}  // namespace attn
