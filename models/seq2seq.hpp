// The interface every sequence-to-sequence model offers to training, evaluation and decoding.
#pragma once
#include <algorithm>
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
  // The one-stream rendering for language models (data/stream.hpp): [batch x len], PAD after
  // each stream; len is 0 for a seq2seq batch.
  int64_t len = 0;
  std::vector<int> tokens;
  std::vector<uint8_t> tokens_pad;  // optional key-padding mask of the stream: empty, or 1 at pads
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
  // Teacher-forced logits [B, tgt_len, tgt_vocab]; for a stream batch (len > 0) the logits at
  // every stream position, [B, len, tgt_vocab]. Models of format lm read the stream.
  virtual Tensor<T> forward(Graph<T>& g, const SeqBatch& b) = 0;
  // Greedy decoding of up to max_steps tokens per sequence (stops at eos; the Transformer also
  // at its position table's length). Runs without gradients and resets `g` as it goes.
  // Returns the tokens after BOS, without EOS.
  virtual std::vector<std::vector<int>> greedy_decode(Graph<T>& g, const SeqBatch& src, int64_t max_steps,
                                                      int bos, int eos) = 0;
  // Continues `prompt` (for a model trained on streams: source then SEP) by n tokens drawn from
  // softmax(logits / temperature), restricted to the top_k largest logits (0: all); temperature 0
  // is greedy. Stops early only at a position table's end; EOS is returned like any token.
  virtual std::vector<int> sample(Graph<T>& g, const std::vector<int>& prompt, int64_t n, double temperature,
                                  int64_t top_k, Rng& rng) {
    (void)g, (void)prompt, (void)n, (void)temperature, (void)top_k, (void)rng;
    throw Error(config.type + " cannot sample: it is not a language model");
  }
  // Attention maps from the last forward, when keep_attention(true) was set before it.
  virtual void keep_attention(bool on) { (void)on; }
  virtual std::vector<AttentionMap<T>> attention_maps() const { return {}; }
  // The generator dropout draws from; its state is saved for an exact resume.
  virtual Rng& dropout_rng() = 0;
  ModelConfig config;
};

// One greedy step for a batch: row b of the logits starts at first_row + b * row_stride. Sets
// token[b] to its argmax, appends it to out[b] until that sequence has produced `eos`. Returns
// true once every sequence is done.
template <class T>
bool greedy_step(const T* first_row, int64_t row_stride, int64_t V, int eos, std::vector<int>& token,
                 std::vector<bool>& done, std::vector<std::vector<int>>& out) {
  bool all_done = true;
  for (size_t b = 0; b < token.size(); ++b) {
    const T* row = first_row + (int64_t)b * row_stride;
    token[b] = int(std::max_element(row, row + V) - row);
    if (!done[b]) {
      if (token[b] == eos) done[b] = true;
      else out[b].push_back(token[b]);
    }
    all_done = all_done && done[b];
  }
  return all_done;
}

// Builds the model a config describes, initialised from `seed`. Dropout draws from its own
// generator, seeded from `seed` too, and saved with training state (dropout_rng()).
template <class T>
std::unique_ptr<Seq2SeqModel<T>> make_model(const ModelConfig& c, uint64_t seed);

// Greedy continuation by full recomputation: each step reruns the decoder over the whole
// prefix. The reference the incremental (cached) decoder is tested against, and a decoder for a
// model written outside the registry (its position limit is then not looked up).
template <class T>
std::vector<std::vector<int>> greedy_decode_full(Seq2SeqModel<T>& m, Graph<T>& g, const SeqBatch& src,
                                                 int64_t max_steps, int bos, int eos,
                                                 std::vector<std::vector<T>>* step_logits = nullptr);

}  // namespace attn
