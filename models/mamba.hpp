// MambaLM (--model mamba): a causal language model over the one-stream layout (data/stream.hpp),
// `source SEP target`, after MambaLMHeadModel of state-spaces/mamba (mamba_ssm/models/
// mixer_seq_simple.py) with rms_norm: an embedding, blocks h = h + mixer(RMSNorm(h)) (nn/mamba.hpp),
// a final RMSNorm `norm_f` and a head `lm_head` without bias, untied unless tie_output. Parameter
// names are the reference's without its `backbone.` prefix. No positions: the recurrence orders them.
#pragma once
#include <memory>
#include <vector>

#include "models/seq2seq.hpp"
#include "nn/mamba.hpp"

namespace attn {

struct MambaOptions {
  MambaMixerConfig mixer;  // its n_layer is the number of blocks
  bool tie_output = false;
};

template <class T>
class MambaBlock : public Module<T> {
 public:
  MambaBlock(const MambaMixerConfig& c, Rng& rng) : norm(c.d_model), mixer(c, rng) {
    this->add_module("norm", norm);
    this->add_module("mixer", mixer);
  }
  RMSNorm<T> norm;
  MambaMixer<T> mixer;
};

template <class T>
class MambaLM : public Seq2SeqModel<T> {
 public:
  MambaLM(const ModelConfig& c, const MambaOptions& o, uint64_t seed);
  // Logits [B, len, V] at every position of the stream b.tokens [B, len]. Right padding needs no
  // mask: a position sees only those before it.
  Tensor<T> forward(Graph<T>& g, const SeqBatch& b) override;
  // Continues each row's source followed by `bos` (the SEP) with the recurrent state.
  std::vector<std::vector<int>> greedy_decode(Graph<T>& g, const SeqBatch& src, int64_t max_steps, int bos,
                                              int eos) override;
  // Both decoders: with the recurrent state (prompt fed one token at a time, then O(1) per
  // token), or rerunning the whole prefix at every step (the reference). Rows are grouped by
  // prompt length; `step_logits` as DecoderOnlyTransformer::decode.
  std::vector<std::vector<int>> decode(Graph<T>& g, const SeqBatch& src, int64_t max_steps, int bos, int eos,
                                       bool recurrent, std::vector<std::vector<T>>* step_logits = nullptr);
  std::vector<int> sample(Graph<T>& g, const std::vector<int>& prompt, int64_t n, double temperature, int64_t top_k,
                          Rng& rng) override;
  Rng& dropout_rng() override { return dropout_rng_; }

  // Logits [B, n, V] of tokens `ids` [B, n] from position 0.
  Tensor<T> logits(Graph<T>& g, const std::vector<int>& ids, int64_t batch, int64_t n);
  // Logits [B, 1, V] of one token per row after the positions `states` (one per block) hold.
  Tensor<T> step(Graph<T>& g, const std::vector<int>& ids, std::vector<typename MambaMixer<T>::State>& states);
  std::vector<typename MambaMixer<T>::State> zero_states(int64_t batch) const;

 private:
  Tensor<T> head(Graph<T>& g, const Tensor<T>& h);
  std::vector<std::vector<int>> decode_group(Graph<T>& g, const std::vector<int>& prompts, int64_t G, int64_t P,
                                             int64_t steps, int eos, bool recurrent, std::vector<std::vector<T>>* logs);
  MambaOptions opt_;
  Rng init_rng_, dropout_rng_;  // no dropout: the generator is kept for the interface
  Embedding<T> embedding_;
  std::vector<std::unique_ptr<MambaBlock<T>>> layers_;
  RMSNorm<T> norm_f_;
  std::unique_ptr<Linear<T>> lm_head_;  // null when tied to the embedding
};

}  // namespace attn
