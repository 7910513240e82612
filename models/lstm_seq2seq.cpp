#include "models/lstm_seq2seq.hpp"

#include <algorithm>

#include "models/transformer.hpp"

namespace attn {

namespace {
AttentionMask padding_mask(const std::vector<uint8_t>& pad) {
  AttentionMask m;
  if (std::any_of(pad.begin(), pad.end(), [](uint8_t p) { return p != 0; })) m.key_padding = pad;
  return m;
}
const ModelConfig& checked(const ModelConfig& c) {
  c.validate();
  return c;
}
}  // namespace

std::vector<int> SeqBatch::src_lengths() const {
  std::vector<int> len(batch, 0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < src_len; ++t) len[b] += src_pad.empty() || !src_pad[b * src_len + t];
  return len;
}

template <class T>
Seq2SeqLSTM<T>::Seq2SeqLSTM(const ModelConfig& c, uint64_t seed)
    : Seq2SeqModel<T>(checked(c)),
      init_rng_(seed),
      dropout_rng_(seed ^ 0xd40f0a7ULL),
      src_emb_(c.src_vocab, c.hidden, init_rng_),
      tgt_emb_(c.tgt_vocab, c.hidden, init_rng_),
      encoder_(c.hidden, c.hidden, c.layers, c.dropout, init_rng_, dropout_rng_),
      decoder_(c.hidden, c.hidden, c.layers, c.dropout, init_rng_, dropout_rng_),
      out_(c.hidden, c.tgt_vocab, true, init_rng_) {
  this->add_module("src_emb", src_emb_);
  this->add_module("tgt_emb", tgt_emb_);
  this->add_module("encoder", encoder_);
  this->add_module("decoder", decoder_);
  if (c.type == "lstm-attn") {
    attn_ = std::make_unique<MultiHeadAttention<T>>(c.hidden, c.heads, init_rng_);
    this->add_module("attn", *attn_);
  }
  this->add_module("out", out_);
}

template <class T>
Tensor<T> Seq2SeqLSTM<T>::head(Graph<T>& g, const Tensor<T>& dec_out, const Tensor<T>& enc_out,
                               const AttentionMask& m) {
  if (!attn_) return out_.forward(g, dec_out);
  return out_.forward(g, dec_out + attn_->forward(g, dec_out, enc_out, enc_out, m));
}

template <class T>
Tensor<T> Seq2SeqLSTM<T>::forward(Graph<T>& g, const SeqBatch& b) {
  auto state = encoder_.zero_state(g, b.batch);
  const std::vector<int> lengths = b.src_lengths();
  Tensor<T> enc_out = encoder_.forward(g, src_emb_.forward(g, b.src, {b.batch, b.src_len}), state, &lengths);
  Tensor<T> dec_out = decoder_.forward(g, tgt_emb_.forward(g, b.tgt_in, {b.batch, b.tgt_len}), state);
  return head(g, dec_out, enc_out, padding_mask(b.src_pad));
}

template <class T>
std::vector<std::vector<int>> Seq2SeqLSTM<T>::greedy_decode(Graph<T>& g, const SeqBatch& src, int64_t max_steps,
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

template <class T>
void Seq2SeqLSTM<T>::keep_attention(bool on) {
  if (attn_) attn_->keep_weights = on;
}

template <class T>
std::vector<AttentionMap<T>> Seq2SeqLSTM<T>::attention_maps() const {
  if (!attn_) return {};
  return {{"attn", attn_->last_weights}};
}

template <class T>
std::unique_ptr<Seq2SeqModel<T>> make_model(const ModelConfig& c, uint64_t seed) {
  c.validate();
  if (c.type == "transformer") return std::make_unique<Seq2SeqTransformer<T>>(c, seed);
  return std::make_unique<Seq2SeqLSTM<T>>(c, seed);
}

template <class T>
std::vector<std::vector<int>> greedy_decode_full(Seq2SeqModel<T>& m, Graph<T>& g, const SeqBatch& src,
                                                 int64_t max_steps, int bos, int eos,
                                                 std::vector<std::vector<T>>* step_logits) {
  NoGrad<T> ng(g);
  const int64_t B = src.batch, V = m.config.tgt_vocab;
  if (m.config.type == "transformer") max_steps = std::min(max_steps, m.config.max_len);
  SeqBatch b = src;
  std::vector<std::vector<int>> prefix(B, std::vector<int>{bos}), out(B);
  std::vector<bool> done(B, false);
  for (int64_t t = 0; t < max_steps; ++t) {
    g.reset();
    b.tgt_len = t + 1;
    b.tgt_in.clear();
    for (auto& p : prefix) b.tgt_in.insert(b.tgt_in.end(), p.begin(), p.end());
    b.tgt_pad.assign(B * (t + 1), 0);
    Tensor<T> logits = m.forward(g, b);
    const T* last = logits.data() + t * V;  // each sequence's newest position, stride (t+1)*V
    if (step_logits) {
      step_logits->emplace_back();
      for (int64_t i = 0; i < B; ++i)
        step_logits->back().insert(step_logits->back().end(), last + i * (t + 1) * V, last + i * (t + 1) * V + V);
    }
    std::vector<int> token(B);
    const bool all_done = greedy_step(last, (t + 1) * V, V, eos, token, done, out);
    for (int64_t i = 0; i < B; ++i) prefix[i].push_back(token[i]);
    if (all_done) break;
  }
  g.reset();
  return out;
}

template class Seq2SeqLSTM<float>;
template class Seq2SeqLSTM<double>;
template std::unique_ptr<Seq2SeqModel<float>> make_model(const ModelConfig&, uint64_t);
template std::unique_ptr<Seq2SeqModel<double>> make_model(const ModelConfig&, uint64_t);
template std::vector<std::vector<int>> greedy_decode_full(Seq2SeqModel<float>&, Graph<float>&, const SeqBatch&,
                                                          int64_t, int, int, std::vector<std::vector<float>>*);
template std::vector<std::vector<int>> greedy_decode_full(Seq2SeqModel<double>&, Graph<double>&, const SeqBatch&,
                                                          int64_t, int, int, std::vector<std::vector<double>>*);

}  // namespace attn
