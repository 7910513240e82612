// MultiHeadAttention with PyTorch's packed input projection (in_proj_weight [3D, D],
// in_proj_bias [3D]) and out_proj, for self- and cross-attention.
#pragma once
#include "nn/layers.hpp"

namespace attn {

// Positions that live inside self-attention rather than in the embeddings: RoPE rotates q and k
// (Su et al. 2021), ALiBi biases the scores by distance (Press et al. 2022). Set by the model.
struct AttentionPositions {
  double rope_base = 0;              // > 0: rotate q and k with theta_i = base^(-2i/Dh)
  std::vector<double> alibi_slopes;  // empty, or one slope per head
};

template <class T>
class MultiHeadAttention : public Module<T> {
 public:
  // Init as nn.MultiheadAttention: xavier-uniform in_proj_weight, zero biases, out_proj as a
  // Linear (nn.Transformer then re-initialises its matrices with xavier-uniform).
  MultiHeadAttention(int64_t d_model, int heads, Rng& rng);
  // query [B, Tq, D]; key and value [B, Tk, D], all from position 0.
  // With `residual` defined, returns residual + attention, the add fused into out_proj.
  Tensor<T> forward(Graph<T>& g, const Tensor<T>& query, const Tensor<T>& key, const Tensor<T>& value,
                    const AttentionMask& mask = {}, const Tensor<T>& residual = {});
  // Projections on their own, for decoding with a key/value cache: 0 = q, 1 = k, 2 = v. With
  // RoPE, q and k are rotated as rows at positions first_pos, first_pos + 1, ...
  Tensor<T> project(Graph<T>& g, const Tensor<T>& x, int which, int64_t first_pos = 0);
  // Adds the ALiBi slopes, if any, to `mask` (whose query_offset places the queries).
  Tensor<T> attend(Graph<T>& g, const Tensor<T>& q, const Tensor<T>& k, const Tensor<T>& v,
                   const AttentionMask& mask, const Tensor<T>& residual = {});

  int64_t d_model;
  int heads;
  Parameter<T>& in_proj_weight;
  Parameter<T>& in_proj_bias;
  Linear<T> out_proj;
  AttentionPositions positions;
  // When set, each forward keeps its per-head weights [B, H, Tq, Tk] here (until graph reset).
  bool keep_weights = false;
  Tensor<T> last_weights;
  // Head ablation (Michel et al. 2019): empty, or one flag per head; a head flagged 1 has its
  // output zeroed before out_proj.
  std::vector<uint8_t> zeroed_heads;

 private:
  Tensor<T> head_mask(Graph<T>& g) const;
  AttentionMask positioned(const AttentionMask& mask) const;  // with the ALiBi slopes, if any
  Tensor<T> finish(Graph<T>& g, AttentionResult<T> r, const Tensor<T>& residual);  // weights, ablation, out_proj
};

}  // namespace attn
