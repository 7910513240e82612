#include "nn/attention.hpp"

#include <fmt/format.h>

namespace attn {

template <class T>
MultiHeadAttention<T>::MultiHeadAttention(int64_t d, int h, Rng& rng)
    : d_model(d),
      heads(h),
      in_proj_weight(this->add_parameter("in_proj_weight", {3 * d, d})),
      in_proj_bias(this->add_parameter("in_proj_bias", {3 * d})),
      out_proj(d, d, true, rng) {
  if (h < 1 || d % h != 0)
    throw Error(fmt::format("MultiHeadAttention: d_model {} is not divisible by {} heads", d, h));
  this->add_module("out_proj", out_proj);
  init_xavier_uniform(in_proj_weight, rng);
  init_constant(*out_proj.bias, 0.0);
}

template <class T>
Tensor<T> MultiHeadAttention<T>::project(Graph<T>& g, const Tensor<T>& x, int which, int64_t first_pos) {
  const int64_t d = d_model;
  Tensor<T> y = linear(x, in_proj_weight.bind_at(g, which * d * d, {d, d}), in_proj_bias.bind_at(g, which * d, {d}));
  if (positions.rope_base > 0 && which < 2) y = rotary(y, heads, positions.rope_base, first_pos);
  return y;
}

// [D]: 0 over the columns of each zeroed head, 1 elsewhere.
template <class T>
Tensor<T> MultiHeadAttention<T>::head_mask(Graph<T>& g) const {
  if ((int)zeroed_heads.size() != heads)
    throw Error(fmt::format("MultiHeadAttention: zeroed_heads has {} entries for {} heads", zeroed_heads.size(), heads));
  const int64_t dh = d_model / heads;
  std::vector<T> m((size_t)d_model, T(1));
  for (int h = 0; h < heads; ++h)
    if (zeroed_heads[h]) std::fill(m.begin() + h * dh, m.begin() + (h + 1) * dh, T(0));
  return g.tensor({d_model}, m);
}

template <class T>
AttentionMask MultiHeadAttention<T>::positioned(const AttentionMask& mask) const {
  AttentionMask m = mask;
  if (!positions.alibi_slopes.empty()) m.alibi_slopes = positions.alibi_slopes;
  return m;
}

template <class T>
Tensor<T> MultiHeadAttention<T>::finish(Graph<T>& g, AttentionResult<T> r, const Tensor<T>& residual) {
  if (keep_weights) last_weights = r.weights;
  if (!zeroed_heads.empty()) r.out = r.out * head_mask(g);
  return residual.defined() ? out_proj.forward_add(g, r.out, residual) : out_proj.forward(g, r.out);
}

template <class T>
Tensor<T> MultiHeadAttention<T>::attend(Graph<T>& g, const Tensor<T>& q, const Tensor<T>& k,
                                        const Tensor<T>& v, const AttentionMask& mask, const Tensor<T>& residual) {
  return finish(g, attention(q, k, v, heads, positioned(mask), keep_weights), residual);
}

// Self-attention projects q, k and v in one gemm and cross-attention k and v in one (their rows
// of in_proj_weight are contiguous), and attention reads them as column blocks. RoPE rotates q
// and k on their own, so it keeps three projections.
template <class T>
Tensor<T> MultiHeadAttention<T>::forward(Graph<T>& g, const Tensor<T>& query, const Tensor<T>& key,
                                         const Tensor<T>& value, const AttentionMask& mask,
                                         const Tensor<T>& residual) {
  const int64_t d = d_model;
  if (positions.rope_base > 0 || key.index() != value.index())
    return attend(g, project(g, query, 0), project(g, key, 1), project(g, value, 2), mask, residual);
  if (query.index() == key.index()) {
    Tensor<T> qkv = linear(query, in_proj_weight.bind(g), in_proj_bias.bind(g));
    return finish(g, attention_qkv(qkv, heads, positioned(mask), keep_weights), residual);
  }
  Tensor<T> kv = linear(key, in_proj_weight.bind_at(g, d * d, {2 * d, d}), in_proj_bias.bind_at(g, d, {2 * d}));
  return finish(g, attention_q_kv(project(g, query, 0), kv, heads, positioned(mask), keep_weights), residual);
}

template class MultiHeadAttention<float>;
template class MultiHeadAttention<double>;

}  // namespace attn
