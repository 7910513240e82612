// The recurrent baselines. Seq2SeqLSTM: an LSTM encoder whose final state (after each
// sequence's last real token) starts an LSTM decoder. With attention (the lstm-attn family), the
// decoder's outputs also attend over the encoder's outputs through MultiHeadAttention, and the
// result is added to them before the output layer (attention without input feeding). That
// isolates the effect of attention from the rest of the Transformer.
#pragma once
#include "models/seq2seq.hpp"
#include "nn/attention.hpp"
#include "nn/lstm.hpp"

namespace attn {

// Read from the lstm and lstm-attn families' fields (models/family_lstm.cpp).
struct LstmOptions {
  int64_t hidden = 128;
  int layers = 1;
  double dropout = 0.0;
  bool attention = false;  // lstm-attn
  int heads = 4;           // of the attention, which is `hidden` wide
};

template <class T>
class Seq2SeqLSTM : public Seq2SeqModel<T> {
 public:
  Seq2SeqLSTM(const ModelConfig& c, const LstmOptions& o, uint64_t seed);
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
  LSTM<T> encoder_, decoder_;
  std::unique_ptr<MultiHeadAttention<T>> attn_;
  Linear<T> out_;
};

}  // namespace attn
