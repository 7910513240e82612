// The interface every sequence-to-sequence model offers to training, evaluation and decoding.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/config.hpp"
#include "nn/module.hpp"

namespace attn {

// Token ids of a padded batch, row-major. tgt_in starts with BOS; pads are marked with 1.
struct SeqBatch {
  int64_t batch = 0, src_len = 0, tgt_len = 0;
  std::vector<int> src, tgt_in;
  std::vector<uint8_t> src_pad, tgt_pad;
  std::vector<int> src_lengths() const;  // real tokens per sequence
};

// One attention map of one layer: [B, H, Tq, Tk].
template <class T>
struct AttentionMap {
  std::string name;  // e.g. "encoder.layers.0.self_attn"
  Tensor<T> weights;
};

template <class T>
class Seq2SeqModel : public Module<T> {
 public:
  explicit Seq2SeqModel(const ModelConfig& c) : config(c) {}
  // Teacher-forced logits [B, tgt_len, tgt_vocab].
  virtual Tensor<T> forward(Graph<T>& g, const SeqBatch& b) = 0;
  // Greedy decoding of up to max_steps tokens per sequence (stops at eos; the Transformer also
  // at its position table's length). Runs without gradients and resets `g` as it goes.
  // Returns the tokens after BOS, without EOS.
  virtual std::vector<std::vector<int>> greedy_decode(Graph<T>& g, const SeqBatch& src, int64_t max_steps,
                                                      int bos, int eos) = 0;
  // Attention maps from the last forward, when keep_attention(true) was set before it.
  virtual void keep_attention(bool on) { (void)on; }
  virtual std::vector<AttentionMap<T>> attention_maps() const { return {}; }
  // The generator dropout draws from; its state is saved for an exact resume.
  virtual Rng& dropout_rng() = 0;
  ModelConfig config;
};

// Builds the model a config describes, initialised from `seed`. Dropout draws from its own
// generator, seeded from `seed` too, and saved with training state (dropout_rng()).
template <class T>
std::unique_ptr<Seq2SeqModel<T>> make_model(const ModelConfig& c, uint64_t seed);

// Greedy continuation by full recomputation: each step reruns the decoder over the whole
// prefix. The reference the incremental (cached) decoder is tested against.
template <class T>
std::vector<std::vector<int>> greedy_decode_full(Seq2SeqModel<T>& m, Graph<T>& g, const SeqBatch& src,
                                                 int64_t max_steps, int bos, int eos,
                                                 std::vector<std::vector<T>>* step_logits = nullptr);

}  // namespace attn
