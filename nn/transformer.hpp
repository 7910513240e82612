// Encoder and decoder layers and stacks with the names and computation of PyTorch's
// nn.TransformerEncoderLayer / nn.TransformerDecoderLayer (batch_first), pre-LN (norm_first)
// or post-LN. Each stack ends in a final LayerNorm, as nn.Transformer's.
#pragma once
#include <memory>

#include "nn/attention.hpp"

namespace attn {

struct LayerConfig {
  int64_t d_model = 64;
  int heads = 4;
  int64_t ff = 256;
  double dropout = 0.0;
  bool norm_first = true;
  Activation activation = Activation::relu;
};

// linear2(dropout(act(linear1(x)))), the feed-forward block.
template <class T>
class FeedForward : public Module<T> {
 public:
  FeedForward(const LayerConfig& c, Rng& init_rng, Rng& dropout_rng);
  // With `residual` defined, returns residual + the block, the add fused into linear2.
  Tensor<T> forward(Graph<T>& g, const Tensor<T>& x, const Tensor<T>& residual = {});
  Linear<T> linear1, linear2;
  Dropout<T> dropout;
  Activation activation;
};

// Keys and values a layer has already computed, for incremental decoding: the self-attention
// keys/values of every position so far, and (in a decoder layer) the cross-attention
// keys/values of the memory. Plain buffers, so that the graph can be reset between decoding steps.
template <class T>
struct KVCache {
  int64_t batch = 0, d_model = 0, len = 0, capacity = 0;
  std::vector<T> k, v;            // [B, capacity, D]
  int64_t mem_len = 0;
  std::vector<T> mem_k, mem_v;    // [B, S, D], filled on first use
  // Empties the cache and sizes it for `capacity` positions.
  void reset(int64_t batch, int64_t d_model, int64_t capacity);
  // Appends k_new, v_new [B, n, D]; returns the keys and values so far as [B, len, D] tensors.
  std::pair<Tensor<T>, Tensor<T>> append(Graph<T>& g, const Tensor<T>& k_new, const Tensor<T>& v_new);
};

template <class T>
class EncoderLayer : public Module<T> {
 public:
  EncoderLayer(const LayerConfig& c, Rng& init_rng, Rng& dropout_rng);
  // With `cache` (a decoder-only model decoding), x holds only the newest positions; their
  // keys and values are appended to the cache and the queries, placed after the cached
  // positions (query_offset), attend over all of it under `src_mask`.
  Tensor<T> forward(Graph<T>& g, const Tensor<T>& x, const AttentionMask& src_mask, KVCache<T>* cache = nullptr);
  LayerConfig config;
  MultiHeadAttention<T> self_attn;
  FeedForward<T> ff;  // its parameters are named linear1.*, linear2.* as in PyTorch
  LayerNorm<T> norm1, norm2;
  Dropout<T> dropout1, dropout2;
};


template <class T>
class DecoderLayer : public Module<T> {
 public:
  DecoderLayer(const LayerConfig& c, Rng& init_rng, Rng& dropout_rng);
  // With `cache`, x holds only the newest position [B, 1, D]; keys and values of earlier
  // positions come from the cache (tgt_mask is then unused: the cache holds only the past).
  Tensor<T> forward(Graph<T>& g, const Tensor<T>& x, const Tensor<T>& memory, const AttentionMask& tgt_mask,
                    const AttentionMask& memory_mask, KVCache<T>* cache = nullptr);
  LayerConfig config;
  MultiHeadAttention<T> self_attn, multihead_attn;
  FeedForward<T> ff;
  LayerNorm<T> norm1, norm2, norm3;
  Dropout<T> dropout1, dropout2, dropout3;
};

template <class T>
class Encoder : public Module<T> {
 public:
  Encoder(const LayerConfig& c, int num_layers, Rng& init_rng, Rng& dropout_rng);
  Tensor<T> forward(Graph<T>& g, const Tensor<T>& x, const AttentionMask& src_mask);
  std::vector<std::unique_ptr<EncoderLayer<T>>> layers;
  LayerNorm<T> norm;
};

template <class T>
class Decoder : public Module<T> {
 public:
  Decoder(const LayerConfig& c, int num_layers, Rng& init_rng, Rng& dropout_rng);
  // `caches`, when given, has one entry per layer (see DecoderLayer::forward).
  Tensor<T> forward(Graph<T>& g, const Tensor<T>& x, const Tensor<T>& memory, const AttentionMask& tgt_mask,
                    const AttentionMask& memory_mask, std::vector<KVCache<T>>* caches = nullptr);
  std::vector<std::unique_ptr<DecoderLayer<T>>> layers;
  LayerNorm<T> norm;
};

}  // namespace attn
