// MultiHeadAttention with PyTorch's packed input projection (in_proj_weight [3D, D],
// in_proj_bias [3D]) and out_proj, for self- and cross-attention.
#pragma once
#include "nn/layers.hpp"

namespace attn {

template <class T>
class MultiHeadAttention : public Module<T> {
 public:
  // Init as nn.MultiheadAttention: xavier-uniform in_proj_weight, zero biases, out_proj as a
  // Linear (nn.Transformer then re-initialises its matrices with xavier-uniform).
  MultiHeadAttention(int64_t d_model, int heads, Rng& rng);
  // query [B, Tq, D]; key and value [B, Tk, D].
  // With `residual` defined, returns residual + attention, the add fused into out_proj.
  Tensor<T> forward(Graph<T>& g, const Tensor<T>& query, const Tensor<T>& key, const Tensor<T>& value,
                    const AttentionMask& mask = {}, const Tensor<T>& residual = {});
  // Projections on their own, for decoding with a key/value cache.
  Tensor<T> project(Graph<T>& g, const Tensor<T>& x, int which);  // 0 = q, 1 = k, 2 = v
  Tensor<T> attend(Graph<T>& g, const Tensor<T>& q, const Tensor<T>& k, const Tensor<T>& v,
                   const AttentionMask& mask, const Tensor<T>& residual = {});

  int64_t d_model;
  int heads;
  Parameter<T>& in_proj_weight;
  Parameter<T>& in_proj_bias;
  Linear<T> out_proj;
  // When set, each forward keeps its per-head weights [B, H, Tq, Tk] here (until graph reset).
  bool keep_weights = false;
  Tensor<T> last_weights;
};

}  // namespace attn
