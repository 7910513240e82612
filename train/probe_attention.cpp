// The attention probes: statistics of each head's weights, induction and previous-token scores
// on repeated random tokens, and head importance by ablation.
#include <fmt/core.h>

#include <cmath>
#include <random>

#include "nn/attention.hpp"
#include "train/evaluate.hpp"
#include "train/probe.hpp"

namespace attn {

namespace {

template <class T>
std::vector<std::pair<std::string, MultiHeadAttention<T>*>> attention_modules(Seq2SeqModel<T>& m) {
  std::vector<std::pair<std::string, MultiHeadAttention<T>*>> out;
  for (auto& [name, mod] : m.named_modules())
    if (auto* a = dynamic_cast<MultiHeadAttention<T>*>(mod)) out.push_back({name, a});
  if (out.empty()) throw Error(fmt::format("probe: {} has no attention heads", m.config.type));
  return out;
}

// Keeps attention weights in eval mode for its lifetime; afterwards the model keeps none and
// holds no handle into the probe's graph, however the forward ended.
template <class T>
struct KeepAttention {
  Seq2SeqModel<T>& m;
  std::vector<std::pair<std::string, MultiHeadAttention<T>*>> modules;
  bool was_training;
  explicit KeepAttention(Seq2SeqModel<T>& m) : m(m), modules(attention_modules(m)), was_training(m.training()) {
    m.eval();
    m.keep_attention(true);
  }
  ~KeepAttention() {
    m.keep_attention(false);
    for (auto& [name, a] : modules) a->last_weights = Tensor<T>();
    m.train(was_training);
  }
};

// The weights of every head from one eval-mode forward over `sb` in `g`: [B, H, Tq, Tk] per map,
// then passed to `use` while `g` holds them.
template <class T, class F>
void with_maps(Seq2SeqModel<T>& m, const SeqBatch& sb, F&& use) {
  Graph<T> g;
  KeepAttention<T> keep(m);
  NoGrad<T> ng(g);
  m.forward(g, sb);
  use(m.attention_maps());
}

// Visits each real query row (q < length of its row, at least two keys visible) of map `w`.
template <class T, class F>
void each_query(const Tensor<T>& w, const std::vector<int>& lengths, F&& f) {
  const int64_t B = w.size(0), H = w.size(1), Tq = w.size(2), Tk = w.size(3);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t q = 1; q < std::min<int64_t>(Tq, lengths[(size_t)b]); ++q)
        f(b, h, q, w.data() + ((b * H + h) * Tq + q) * Tk, std::min<int64_t>(Tk, q + 1));
}

}  // namespace

namespace {

// Distance, entropy, confidence and source mass of each head of one map.
template <class T>
void map_stats(const AttentionMap<T>& map, int layer, const data::Batch& b, std::vector<HeadStats>& out) {
  const Tensor<T>& w = map.weights;
  const int64_t H = w.size(1);
  std::vector<double> dist(H), ent(H), conf(H), mass(H);
  std::vector<int64_t> n(H), labels(H);
  each_query(w, b.stream_lengths, [&](int64_t row, int64_t h, int64_t q, const T* wq, int64_t keys) {
    double d = 0, e = 0, c = 0;
    for (int64_t k = 0; k < keys; ++k) {
      const double v = wq[k];
      d += v * double(q - k);
      if (v > 0) e -= v * std::log(v);
      c = std::max(c, v);
    }
    dist[h] += d, ent[h] += e, conf[h] += c, ++n[h];
    const size_t at = (size_t)row * b.len + q;
    const int ld = b.label_distance[at];
    if (b.labels[at] != data::Vocab::PAD && ld >= 0 && ld <= q) {
      mass[h] += wq[q - ld];
      ++labels[h];
    }
  });
  for (int64_t h = 0; h < H; ++h) {
    HeadStats s;
    s.module = map.name;
    s.layer = layer;
    s.head = (int)h;
    if (n[h]) s.mean_distance = dist[h] / n[h], s.entropy = ent[h] / n[h], s.confidence = conf[h] / n[h];
    if (labels[h]) s.source_mass = mass[h] / labels[h];
    s.source_labels = labels[h];
    out.push_back(s);
  }
}

}  // namespace

template <class T>
std::vector<HeadStats> attention_stats(Seq2SeqModel<T>& m, const data::Batch& b) {
  if (!b.is_stream()) throw Error("probe: the batch is not a stream (the probes read one-stream models, format lm)");
  std::vector<HeadStats> out;
  with_maps(m, to_seq_batch(b), [&](const std::vector<AttentionMap<T>>& maps) {
    for (size_t l = 0; l < maps.size(); ++l) map_stats(maps[l], (int)l, b, out);
  });
  return out;
}

template <class T>
void repeat_scores(Seq2SeqModel<T>& m, const std::vector<int>& tokens, int64_t batch, int64_t n,
                   std::vector<HeadStats>& stats) {
  // With n = 2 the induction offset q - n + 1 is q - 1, the previous token.
  if (n < 3 || (int64_t)tokens.size() != batch * 2 * n)
    throw Error(fmt::format("probe: repeated tokens need n >= 3 and {} ids, not n {} and {}", batch * 2 * n, n, tokens.size()));
  SeqBatch sb;
  sb.batch = batch;
  sb.len = 2 * n;
  sb.tokens = tokens;
  const std::vector<int> lengths((size_t)batch, (int)(2 * n));
  with_maps(m, sb, [&](const std::vector<AttentionMap<T>>& maps) {
    for (size_t l = 0; l < maps.size(); ++l) {
      const int64_t H = maps[l].weights.size(1);
      std::vector<double> prev(H), ind(H);
      std::vector<int64_t> np(H), ni(H);
      each_query(maps[l].weights, lengths, [&](int64_t, int64_t h, int64_t q, const T* wq, int64_t) {
        prev[h] += wq[q - 1], ++np[h];
        if (q >= n) ind[h] += wq[q - n + 1], ++ni[h];
      });
      for (HeadStats& s : stats)
        if (s.layer == (int)l && s.head < H) {
          s.previous_token = np[s.head] ? prev[s.head] / np[s.head] : -1;
          s.induction = ni[s.head] ? ind[s.head] / ni[s.head] : -1;
        }
    }
  });
}

std::vector<int> repeated_random_tokens(int64_t batch, int64_t n, int first, int last, uint64_t seed) {
  if (last - first < 2) throw Error("probe: repeated random tokens need at least two ids to draw from");
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> id(first, last - 1);
  std::vector<int> out;
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int> half((size_t)n);
    for (int& t : half) t = id(rng);
    out.insert(out.end(), half.begin(), half.end());
    out.insert(out.end(), half.begin(), half.end());
  }
  return out;
}

template <class T>
std::vector<HeadAblation> ablate_heads(Seq2SeqModel<T>& m, const data::Dataset& ds, data::Split split,
                                       size_t examples) {
  const auto modules = attention_modules(m);
  std::vector<HeadAblation> out;
  const EvalResult intact = evaluate(m, ds, split, examples);
  out.push_back({"", -1, -1, intact.sequence_accuracy(), intact.token_accuracy()});
  for (size_t l = 0; l < modules.size(); ++l) {
    MultiHeadAttention<T>& a = *modules[l].second;
    for (int h = 0; h < a.heads; ++h) {
      a.zeroed_heads.assign((size_t)a.heads, 0);
      a.zeroed_heads[(size_t)h] = 1;
      EvalResult r;
      try {
        r = evaluate(m, ds, split, examples);
      } catch (...) {
        a.zeroed_heads.clear();
        throw;
      }
      a.zeroed_heads.clear();
      out.push_back({modules[l].first, (int)l, h, r.sequence_accuracy(), r.token_accuracy()});
    }
  }
  return out;
}

template std::vector<HeadStats> attention_stats(Seq2SeqModel<float>&, const data::Batch&);
template std::vector<HeadStats> attention_stats(Seq2SeqModel<double>&, const data::Batch&);
template void repeat_scores(Seq2SeqModel<float>&, const std::vector<int>&, int64_t, int64_t, std::vector<HeadStats>&);
template void repeat_scores(Seq2SeqModel<double>&, const std::vector<int>&, int64_t, int64_t, std::vector<HeadStats>&);
template std::vector<HeadAblation> ablate_heads(Seq2SeqModel<float>&, const data::Dataset&, data::Split, size_t);

}  // namespace attn
