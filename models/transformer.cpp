#include "models/transformer.hpp"

#include <fmt/format.h>

namespace attn {

namespace {
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
Seq2SeqTransformer<T>::Seq2SeqTransformer(const ModelConfig& c, const TransformerOptions& o, uint64_t seed)
    : Seq2SeqModel<T>(c),
      opt_(o),
      init_rng_(seed),
      dropout_rng_(seed ^ 0xd40f0a7ULL),
      src_emb_(c.src_vocab, o.layer.d_model, init_rng_),
      encoder_(o.layer, o.enc_layers, init_rng_, dropout_rng_),
      decoder_(o.layer, o.dec_layers, init_rng_, dropout_rng_) {
  const int64_t D = o.layer.d_model;
  // nn.Transformer re-initialises every matrix of its encoder and decoder (xavier-uniform)
  // before the reference subclass adds its embeddings, positions and output layer.
  for (Module<T>* m : {(Module<T>*)&encoder_, (Module<T>*)&decoder_})
    for (auto& [name, p] : m->named_parameters())
      if (p->shape.ndim() > 1) init_xavier_uniform(*p, init_rng_);
  this->add_module("encoder", encoder_);
  this->add_module("decoder", decoder_);
  this->add_module("src_emb", src_emb_);
  if (!o.share_embeddings) {
    tgt_emb_ = std::make_unique<Embedding<T>>(c.tgt_vocab, D, init_rng_);
    this->add_module("tgt_emb", *tgt_emb_);
  }
  if (o.pos == PosEncoding::none)
    throw Error("--pos none needs every self-attention causal: only gpt allows it");
  // Positions inside attention go to self-attention only: cross-attention aligns a target with
  // the source whatever their positions.
  const AttentionPositions ap = attention_positions(o.pos, o.rope_base, o.layer.heads);
  for (auto& l : encoder_.layers) l->self_attn.positions = ap;
  for (auto& l : decoder_.layers) l->self_attn.positions = ap;
  if (o.pos == PosEncoding::learned) {
    pos_ = &this->add_parameter("pos", {1, o.max_len, D});
    init_normal(*pos_, 0.02, init_rng_);  // torch.randn(...) * 0.02
  }
  if (o.tie_output) {
    out_bias_ = &this->add_parameter("out.bias", {c.tgt_vocab});
  } else {
    out_ = std::make_unique<Linear<T>>(D, c.tgt_vocab, true, init_rng_);
    this->add_module("out", *out_);
  }
}

template <class T>
Tensor<T> Seq2SeqTransformer<T>::add_positions(Graph<T>& g, const Tensor<T>& x, int64_t first, int64_t len) {
  if (!has_position_table(opt_.pos)) return x;
  const int64_t D = opt_.layer.d_model;
  if (first + len > opt_.max_len)
    throw Error(fmt::format("position {} is beyond the position table's {} rows (max_len); "
                            "train with a larger --max-len",
                            first + len - 1, opt_.max_len));
  const Shape s{1, len, D};
  if (pos_) return x + pos_->bind_at(g, first * D, s);
  // Computed for the rows asked for: a table of max_len rows could be as large as a checkpoint's
  // config says, whatever the file holds.
  return x + g.tensor(s, sinusoidal_table<T>(first, len, D));
}

template <class T>
Tensor<T> Seq2SeqTransformer<T>::encode(Graph<T>& g, const SeqBatch& b) {
  Tensor<T> x = add_positions(g, src_emb_.forward(g, b.src, {b.batch, b.src_len}), 0, b.src_len);
  return encoder_.forward(g, x, padding_mask(b.src_pad));
}

template <class T>
Tensor<T> Seq2SeqTransformer<T>::embed_target(Graph<T>& g, const std::vector<int>& ids, int64_t batch, int64_t len,
                                              int64_t first_pos) {
  Embedding<T>& emb = tgt_emb_ ? *tgt_emb_ : src_emb_;
  return add_positions(g, emb.forward(g, ids, {batch, len}), first_pos, len);
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
  const int64_t B = src.batch, D = opt_.layer.d_model, V = this->config.tgt_vocab;
  if (has_position_table(opt_.pos)) max_steps = std::min(max_steps, opt_.max_len);  // it bounds the output
  g.reset();
  const std::vector<T> memory = encode(g, src).values();
  const AttentionMask mem_mask = padding_mask(src.src_pad);
  std::vector<KVCache<T>> caches(decoder_.layers.size());
  for (auto& k : caches) k.reset(B, D, max_steps);
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
    if (greedy_step(logits.data(), V, V, eos, token, done, out)) break;
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
