#include "nn/transformer.hpp"

#include <fmt/format.h>

namespace attn {

template <class T>
FeedForward<T>::FeedForward(const LayerConfig& c, Rng& init_rng, Rng& dropout_rng)
    : linear1(c.d_model, c.ff, true, init_rng),
      linear2(c.ff, c.d_model, true, init_rng),
      dropout(c.dropout, dropout_rng),
      activation(c.activation) {}

template <class T>
Tensor<T> FeedForward<T>::forward(Graph<T>& g, const Tensor<T>& x, const Tensor<T>& residual) {
  Tensor<T> h = activation == Activation::relu ? linear1.forward_relu(g, x) : linear1.forward_gelu(g, x);
  h = dropout.forward(h);
  return residual.defined() ? linear2.forward_add(g, h, residual) : linear2.forward(g, h);
}

// residual + dropout(f(x)). When the dropout is the identity, the add is fused into f's last
// linear (one activation fewer kept per block); otherwise the ops stay separate.
template <class T, class F>
Tensor<T> add_residual(const Tensor<T>& residual, Dropout<T>& drop, F f) {
  if (drop.is_identity()) return f(residual);
  return residual + drop.forward(f(Tensor<T>()));
}

template <class T>
EncoderLayer<T>::EncoderLayer(const LayerConfig& c, Rng& init_rng, Rng& dropout_rng)
    : config(c),
      self_attn(c.d_model, c.heads, init_rng),
      ff(c, init_rng, dropout_rng),
      norm1(c.d_model),
      norm2(c.d_model),
      dropout1(c.dropout, dropout_rng),
      dropout2(c.dropout, dropout_rng) {
  this->add_module("self_attn", self_attn);
  this->add_module("linear1", ff.linear1);
  this->add_module("dropout", ff.dropout);
  this->add_module("linear2", ff.linear2);
  this->add_module("norm1", norm1);
  this->add_module("norm2", norm2);
  this->add_module("dropout1", dropout1);
  this->add_module("dropout2", dropout2);
}

template <class T>
Tensor<T> EncoderLayer<T>::forward(Graph<T>& g, const Tensor<T>& x, const AttentionMask& m, KVCache<T>* cache) {
  // x + dropout(block(a)), with the add fused into the block when it can be.
  auto sa = [&](const Tensor<T>& x, const Tensor<T>& a) {
    return add_residual(x, dropout1, [&](const Tensor<T>& r) {
      if (!cache) return self_attn.forward(g, a, a, a, m, r);
      AttentionMask cm = m;  // the new queries come after the cached keys
      cm.query_offset = cache->len;
      auto [K, V] = cache->append(g, self_attn.project(g, a, 1, cm.query_offset), self_attn.project(g, a, 2));
      return self_attn.attend(g, self_attn.project(g, a, 0, cm.query_offset), K, V, cm, r);
    });
  };
  auto ffb = [&](const Tensor<T>& x, const Tensor<T>& a) {
    return add_residual(x, dropout2, [&](const Tensor<T>& r) { return ff.forward(g, a, r); });
  };
  if (config.norm_first) {
    Tensor<T> h = sa(x, norm1.forward(g, x));
    return ffb(h, norm2.forward(g, h));
  }
  Tensor<T> h = norm1.forward(g, sa(x, x));
  return norm2.forward(g, ffb(h, h));
}

template <class T>
DecoderLayer<T>::DecoderLayer(const LayerConfig& c, Rng& init_rng, Rng& dropout_rng)
    : config(c),
      self_attn(c.d_model, c.heads, init_rng),
      multihead_attn(c.d_model, c.heads, init_rng),
      ff(c, init_rng, dropout_rng),
      norm1(c.d_model),
      norm2(c.d_model),
      norm3(c.d_model),
      dropout1(c.dropout, dropout_rng),
      dropout2(c.dropout, dropout_rng),
      dropout3(c.dropout, dropout_rng) {
  this->add_module("self_attn", self_attn);
  this->add_module("multihead_attn", multihead_attn);
  this->add_module("linear1", ff.linear1);
  this->add_module("dropout", ff.dropout);
  this->add_module("linear2", ff.linear2);
  this->add_module("norm1", norm1);
  this->add_module("norm2", norm2);
  this->add_module("norm3", norm3);
  this->add_module("dropout1", dropout1);
  this->add_module("dropout2", dropout2);
  this->add_module("dropout3", dropout3);
}

template <class T>
void KVCache<T>::reset(int64_t b, int64_t d, int64_t cap) {
  batch = b;
  d_model = d;
  capacity = cap;
  len = mem_len = 0;
  k.assign(b * cap * d, T(0));
  v.assign(b * cap * d, T(0));
  mem_k.clear();
  mem_v.clear();
}

template <class T>
std::pair<Tensor<T>, Tensor<T>> KVCache<T>::append(Graph<T>& g, const Tensor<T>& k_new, const Tensor<T>& v_new) {
  const int64_t B = batch, D = d_model, n = k_new.shape()[1];
  if (len + n > capacity) throw Error(fmt::format("KVCache: {} positions do not fit in {}", len + n, capacity));
  for (int64_t b = 0; b < B; ++b) {
    std::copy(k_new.data() + b * n * D, k_new.data() + (b + 1) * n * D, k.begin() + (b * capacity + len) * D);
    std::copy(v_new.data() + b * n * D, v_new.data() + (b + 1) * n * D, v.begin() + (b * capacity + len) * D);
  }
  len += n;
  Tensor<T> K = g.zeros({B, len, D}), V = g.zeros({B, len, D});
  for (int64_t b = 0; b < B; ++b) {
    std::copy(k.begin() + b * capacity * D, k.begin() + (b * capacity + len) * D, K.mutable_data() + b * len * D);
    std::copy(v.begin() + b * capacity * D, v.begin() + (b * capacity + len) * D, V.mutable_data() + b * len * D);
  }
  return {K, V};
}

template <class T>
Tensor<T> DecoderLayer<T>::forward(Graph<T>& g, const Tensor<T>& x, const Tensor<T>& mem,
                                   const AttentionMask& tm, const AttentionMask& mm, KVCache<T>* cache) {
  // Each block returns x + dropout(block(a)), the add fused into the block when it can be.
  auto sa = [&](const Tensor<T>& x, const Tensor<T>& a) {
    return add_residual(x, dropout1, [&](const Tensor<T>& r) {
      if (!cache) return self_attn.forward(g, a, a, a, tm, r);
      const int64_t pos = cache->len;  // of the newest position; the cache holds only the past
      auto [K, V] = cache->append(g, self_attn.project(g, a, 1, pos), self_attn.project(g, a, 2));
      AttentionMask cm;
      cm.query_offset = pos;
      return self_attn.attend(g, self_attn.project(g, a, 0, pos), K, V, cm, r);
    });
  };
  auto ca = [&](const Tensor<T>& x, const Tensor<T>& a) {
    return add_residual(x, dropout2, [&](const Tensor<T>& r) {
      if (!cache) return multihead_attn.forward(g, a, mem, mem, mm, r);
      if (cache->mem_k.empty()) {  // the memory's keys and values, once per sequence
        cache->mem_len = mem.shape()[1];
        cache->mem_k = multihead_attn.project(g, mem, 1).values();
        cache->mem_v = multihead_attn.project(g, mem, 2).values();
      }
      const Shape s{cache->batch, cache->mem_len, cache->d_model};
      Tensor<T> K = g.tensor(s, cache->mem_k), V = g.tensor(s, cache->mem_v);
      return multihead_attn.attend(g, multihead_attn.project(g, a, 0), K, V, mm, r);
    });
  };
  auto ffb = [&](const Tensor<T>& x, const Tensor<T>& a) {
    return add_residual(x, dropout3, [&](const Tensor<T>& r) { return ff.forward(g, a, r); });
  };
  if (config.norm_first) {
    Tensor<T> h = sa(x, norm1.forward(g, x));
    h = ca(h, norm2.forward(g, h));
    return ffb(h, norm3.forward(g, h));
  }
  Tensor<T> h = norm1.forward(g, sa(x, x));
  h = norm2.forward(g, ca(h, h));
  return norm3.forward(g, ffb(h, h));
}

template <class T>
Encoder<T>::Encoder(const LayerConfig& c, int n, Rng& init_rng, Rng& dropout_rng) : norm(c.d_model) {
  for (int i = 0; i < n; ++i) {
    layers.push_back(std::make_unique<EncoderLayer<T>>(c, init_rng, dropout_rng));
    this->add_module(fmt::format("layers.{}", i), *layers.back());
  }
  this->add_module("norm", norm);
}

template <class T>
Tensor<T> Encoder<T>::forward(Graph<T>& g, const Tensor<T>& x, const AttentionMask& m) {
  Tensor<T> h = x;
  for (auto& l : layers) h = l->forward(g, h, m);
  return norm.forward(g, h);
}

template <class T>
Decoder<T>::Decoder(const LayerConfig& c, int n, Rng& init_rng, Rng& dropout_rng) : norm(c.d_model) {
  for (int i = 0; i < n; ++i) {
    layers.push_back(std::make_unique<DecoderLayer<T>>(c, init_rng, dropout_rng));
    this->add_module(fmt::format("layers.{}", i), *layers.back());
  }
  this->add_module("norm", norm);
}

template <class T>
Tensor<T> Decoder<T>::forward(Graph<T>& g, const Tensor<T>& x, const Tensor<T>& mem, const AttentionMask& tm,
                              const AttentionMask& mm, std::vector<KVCache<T>>* caches) {
  Tensor<T> h = x;
  for (size_t i = 0; i < layers.size(); ++i) h = layers[i]->forward(g, h, mem, tm, mm, caches ? &(*caches)[i] : nullptr);
  return norm.forward(g, h);
}

#define ATTN_INSTANTIATE(T)          \
  template struct KVCache<T>;        \
  template class FeedForward<T>;     \
  template class EncoderLayer<T>;    \
  template class DecoderLayer<T>;    \
  template class Encoder<T>;         \
  template class Decoder<T>;
ATTN_INSTANTIATE(float)
ATTN_INSTANTIATE(double)
#undef ATTN_INSTANTIATE

}  // namespace attn
