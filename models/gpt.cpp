#include "models/gpt.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace attn {

namespace {

AttentionMask stream_mask(const std::vector<uint8_t>& pad) {
  AttentionMask m;
  m.causal = true;
  if (std::find(pad.begin(), pad.end(), uint8_t(1)) != pad.end()) m.key_padding = pad;
  return m;
}

}  // namespace

template <class T>
DecoderOnlyTransformer<T>::DecoderOnlyTransformer(const ModelConfig& c, const GptOptions& o, uint64_t seed)
    : Seq2SeqModel<T>(c),
      opt_(o),
      init_rng_(seed),
      dropout_rng_(seed ^ 0x6e7a11cULL),
      tok_emb_(c.tgt_vocab, o.layer.d_model, init_rng_),
      norm_(o.layer.d_model) {
  const int64_t D = o.layer.d_model;
  this->add_module("tok_emb", tok_emb_);
  if (o.pos == PosEncoding::learned) {
    pos_ = &this->add_parameter("pos", {1, o.max_len, D});
    init_normal(*pos_, 0.02, init_rng_);  // torch.randn(...) * 0.02
  }
  // nn.TransformerEncoderLayer's own init (no xavier pass over it: CausalLM is no nn.Transformer).
  for (int64_t i = 0; i < o.layers; ++i) {
    layers_.push_back(std::make_unique<EncoderLayer<T>>(o.layer, init_rng_, dropout_rng_));
    this->add_module(fmt::format("layers.{}", i), *layers_.back());
    layers_.back()->self_attn.positions = attention_positions(o.pos, o.rope_base, o.layer.heads);
  }
  this->add_module("norm", norm_);
  if (o.tie_output) {
    out_bias_ = &this->add_parameter("out.bias", {c.tgt_vocab});
    init_uniform(*out_bias_, 1.0 / std::sqrt(double(D)), init_rng_);  // nn.Linear's bias init
  } else {
    out_ = std::make_unique<Linear<T>>(D, c.tgt_vocab, true, init_rng_);
    this->add_module("out", *out_);
  }
}

template <class T>
void DecoderOnlyTransformer<T>::check_positions(int64_t end) const {
  if (has_position_table(opt_.pos) && end > opt_.max_len)
    throw Error(fmt::format("gpt: position {} is beyond the position table's {} rows (max_len); train with a "
                            "larger --max-len, or with --pos rope, alibi or none, which have no table",
                            end - 1, opt_.max_len));
}

template <class T>
Tensor<T> DecoderOnlyTransformer<T>::positions(Graph<T>& g, int64_t first, int64_t len) {
  const int64_t D = opt_.layer.d_model;
  check_positions(first + len);
  const Shape s{1, len, D};
  if (pos_) return pos_->bind_at(g, first * D, s);
  return g.tensor(s, sinusoidal_table<T>(first, len, D));
}

template <class T>
Tensor<T> DecoderOnlyTransformer<T>::logits(Graph<T>& g, const std::vector<int>& ids, int64_t B, int64_t n,
                                            const AttentionMask& mask, std::vector<KVCache<T>>* caches) {
  const int64_t first = caches ? (*caches)[0].len : 0;
  Tensor<T> h = tok_emb_.forward(g, ids, {B, n});
  if (has_position_table(opt_.pos)) h = h + positions(g, first, n);
  for (size_t i = 0; i < layers_.size(); ++i) h = layers_[i]->forward(g, h, mask, caches ? &(*caches)[i] : nullptr);
  h = norm_.forward(g, h);
  return out_ ? out_->forward(g, h) : linear(h, tok_emb_.weight.bind(g), out_bias_->bind(g));
}

template <class T>
Tensor<T> DecoderOnlyTransformer<T>::forward(Graph<T>& g, const SeqBatch& b) {
  if (b.len <= 0)
    throw Error("gpt reads the one-stream layout (format lm: source SEP target), and this batch has no stream; "
                "train with --format lm");
  return logits(g, b.tokens, b.batch, b.len, stream_mask(b.tokens_pad));
}

template <class T>
int64_t DecoderOnlyTransformer<T>::steps_for(int64_t prompt_len, int64_t wanted) const {
  // Token k is fed back at position prompt_len + k - 1, so a table of max_len rows allows
  // max_len - prompt_len + 1 tokens.
  if (!has_position_table(opt_.pos)) return wanted;
  return std::max<int64_t>(0, std::min(wanted, opt_.max_len - prompt_len + 1));
}

template <class T>
std::vector<KVCache<T>> DecoderOnlyTransformer<T>::make_caches(int64_t batch, int64_t capacity) const {
  std::vector<KVCache<T>> caches(layers_.size());
  for (auto& k : caches) k.reset(batch, opt_.layer.d_model, capacity);
  return caches;
}

template <class T>
std::vector<std::vector<int>> DecoderOnlyTransformer<T>::decode_group(Graph<T>& g, const std::vector<int>& prompts,
                                                                      int64_t G, int64_t P, int64_t steps, int eos,
                                                                      bool cached, std::vector<std::vector<T>>* logs) {
  const int64_t V = this->config.tgt_vocab;
  std::vector<std::vector<int>> out(G), prefix(G);
  for (int64_t r = 0; r < G; ++r) prefix[r].assign(prompts.begin() + r * P, prompts.begin() + (r + 1) * P);
  std::vector<int> token(G);
  std::vector<bool> done(G, false);
  std::vector<KVCache<T>> caches = make_caches(G, cached ? P + std::max<int64_t>(steps - 1, 0) : 0);
  for (int64_t t = 0; t < steps; ++t) {
    g.reset();
    const int64_t len = P + t;  // tokens so far
    Tensor<T> l;
    if (!cached) {
      std::vector<int> ids;
      for (auto& p : prefix) ids.insert(ids.end(), p.begin(), p.end());
      l = logits(g, ids, G, len);
    } else if (t == 0) {
      l = logits(g, prompts, G, P, AttentionMask(true), &caches);
    } else {
      l = logits(g, token, G, 1, AttentionMask(true), &caches);
    }
    const int64_t n = l.shape()[1];
    const T* last = l.data() + (n - 1) * V;  // each row's newest position, stride n * V
    if (logs) {
      logs->emplace_back();
      for (int64_t r = 0; r < G; ++r) logs->back().insert(logs->back().end(), last + r * n * V, last + r * n * V + V);
    }
    const bool all_done = greedy_step(last, n * V, V, eos, token, done, out);
    for (int64_t r = 0; r < G; ++r) prefix[r].push_back(token[r]);
    if (all_done) break;
  }
  g.reset();
  return out;
}

template <class T>
std::vector<std::vector<int>> DecoderOnlyTransformer<T>::decode(Graph<T>& g, const SeqBatch& src, int64_t max_steps,
                                                                int bos, int eos, bool cached,
                                                                std::vector<std::vector<T>>* step_logits) {
  NoGrad<T> ng(g);
  const int64_t B = src.batch, V = this->config.tgt_vocab;
  const std::vector<int> lengths = src.src_lengths();
  std::map<int64_t, std::vector<int64_t>> groups;  // prompt length -> rows
  for (int64_t r = 0; r < B; ++r) groups[lengths[r] + 1].push_back(r);
  std::vector<std::vector<int>> out(B);
  for (const auto& group : groups) {
    const int64_t P = group.first, G = (int64_t)group.second.size();
    std::vector<int> prompts;
    for (int64_t r : group.second) {
      prompts.insert(prompts.end(), src.src.begin() + r * src.src_len, src.src.begin() + r * src.src_len + P - 1);
      prompts.push_back(bos);
    }
    check_positions(P);
    std::vector<std::vector<T>> logs;
    const auto got = decode_group(g, prompts, G, P, steps_for(P, max_steps), eos, cached, step_logits ? &logs : nullptr);
    for (int64_t i = 0; i < G; ++i) out[group.second[i]] = got[i];
    if (!step_logits) continue;
    if (step_logits->size() < logs.size())
      step_logits->resize(logs.size(), std::vector<T>(B * V, std::numeric_limits<T>::quiet_NaN()));
    for (size_t t = 0; t < logs.size(); ++t)
      for (int64_t i = 0; i < G; ++i)
        std::copy(logs[t].begin() + i * V, logs[t].begin() + (i + 1) * V, (*step_logits)[t].begin() + group.second[i] * V);
  }
  return out;
}

template <class T>
std::vector<std::vector<int>> DecoderOnlyTransformer<T>::greedy_decode(Graph<T>& g, const SeqBatch& src,
                                                                       int64_t max_steps, int bos, int eos) {
  return decode(g, src, max_steps, bos, eos, true);
}

template <class T>
std::vector<int> DecoderOnlyTransformer<T>::sample(Graph<T>& g, const std::vector<int>& prompt, int64_t n,
                                                   double temperature, int64_t top_k, Rng& rng) {
  if (prompt.empty()) throw Error("gpt: sample needs a prompt of at least one token");
  if (!(temperature >= 0) || top_k < 0)
    throw Error(fmt::format("gpt: sample needs temperature >= 0 and top_k >= 0, got {} and {}", temperature, top_k));
  NoGrad<T> ng(g);
  // With a position table of W rows the context is the last W tokens, as nanoGPT's generate
  // crops it: cached while the stream fits the table, then each token recomputed over the window.
  const bool table = has_position_table(opt_.pos);
  const int64_t P = (int64_t)prompt.size(), V = this->config.tgt_vocab, W = table ? opt_.max_len : P + n;
  std::vector<int> ctx(prompt.end() - std::min(P, W), prompt.end());
  const int64_t c0 = (int64_t)ctx.size(), cached = std::min(n, W - c0 + 1);
  std::vector<KVCache<T>> caches = make_caches(1, c0 + std::max<int64_t>(cached - 1, 0));
  std::vector<int> out;
  g.reset();
  Tensor<T> l = logits(g, ctx, 1, c0, AttentionMask(true), &caches);
  const T* row = l.data() + (c0 - 1) * V;
  for (int64_t t = 0; t < n; ++t) {
    out.push_back(pick_token(row, V, temperature, top_k, rng));
    ctx.push_back(out.back());
    if (t + 1 == n) break;
    g.reset();
    if (t + 1 < cached) {
      l = logits(g, {out.back()}, 1, 1, AttentionMask(true), &caches);
      row = l.data();
    } else {
      const std::vector<int> window(ctx.end() - W, ctx.end());
      l = logits(g, window, 1, W, AttentionMask(true), nullptr);
      row = l.data() + (W - 1) * V;
    }
  }
  g.reset();
  return out;
}

template <class T>
void DecoderOnlyTransformer<T>::keep_attention(bool on) {
  for (auto& l : layers_) l->self_attn.keep_weights = on;
}

template <class T>
std::vector<AttentionMap<T>> DecoderOnlyTransformer<T>::attention_maps() const {
  std::vector<AttentionMap<T>> maps;
  for (size_t i = 0; i < layers_.size(); ++i)
    maps.push_back({fmt::format("layers.{}.self_attn", i), layers_[i]->self_attn.last_weights});
  return maps;
}

template class DecoderOnlyTransformer<float>;
template class DecoderOnlyTransformer<double>;

}  // namespace attn
