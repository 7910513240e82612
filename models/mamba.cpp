#include "models/mamba.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "models/sampling.hpp"

namespace attn {

template <class T>
MambaLM<T>::MambaLM(const ModelConfig& c, const MambaOptions& o, uint64_t seed)
    : Seq2SeqModel<T>(c),
      opt_(o),
      init_rng_(seed),
      dropout_rng_(seed ^ 0x6e7a11cULL),
      embedding_(c.tgt_vocab, o.mixer.d_model, init_rng_),
      norm_f_(o.mixer.d_model) {
  const int64_t D = o.mixer.d_model;
  init_normal(embedding_.weight, 0.02, init_rng_);  // _init_weights: nn.init.normal_(std=0.02)
  this->add_module("embedding", embedding_);
  for (int64_t i = 0; i < o.mixer.n_layer; ++i) {
    layers_.push_back(std::make_unique<MambaBlock<T>>(o.mixer, init_rng_));
    this->add_module(fmt::format("layers.{}", i), *layers_.back());
  }
  this->add_module("norm_f", norm_f_);
  if (!o.tie_output) {
    lm_head_ = std::make_unique<Linear<T>>(D, c.tgt_vocab, false, init_rng_);
    this->add_module("lm_head", *lm_head_);
  }
}

template <class T>
Tensor<T> MambaLM<T>::head(Graph<T>& g, const Tensor<T>& h) {
  Tensor<T> n = norm_f_.forward(g, h);
  return lm_head_ ? lm_head_->forward(g, n) : linear(n, embedding_.weight.bind(g), Tensor<T>());
}

template <class T>
Tensor<T> MambaLM<T>::logits(Graph<T>& g, const std::vector<int>& ids, int64_t B, int64_t n) {
  Tensor<T> h = embedding_.forward(g, ids, {B, n});
  for (auto& l : layers_) h = h + l->mixer.forward(g, l->norm.forward(g, h));
  return head(g, h);
}

template <class T>
Tensor<T> MambaLM<T>::step(Graph<T>& g, const std::vector<int>& ids, std::vector<typename MambaMixer<T>::State>& s) {
  Tensor<T> h = embedding_.forward(g, ids, {(int64_t)ids.size(), 1});
  for (size_t i = 0; i < layers_.size(); ++i) h = h + layers_[i]->mixer.step(g, layers_[i]->norm.forward(g, h), s[i]);
  return head(g, h);
}

template <class T>
std::vector<typename MambaMixer<T>::State> MambaLM<T>::zero_states(int64_t batch) const {
  std::vector<typename MambaMixer<T>::State> s;
  for (const auto& l : layers_) s.push_back(l->mixer.zero_state(batch));
  return s;
}

template <class T>
Tensor<T> MambaLM<T>::forward(Graph<T>& g, const SeqBatch& b) {
  if (b.len <= 0)
    throw Error("mamba reads the one-stream layout (format lm: source SEP target), and this batch has no stream; "
                "train with --format lm");
  return logits(g, b.tokens, b.batch, b.len);
}

template <class T>
std::vector<std::vector<int>> MambaLM<T>::decode_group(Graph<T>& g, const std::vector<int>& prompts, int64_t G,
                                                       int64_t P, int64_t steps, int eos, bool recurrent,
                                                       std::vector<std::vector<T>>* logs) {
  const int64_t V = this->config.tgt_vocab;
  std::vector<std::vector<int>> out(G), prefix(G);
  for (int64_t r = 0; r < G; ++r) prefix[r].assign(prompts.begin() + r * P, prompts.begin() + (r + 1) * P);
  std::vector<int> token(G);
  std::vector<bool> done(G, false);
  auto states = zero_states(G);
  for (int64_t t = 0; t < steps; ++t) {
    Tensor<T> l;
    if (recurrent) {  // the prompt one position at a time, then each new token
      for (int64_t p = t ? P + t - 1 : 0; p < P + t; ++p) {
        g.reset();
        std::vector<int> ids(G);
        for (int64_t r = 0; r < G; ++r) ids[r] = prefix[r][p];
        l = step(g, ids, states);
      }
    } else {
      g.reset();
      std::vector<int> ids;
      for (auto& p : prefix) ids.insert(ids.end(), p.begin(), p.end());
      l = logits(g, ids, G, P + t);
    }
    const int64_t n = l.shape()[1];
    const T* last = l.data() + (n - 1) * V;  // each row's newest position, stride n * V
    if (logs) {
      logs->emplace_back();
      for (int64_t r = 0; r < G; ++r) logs->back().insert(logs->back().end(), last + r * n * V, last + r * n * V + V);
    }
    const bool all_done = greedy_step(last, n * V, V, eos, token, done, out);
    for (int64_t r = 0; r < G; ++r) prefix[r].push_back(token[r]);
    if (all_done) break;
  }
  g.reset();
  return out;
}

template <class T>
std::vector<std::vector<int>> MambaLM<T>::decode(Graph<T>& g, const SeqBatch& src, int64_t max_steps, int bos,
                                                 int eos, bool recurrent, std::vector<std::vector<T>>* step_logits) {
  NoGrad<T> ng(g);
  const int64_t B = src.batch, V = this->config.tgt_vocab;
  const std::vector<int> lengths = src.src_lengths();
  std::map<int64_t, std::vector<int64_t>> groups;  // prompt length -> rows
  for (int64_t r = 0; r < B; ++r) groups[lengths[r] + 1].push_back(r);
  std::vector<std::vector<int>> out(B);
  for (const auto& [P, rows] : groups) {
    const int64_t G = (int64_t)rows.size();
    std::vector<int> prompts;
    for (int64_t r : rows) {
      prompts.insert(prompts.end(), src.src.begin() + r * src.src_len, src.src.begin() + r * src.src_len + P - 1);
      prompts.push_back(bos);
    }
    std::vector<std::vector<T>> logs;
    const auto got = decode_group(g, prompts, G, P, max_steps, eos, recurrent, step_logits ? &logs : nullptr);
    for (int64_t i = 0; i < G; ++i) out[rows[i]] = got[i];
    if (!step_logits) continue;
    if (step_logits->size() < logs.size())
      step_logits->resize(logs.size(), std::vector<T>(B * V, std::numeric_limits<T>::quiet_NaN()));
    for (size_t t = 0; t < logs.size(); ++t)
      for (int64_t i = 0; i < G; ++i)
        std::copy(logs[t].begin() + i * V, logs[t].begin() + (i + 1) * V, (*step_logits)[t].begin() + rows[i] * V);
  }
  return out;
}

template <class T>
std::vector<std::vector<int>> MambaLM<T>::greedy_decode(Graph<T>& g, const SeqBatch& src, int64_t max_steps, int bos,
                                                        int eos) {
  return decode(g, src, max_steps, bos, eos, true);
}

template <class T>
std::vector<int> MambaLM<T>::sample(Graph<T>& g, const std::vector<int>& prompt, int64_t n, double temperature,
                                    int64_t top_k, Rng& rng) {
  check_sample_args("mamba", prompt, temperature, top_k);
  NoGrad<T> ng(g);
  const int64_t V = this->config.tgt_vocab;
  auto states = zero_states(1);
  Tensor<T> l;
  for (int tok : prompt) {
    g.reset();
    l = step(g, {tok}, states);
  }
  std::vector<int> out;
  for (int64_t t = 0; t < n; ++t) {
    out.push_back(pick_token(l.data(), V, temperature, top_k, rng));
    if (t + 1 == n) break;
    g.reset();
    l = step(g, {out.back()}, states);
  }
  g.reset();
  return out;
}

template class MambaLM<float>;
template class MambaLM<double>;

}  // namespace attn
