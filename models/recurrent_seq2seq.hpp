// The recurrent baselines. Seq2SeqRecurrent<T, Net>: a recurrent encoder (Net: LSTM, GRU or RNN)
// whose final state (after each sequence's last real token) starts a decoder of the same kind.
// With attention (the *-attn families), the decoder's outputs also attend over the encoder's
// outputs through MultiHeadAttention, and the result is added to them before the output layer
// (attention without input feeding). That isolates the effect of attention from the rest of the
// Transformer.
#pragma once
#include "models/seq2seq.hpp"
#include "nn/attention.hpp"
#include "nn/lstm.hpp"
#include "nn/recurrent.hpp"

namespace attn {

// Read from the families' fields (models/family_lstm.cpp, family_gru.cpp, family_rnn.cpp).
struct RecurrentOptions {
  int64_t hidden = 128;
  int layers = 1;
  double dropout = 0.0;
  bool attention = false;  // the *-attn families
  int heads = 4;           // of the attention, which is `hidden` wide
  // LSTM only (nn/lstm.hpp), applied after the default init; 0 leaves it unchanged.
  double forget_bias = 0.0;
  int64_t chrono_init = 0;
};
using LstmOptions = RecurrentOptions;

// The LSTM's init options on `nets`, in order, after every default draw so that the defaults
// leave a model as it was; chrono's uniforms come from their own generator (from `seed`) for the
// same reason. Throws for another cell when an option is set.
template <class T, template <class> class Net>
void apply_init_options(const std::vector<Net<T>*>& nets, const RecurrentOptions& o, uint64_t seed);

template <class T, template <class> class Net>
class Seq2SeqRecurrent : public Seq2SeqModel<T> {
 public:
  Seq2SeqRecurrent(const ModelConfig& c, const RecurrentOptions& o, uint64_t seed);
  Tensor<T> forward(Graph<T>& g, const SeqBatch& b) override;
  std::vector<std::vector<int>> greedy_decode(Graph<T>& g, const SeqBatch& src, int64_t max_steps, int bos,
                                              int eos) override;
  void keep_attention(bool on) override;
  Rng& dropout_rng() override { return dropout_rng_; }
  std::vector<AttentionMap<T>> attention_maps() const override;

 private:
  Tensor<T> head(Graph<T>& g, const Tensor<T>& dec_out, const Tensor<T>& enc_out, const AttentionMask& m);
  Rng init_rng_, dropout_rng_;
  Embedding<T> src_emb_, tgt_emb_;
  Net<T> encoder_, decoder_;
  std::unique_ptr<MultiHeadAttention<T>> attn_;
  Linear<T> out_;
};

template <class T>
using Seq2SeqLSTM = Seq2SeqRecurrent<T, LSTM>;
template <class T>
using Seq2SeqGRU = Seq2SeqRecurrent<T, GRU>;
template <class T>
using Seq2SeqRNN = Seq2SeqRecurrent<T, RNN>;

}  // namespace attn
