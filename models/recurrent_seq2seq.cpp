#include "models/recurrent_seq2seq.hpp"

#include <algorithm>
#include <type_traits>


namespace attn {

namespace {
AttentionMask padding_mask(const std::vector<uint8_t>& pad) {
  AttentionMask m;
  if (std::any_of(pad.begin(), pad.end(), [](uint8_t p) { return p != 0; })) m.key_padding = pad;
  return m;
}
}  // namespace

template <class T, template <class> class Net>
Seq2SeqRecurrent<T, Net>::Seq2SeqRecurrent(const ModelConfig& c, const RecurrentOptions& o, uint64_t seed)
    : Seq2SeqModel<T>(c),
      init_rng_(seed),
      dropout_rng_(seed ^ 0xd40f0a7ULL),
      src_emb_(c.src_vocab, o.hidden, init_rng_),
      tgt_emb_(c.tgt_vocab, o.hidden, init_rng_),
      encoder_(o.hidden, o.hidden, o.layers, o.dropout, init_rng_, dropout_rng_),
      decoder_(o.hidden, o.hidden, o.layers, o.dropout, init_rng_, dropout_rng_),
      out_(o.hidden, c.tgt_vocab, true, init_rng_) {
  this->add_module("src_emb", src_emb_);
  this->add_module("tgt_emb", tgt_emb_);
  this->add_module("encoder", encoder_);
  this->add_module("decoder", decoder_);
  if (o.attention) {
    attn_ = std::make_unique<MultiHeadAttention<T>>(o.hidden, o.heads, init_rng_);
    this->add_module("attn", *attn_);
  }
  this->add_module("out", out_);
  apply_init_options<T, Net>({&encoder_, &decoder_}, o, seed);
}

template <class T, template <class> class Net>
void apply_init_options(const std::vector<Net<T>*>& nets, const RecurrentOptions& o, uint64_t seed) {
  if (o.forget_bias == 0.0 && o.chrono_init == 0) return;
  if constexpr (std::is_same_v<Net<T>, LSTM<T>>) {
    Rng chrono(seed ^ 0xc4a0b1a5ULL);
    for (Net<T>* n : nets) {
      if (o.forget_bias != 0.0) n->init_forget_bias(o.forget_bias);
      if (o.chrono_init != 0) n->init_chrono(o.chrono_init, chrono);
    }
  } else {
    throw Error("forget_bias and chrono_init apply to LSTMs only");
  }
}

template <class T, template <class> class Net>
Tensor<T> Seq2SeqRecurrent<T, Net>::head(Graph<T>& g, const Tensor<T>& dec_out, const Tensor<T>& enc_out,
                               const AttentionMask& m) {
  if (!attn_) return out_.forward(g, dec_out);
  return out_.forward(g, dec_out + attn_->forward(g, dec_out, enc_out, enc_out, m));
}

template <class T, template <class> class Net>
Tensor<T> Seq2SeqRecurrent<T, Net>::forward(Graph<T>& g, const SeqBatch& b) {
  auto state = encoder_.zero_state(g, b.batch);
  const std::vector<int> lengths = b.src_lengths();
  Tensor<T> enc_out = encoder_.forward(g, src_emb_.forward(g, b.src, {b.batch, b.src_len}), state, &lengths);
  Tensor<T> dec_out = decoder_.forward(g, tgt_emb_.forward(g, b.tgt_in, {b.batch, b.tgt_len}), state);
  return head(g, dec_out, enc_out, padding_mask(b.src_pad));
}

template <class T, template <class> class Net>
std::vector<std::vector<int>> Seq2SeqRecurrent<T, Net>::greedy_decode(Graph<T>& g, const SeqBatch& src, int64_t max_steps,
                                                            int bos, int eos) {
  NoGrad<T> ng(g);
  g.reset();
  const int64_t B = src.batch, V = this->config.tgt_vocab;
  auto state = encoder_.zero_state(g, B);
  const std::vector<int> lengths = src.src_lengths();
  Tensor<T> enc_out = encoder_.forward(g, src_emb_.forward(g, src.src, {B, src.src_len}), state, &lengths);
  const AttentionMask m = padding_mask(src.src_pad);
  std::vector<std::vector<int>> out(B);
  std::vector<int> token(B, bos);
  std::vector<bool> done(B, false);
  for (int64_t t = 0; t < max_steps; ++t) {
    Tensor<T> dec_out = decoder_.forward(g, tgt_emb_.forward(g, token, {B, 1}), state);
    Tensor<T> logits = head(g, dec_out, enc_out, m);
    if (greedy_step(logits.data(), V, V, eos, token, done, out)) break;
  }
  g.reset();
  return out;
}

template <class T, template <class> class Net>
void Seq2SeqRecurrent<T, Net>::keep_attention(bool on) {
  if (attn_) attn_->keep_weights = on;
}

template <class T, template <class> class Net>
std::vector<AttentionMap<T>> Seq2SeqRecurrent<T, Net>::attention_maps() const {
  if (!attn_) return {};
  return {{"attn", attn_->last_weights}};
}

template void apply_init_options<float, LSTM>(const std::vector<LSTM<float>*>&, const RecurrentOptions&, uint64_t);
template void apply_init_options<double, LSTM>(const std::vector<LSTM<double>*>&, const RecurrentOptions&, uint64_t);
template void apply_init_options<float, GRU>(const std::vector<GRU<float>*>&, const RecurrentOptions&, uint64_t);
template void apply_init_options<double, GRU>(const std::vector<GRU<double>*>&, const RecurrentOptions&, uint64_t);
template void apply_init_options<float, RNN>(const std::vector<RNN<float>*>&, const RecurrentOptions&, uint64_t);
template void apply_init_options<double, RNN>(const std::vector<RNN<double>*>&, const RecurrentOptions&, uint64_t);
template class Seq2SeqRecurrent<float, LSTM>;
template class Seq2SeqRecurrent<double, LSTM>;
template class Seq2SeqRecurrent<float, GRU>;
template class Seq2SeqRecurrent<double, GRU>;
template class Seq2SeqRecurrent<float, RNN>;
template class Seq2SeqRecurrent<double, RNN>;

}  // namespace attn
