#include "models/recurrent_lm.hpp"

#include "models/sampling.hpp"

namespace attn {

template <class T, template <class> class Net>
RecurrentLM<T, Net>::RecurrentLM(const ModelConfig& c, const RecurrentOptions& o, uint64_t seed)
    : Seq2SeqModel<T>(c),
      init_rng_(seed),
      dropout_rng_(seed ^ 0xd40f0a7ULL),
      embedding_(c.tgt_vocab, o.hidden, init_rng_),
      rnn_(o.hidden, o.hidden, o.layers, o.dropout, init_rng_, dropout_rng_),
      out_(o.hidden, c.tgt_vocab, true, init_rng_) {
  if (c.src_vocab != c.tgt_vocab)
    throw Error("a recurrent language model reads and predicts one vocabulary: src_vocab and tgt_vocab must be equal");
  this->add_module("embedding", embedding_);
  this->add_module("rnn", rnn_);
  this->add_module("out", out_);
  apply_init_options<T, Net>({&rnn_}, o, seed);
}

template <class T, template <class> class Net>
Tensor<T> RecurrentLM<T, Net>::step(Graph<T>& g, const std::vector<int>& ids, int64_t B, int64_t n,
                                    typename Net<T>::State& state, const std::vector<int>* lengths) {
  return out_.forward(g, rnn_.forward(g, embedding_.forward(g, ids, {B, n}), state, lengths));
}

template <class T, template <class> class Net>
Tensor<T> RecurrentLM<T, Net>::forward(Graph<T>& g, const SeqBatch& b) {
  if (b.len <= 0)
    throw Error(this->config.type +
                " in format lm reads the one-stream layout (source SEP target), and this batch has no stream");
  auto state = rnn_.zero_state(g, b.batch);
  return step(g, b.tokens, b.batch, b.len, state);
}

template <class T, template <class> class Net>
std::vector<std::vector<int>> RecurrentLM<T, Net>::greedy_decode(Graph<T>& g, const SeqBatch& src, int64_t max_steps,
                                                                 int bos, int eos) {
  NoGrad<T> ng(g);
  g.reset();
  const int64_t B = src.batch, V = this->config.tgt_vocab;
  auto state = rnn_.zero_state(g, B);
  const std::vector<int> lengths = src.src_lengths();
  if (src.src_len > 0) rnn_.forward(g, embedding_.forward(g, src.src, {B, src.src_len}), state, &lengths);
  std::vector<std::vector<int>> out(B);
  std::vector<int> token(B, bos);
  std::vector<bool> done(B, false);
  for (int64_t t = 0; t < max_steps; ++t) {
    Tensor<T> logits = step(g, token, B, 1, state);
    if (greedy_step(logits.data(), V, V, eos, token, done, out)) break;
  }
  g.reset();
  return out;
}

template <class T, template <class> class Net>
std::vector<int> RecurrentLM<T, Net>::sample(Graph<T>& g, const std::vector<int>& prompt, int64_t n,
                                             double temperature, int64_t top_k, Rng& rng) {
  check_sample_args(this->config.type, prompt, temperature, top_k);
  NoGrad<T> ng(g);
  g.reset();
  const int64_t V = this->config.tgt_vocab, P = (int64_t)prompt.size();
  auto state = rnn_.zero_state(g, 1);
  Tensor<T> logits = step(g, prompt, 1, P, state);
  std::vector<int> out;
  const T* row = logits.data() + (P - 1) * V;
  for (int64_t t = 0; t < n; ++t) {
    out.push_back(pick_token(row, V, temperature, top_k, rng));
    if (t + 1 == n) break;
    logits = step(g, {out.back()}, 1, 1, state);
    row = logits.data();
  }
  g.reset();
  return out;
}

template class RecurrentLM<float, LSTM>;
template class RecurrentLM<double, LSTM>;
template class RecurrentLM<float, GRU>;
template class RecurrentLM<double, GRU>;
template class RecurrentLM<float, RNN>;
template class RecurrentLM<double, RNN>;

}  // namespace attn
