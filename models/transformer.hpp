// Seq2SeqTransformer: embeddings, positions, an encoder, a decoder and an output projection.
// With learned positions and default options it is exactly the model of the PyTorch reference
// (class Seq2Seq, an nn.Transformer subclass): pre-LN, ReLU, final norms, one position table
// `pos` [1, max_len, D] shared by source and target, no sqrt(d) scaling, untied embeddings, and
// an output Linear with bias. Parameter names match its state_dict.
#pragma once
#include "models/positions.hpp"
#include "models/seq2seq.hpp"
#include "nn/transformer.hpp"

namespace attn {

// The Transformer's settings, read from its family's config fields (models/family_transformer.cpp).
struct TransformerOptions {
  LayerConfig layer;
  int64_t enc_layers = 2, dec_layers = 2;
  PosEncoding pos = PosEncoding::learned;  // rope and alibi: self-attention only; none is refused
  double rope_base = 10000;
  int64_t max_len = 64;           // rows of the position table
  bool share_embeddings = false;  // source and target use one table (needs equal vocabularies)
  bool tie_output = false;        // output projection reuses the target embedding
};

template <class T>
class Seq2SeqTransformer : public Seq2SeqModel<T> {
 public:
  Seq2SeqTransformer(const ModelConfig& c, const TransformerOptions& o, uint64_t seed);
  Tensor<T> forward(Graph<T>& g, const SeqBatch& b) override;
  std::vector<std::vector<int>> greedy_decode(Graph<T>& g, const SeqBatch& src, int64_t max_steps, int bos,
                                              int eos) override;
  // The cached decoder behind greedy_decode; `step_logits` (optional) receives each step's
  // logits [B * V], for comparison with greedy_decode_full.
  std::vector<std::vector<int>> decode_cached(Graph<T>& g, const SeqBatch& src, int64_t max_steps, int bos, int eos,
                                              std::vector<std::vector<T>>* step_logits);
  void keep_attention(bool on) override;
  Rng& dropout_rng() override { return dropout_rng_; }
  std::vector<AttentionMap<T>> attention_maps() const override;

  Tensor<T> encode(Graph<T>& g, const SeqBatch& b);
  Tensor<T> embed_target(Graph<T>& g, const std::vector<int>& ids, int64_t batch, int64_t len, int64_t first_pos);

 private:
  // x + the table's rows first..first+len-1; x itself without a table.
  Tensor<T> add_positions(Graph<T>& g, const Tensor<T>& x, int64_t first, int64_t len);
  TransformerOptions opt_;
  Rng init_rng_, dropout_rng_;
  Embedding<T> src_emb_;
  std::unique_ptr<Embedding<T>> tgt_emb_;  // null when shared with the source
  Parameter<T>* pos_ = nullptr;            // learned positions
  Encoder<T> encoder_;
  Decoder<T> decoder_;
  std::unique_ptr<Linear<T>> out_;         // weight tied to the target embedding when asked
  Parameter<T>* out_bias_ = nullptr;
};

}  // namespace attn
