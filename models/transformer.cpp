#include "models/transformer.hpp"

#include <fmt/format.h>

namespace attn {

namespace {
LayerConfig layer_config(const ModelConfig& c) {
  c.validate();
  LayerConfig l;
  l.d_model = c.d_model;
  l.heads = c.heads;
  l.ff = c.ff;
  l.dropout = c.dropout;
  l.norm_first = c.norm_first;
  l.activation = parse_activation(c.activation);
  return l;
}
AttentionMask padding_mask(const std::vector<uint8_t>& pad) {
  AttentionMask m;
  for (uint8_t p : pad)
    if (p) {
      m.key_padding = pad;
      break;
    }
  return m;
}
}  // namespace

template <class T>
Seq2SeqTransformer<T>::Seq2SeqTransformer(const ModelConfig& c, uint64_t seed)
    : Seq2SeqModel<T>(c),
      init_rng_(seed),
      dropout_rng_(seed ^ 0xd40f0a7ULL),
      layer_(layer_config(c)),
      src_emb_(c.src_vocab, c.d_model, init_rng_),
      encoder_(layer_, c.enc_layers, init_rng_, dropout_rng_),
      decoder_(layer_, c.dec_layers, init_rng_, dropout_rng_) {
  // nn.Transformer re-initialises every matrix of its encoder and decoder (xavier-uniform)
  // before the reference subclass adds its embeddings, positions and output layer.
  for (Module<T>* m : {(Module<T>*)&encoder_, (Module<T>*)&decoder_})
    for (auto& [name, p] : m->named_parameters())
      if (p->shape.ndim() > 1) init_xavier_uniform(*p, init_rng_);
  this->add_module("encoder", encoder_);
  this->add_module("decoder", decoder_);
  this->add_module("src_emb", src_emb_);
  if (!c.share_embeddings) {
    tgt_emb_ = std::make_unique<Embedding<T>>(c.tgt_vocab, c.d_model, init_rng_);
    this->add_module("tgt_emb", *tgt_emb_);
  }
  if (c.pos == "learned") {
    pos_ = &this->add_parameter("pos", {1, c.max_len, c.d_model});
    init_normal(*pos_, 0.02, init_rng_);  // torch.randn(...) * 0.02
  }
  if (c.tie_output) {
    out_bias_ = &this->add_parameter("out.bias", {c.tgt_vocab});
  } else {
    out_ = std::make_unique<Linear<T>>(c.d_model, c.tgt_vocab, true, init_rng_);
    this->add_module("out", *out_);
  }
}

template <class T>
Tensor<T> Seq2SeqTransformer<T>::positions(Graph<T>& g, int64_t first, int64_t len) {
  const ModelConfig& c = this->config;
  if (first + len > c.max_len)
    throw Error(fmt::format("position {} is beyond the position table's {} rows (max_len); "
                            "train with a larger --max-len",
                            first + len - 1, c.max_len));
  const Shape s{1, len, c.d_model};
  if (pos_) return pos_->bind_at(g, first * c.d_model, s);
  // Computed for the rows asked for: a table of max_len rows could be as large as a checkpoint's
  // config says, whatever the file holds.
  return g.tensor(s, sinusoidal_table<T>(first, len, c.d_model));
}

template <class T>
Tensor<T> Seq2SeqTransformer<T>::encode(Graph<T>& g, const SeqBatch& b) {
  Tensor<T> x = src_emb_.forward(g, b.src, {b.batch, b.src_len}) + positions(g, 0, b.src_len);
  return encoder_.forward(g, x, padding_mask(b.src_pad));
}

template <class T>
Tensor<T> Seq2SeqTransformer<T>::embed_target(Graph<T>& g, const std::vector<int>& ids, int64_t batch, int64_t len,
                                              int64_t first_pos) {
  Embedding<T>& emb = tgt_emb_ ? *tgt_emb_ : src_emb_;
  return emb.forward(g, ids, {batch, len}) + positions(g, first_pos, len);
}

template <class T>
Tensor<T> Seq2SeqTransformer<T>::forward(Graph<T>& g, const SeqBatch& b) {
  Tensor<T> memory = encode(g, b);
  Tensor<T> y = embed_target(g, b.tgt_in, b.batch, b.tgt_len, 0);
  // Targets are right-padded, so the causal mask already hides padded keys from real queries.
  Tensor<T> h = decoder_.forward(g, y, memory, AttentionMask{true, {}}, padding_mask(b.src_pad));
  if (out_) return out_->forward(g, h);
  Embedding<T>& emb = tgt_emb_ ? *tgt_emb_ : src_emb_;
  return linear(h, emb.weight.bind(g), out_bias_->bind(g));
}

template <class T>
std::vector<std::vector<int>> Seq2SeqTransformer<T>::greedy_decode(Graph<T>& g, const SeqBatch& src,
                                                                   int64_t max_steps, int bos, int eos) {
  return decode_cached(g, src, max_steps, bos, eos, nullptr);
}

template <class T>
std::vector<std::vector<int>> Seq2SeqTransformer<T>::decode_cached(Graph<T>& g, const SeqBatch& src,
                                                                   int64_t max_steps, int bos, int eos,
                                                                   std::vector<std::vector<T>>* step_logits) {
  NoGrad<T> ng(g);
  const ModelConfig& c = this->config;
  const int64_t B = src.batch, D = c.d_model;
  max_steps = std::min(max_steps, c.max_len);  // the position table bounds the output's length
  g.reset();
  const std::vector<T> memory = encode(g, src).values();
  const AttentionMask mem_mask = padding_mask(src.src_pad);
  std::vector<KVCache<T>> caches(decoder_.layers.size());
  for (auto& k : caches) {
    k.batch = B;
    k.d_model = D;
    k.capacity = max_steps;
    k.k.assign(B * max_steps * D, T(0));
    k.v.assign(B * max_steps * D, T(0));
  }
  std::vector<std::vector<int>> out(B);
  std::vector<int> token(B, bos);
  std::vector<bool> done(B, false);
  for (int64_t t = 0; t < max_steps; ++t) {
    g.reset();
    Tensor<T> mem = t == 0 ? g.tensor({B, src.src_len, D}, memory) : Tensor<T>();
    Tensor<T> h = decoder_.forward(g, embed_target(g, token, B, 1, t), mem, {}, mem_mask, &caches);
    Embedding<T>& emb = tgt_emb_ ? *tgt_emb_ : src_emb_;
    Tensor<T> logits = out_ ? out_->forward(g, h) : linear(h, emb.weight.bind(g), out_bias_->bind(g));
    if (step_logits) step_logits->push_back(logits.values());
    if (greedy_step(logits.data(), c.tgt_vocab, c.tgt_vocab, eos, token, done, out)) break;
  }
  g.reset();
  return out;
}

template <class T>
void Seq2SeqTransformer<T>::keep_attention(bool on) {
  for (auto& l : encoder_.layers) l->self_attn.keep_weights = on;
  for (auto& l : decoder_.layers) l->self_attn.keep_weights = l->multihead_attn.keep_weights = on;
}

template <class T>
std::vector<AttentionMap<T>> Seq2SeqTransformer<T>::attention_maps() const {
  std::vector<AttentionMap<T>> maps;
  for (size_t i = 0; i < encoder_.layers.size(); ++i)
    maps.push_back({fmt::format("encoder.layers.{}.self_attn", i), encoder_.layers[i]->self_attn.last_weights});
  for (size_t i = 0; i < decoder_.layers.size(); ++i) {
    maps.push_back({fmt::format("decoder.layers.{}.self_attn", i), decoder_.layers[i]->self_attn.last_weights});
    maps.push_back({fmt::format("decoder.layers.{}.multihead_attn", i), decoder_.layers[i]->multihead_attn.last_weights});
  }
  return maps;
}

template class Seq2SeqTransformer<float>;
template class Seq2SeqTransformer<double>;

}  // namespace attn
