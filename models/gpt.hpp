// DecoderOnlyTransformer (--model gpt): a causal language model over the one-stream layout
// (data/stream.hpp), `source SEP target`. With learned positions and default options it is
// exactly class CausalLM of reference/torch_gpt_step.py: a token embedding `tok_emb`, a learned
// table `pos` [1, max_len, D] added unscaled, N pre-LN nn.TransformerEncoderLayer blocks (GELU)
// under a causal mask (`layers.N.*`), a final LayerNorm `norm` and an output Linear `out` with
// bias. Parameter names match its state_dict.
#pragma once
#include <string>

#include "models/positions.hpp"
#include "models/seq2seq.hpp"
#include "nn/transformer.hpp"

namespace attn {

// The settings, read from the family's fields (models/family_gpt.cpp).
struct GptOptions {
  LayerConfig layer;
  int64_t layers = 2;
  PosEncoding pos = PosEncoding::learned;
  double rope_base = 10000;  // with rope
  int64_t max_len = 64;     // rows of the position table
  bool tie_output = false;  // out.weight is tok_emb.weight; out.bias stays
};

template <class T>
class DecoderOnlyTransformer : public Seq2SeqModel<T> {
 public:
  DecoderOnlyTransformer(const ModelConfig& c, const GptOptions& o, uint64_t seed);
  // Logits [B, len, V] at every position of the stream b.tokens [B, len]; needs b.len > 0.
  // Right padding needs no mask (causality hides it); b.tokens_pad is honoured when given.
  Tensor<T> forward(Graph<T>& g, const SeqBatch& b) override;
  // Continues each row's source followed by `bos` (the SEP), with the key/value cache.
  std::vector<std::vector<int>> greedy_decode(Graph<T>& g, const SeqBatch& src, int64_t max_steps, int bos,
                                              int eos) override;
  // Both decoders: cached, or rerunning the whole prefix at every step (the reference). Rows are
  // grouped by prompt length, so no prompt is padded. `step_logits` (optional) receives each
  // step's logits [B * V] in row order (NaN for a row whose group had already stopped).
  std::vector<std::vector<int>> decode(Graph<T>& g, const SeqBatch& src, int64_t max_steps, int bos, int eos,
                                       bool cached, std::vector<std::vector<T>>* step_logits = nullptr);
  std::vector<int> sample(Graph<T>& g, const std::vector<int>& prompt, int64_t n, double temperature, int64_t top_k,
                          Rng& rng) override;
  void keep_attention(bool on) override;
  std::vector<AttentionMap<T>> attention_maps() const override;
  Rng& dropout_rng() override { return dropout_rng_; }

  // Logits [B, n, V] of tokens `ids` [B, n] under `mask`, from position 0, or with `caches`
  // (one per layer) after the positions they hold: the new keys and values are appended there
  // and the queries see every cached one.
  Tensor<T> logits(Graph<T>& g, const std::vector<int>& ids, int64_t batch, int64_t n,
                   const AttentionMask& mask = AttentionMask(true), std::vector<KVCache<T>>* caches = nullptr);

 private:
  Tensor<T> positions(Graph<T>& g, int64_t first, int64_t len);  // [1, len, D]
  void check_positions(int64_t end) const;  // throws when positions 0..end-1 overrun the table
  // How many tokens a prompt of `prompt_len` may be continued by: up to `wanted`, fewer at the
  // position table's end.
  int64_t steps_for(int64_t prompt_len, int64_t wanted) const;
  std::vector<KVCache<T>> make_caches(int64_t batch, int64_t capacity) const;
  // Greedy continuation of `G` prompts of P tokens each ([G * P]); step logits [G * V] per step.
  std::vector<std::vector<int>> decode_group(Graph<T>& g, const std::vector<int>& prompts, int64_t G, int64_t P,
                                             int64_t steps, int eos, bool cached, std::vector<std::vector<T>>* logs);
  GptOptions opt_;
  Rng init_rng_, dropout_rng_;
  Embedding<T> tok_emb_;
  Parameter<T>* pos_ = nullptr;  // learned positions
  std::vector<std::unique_ptr<EncoderLayer<T>>> layers_;
  LayerNorm<T> norm_;
  std::unique_ptr<Linear<T>> out_;  // null when tied to tok_emb
  Parameter<T>* out_bias_ = nullptr;
};

}  // namespace attn
