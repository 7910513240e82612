// The recurrent language models (format lm) of the lstm, gru and rnn families: an embedding
// `embedding`, a stacked recurrence `rnn` (nn.LSTM, nn.GRU or nn.RNN, with PyTorch's parameter
// names) and an output Linear `out`, read over the one stream `source SEP target`
// (data/stream.hpp). This is Arjovsky et al.'s copy-memory setting: one network reads the
// symbols, the delay and the cue, and writes the answer.
#pragma once
#include "models/recurrent_seq2seq.hpp"

namespace attn {

template <class T, template <class> class Net>
class RecurrentLM : public Seq2SeqModel<T> {
 public:
  RecurrentLM(const ModelConfig& c, const RecurrentOptions& o, uint64_t seed);
  // Logits [B, len, V] at every position of the stream b.tokens [B, len]; needs b.len > 0.
  // Right padding needs no mask: a recurrence reads left to right.
  Tensor<T> forward(Graph<T>& g, const SeqBatch& b) override;
  // Reads each row's source (up to its length), then `bos` (the SEP), and continues from the
  // recurrent state, one token per step.
  std::vector<std::vector<int>> greedy_decode(Graph<T>& g, const SeqBatch& src, int64_t max_steps, int bos,
                                              int eos) override;
  std::vector<int> sample(Graph<T>& g, const std::vector<int>& prompt, int64_t n, double temperature, int64_t top_k,
                          Rng& rng) override;
  Rng& dropout_rng() override { return dropout_rng_; }

 private:
  // Logits [B, n, V] of `ids` [B, n] after `state`, which is updated (lengths: as Net's).
  Tensor<T> step(Graph<T>& g, const std::vector<int>& ids, int64_t B, int64_t n, typename Net<T>::State& state,
                 const std::vector<int>* lengths = nullptr);
  Rng init_rng_, dropout_rng_;
  Embedding<T> embedding_;
  Net<T> rnn_;
  Linear<T> out_;
};

}  // namespace attn
