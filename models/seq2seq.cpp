#include "models/seq2seq.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <type_traits>

#include "models/family.hpp"

namespace attn {

std::vector<int> SeqBatch::src_lengths() const {
  std::vector<int> len(batch, 0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < src_len; ++t) len[b] += src_pad.empty() || !src_pad[b * src_len + t];
  return len;
}

template <class T>
std::unique_ptr<Seq2SeqModel<T>> make_model(const ModelConfig& c, uint64_t seed) {
  c.validate();
  const ModelFamily& f = model_family(c.type);
  if constexpr (std::is_same_v<T, float>) return f.make_f32(c, seed);
  else return f.make_f64(c, seed);
}

template <class T>
std::vector<std::vector<int>> greedy_decode_full(Seq2SeqModel<T>& m, Graph<T>& g, const SeqBatch& src,
                                                 int64_t max_steps, int bos, int eos,
                                                 std::vector<std::vector<T>>* step_logits) {
  NoGrad<T> ng(g);
  const int64_t B = src.batch, V = m.config.tgt_vocab;
  // A model written outside the registry (its config names no family) has no position table.
  if (const int64_t limit = m.config.type.empty() ? 0 : position_limit(m.config); limit > 0)
    max_steps = std::min(max_steps, limit);
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

template std::unique_ptr<Seq2SeqModel<float>> make_model(const ModelConfig&, uint64_t);
template std::unique_ptr<Seq2SeqModel<double>> make_model(const ModelConfig&, uint64_t);
template std::vector<std::vector<int>> greedy_decode_full(Seq2SeqModel<float>&, Graph<float>&, const SeqBatch&,
                                                          int64_t, int, int, std::vector<std::vector<float>>*);
template std::vector<std::vector<int>> greedy_decode_full(Seq2SeqModel<double>&, Graph<double>&, const SeqBatch&,
                                                          int64_t, int, int, std::vector<std::vector<double>>*);

}  // namespace attn
