// The attention probes: statistics of each head's weights, induction and previous-token scores
// on repeated random tokens, and head importance by ablation.
#include <fmt/core.h>

#include <cmath>
#include <random>

#include "models/family.hpp"
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

// Each row's real length on one side of a map: "stream", "source", or "target" (BOS, then the
// target: the decoder's inputs up to the one that predicts EOS).
std::vector<int> side_lengths(const data::Batch& b, const std::string& side) {
  if (side == "stream") return b.stream_lengths;
  if (side == "source") return b.src_lengths;
  std::vector<int> n;
  for (int l : b.tgt_lengths) n.push_back(l + 1);
  return n;
}

// One map's queries and keys: the family's declared site and each row's lengths on both sides.
struct MapSides {
  const AttentionSite& site;
  std::vector<int> queries, keys;
  bool cross() const { return site.queries != site.keys; }
  // A key's distance from query q: |q - k| within one sequence; across from target to source,
  // the key's distance to the source's end (S - k), which is how the tasks count a label's
  // distance (docs/tasks.md).
  double distance(int64_t row, int64_t q, int64_t k) const {
    return cross() ? double(keys[(size_t)row] - k) : std::abs(double(q - k));
  }
};

MapSides map_sides(const ModelConfig& c, const std::string& name, const data::Batch& b) {
  const AttentionSite& s = attention_site(c, name);
  return {s, side_lengths(b, s.queries), side_lengths(b, s.keys)};
}

// Visits each real query row of map `w` with the keys it sees (all of its row's keys, or those
// up to its own position when causal), skipping queries that see fewer than two.
template <class T, class F>
void each_query(const Tensor<T>& w, const MapSides& sides, F&& f) {
  const int64_t B = w.size(0), H = w.size(1), Tq = w.size(2), Tk = w.size(3);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t q = 0; q < std::min<int64_t>(Tq, sides.queries[(size_t)b]); ++q) {
        int64_t keys = std::min<int64_t>(Tk, sides.keys[(size_t)b]);
        if (sides.site.causal) keys = std::min(keys, q + 1);
        if (keys >= 2) f(b, h, q, w.data() + ((b * H + h) * Tq + q) * Tk, keys);
      }
}

// The key that query q's label truly depends on, or -1: in a stream, the label at q and its
// distance; from target to source, the target token at q and its source distance.
int64_t source_key(const MapSides& sides, const data::Batch& b, int64_t row, int64_t q) {
  if (sides.site.keys == "stream") {
    const size_t at = (size_t)row * b.len + q;
    const int ld = b.label_distance[at];
    return b.labels[at] != data::Vocab::PAD && ld >= 0 && ld <= q ? q - ld : -1;
  }
  if (sides.site.keys == "source" && sides.site.queries == "target") {
    const size_t at = (size_t)row * b.tgt_len + q;
    const int d = b.distance[at], S = sides.keys[(size_t)row];
    return b.tgt_out[at] != data::Vocab::PAD && d >= 1 && d <= S ? S - d : -1;
  }
  return -1;
}

// Distance, entropy, confidence and source mass of each head of one map.
template <class T>
void map_stats(const AttentionMap<T>& map, const MapSides& sides, int layer, const data::Batch& b,
               std::vector<HeadStats>& out) {
  const Tensor<T>& w = map.weights;
  const int64_t H = w.size(1);
  std::vector<double> dist(H), ent(H), conf(H), mass(H);
  std::vector<int64_t> n(H), labels(H);
  each_query(w, sides, [&](int64_t row, int64_t h, int64_t q, const T* wq, int64_t keys) {
    double d = 0, e = 0, c = 0;
    for (int64_t k = 0; k < keys; ++k) {
      const double v = wq[k];
      d += v * sides.distance(row, q, k);
      if (v > 0) e -= v * std::log(v);
      c = std::max(c, v);
    }
    dist[h] += d, ent[h] += e, conf[h] += c, ++n[h];
    const int64_t src = source_key(sides, b, row, q);
    if (src >= 0 && src < keys) {
      mass[h] += wq[src];
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
  std::vector<HeadStats> out;
  with_maps(m, to_seq_batch(b), [&](const std::vector<AttentionMap<T>>& maps) {
    for (size_t l = 0; l < maps.size(); ++l) map_stats(maps[l], map_sides(m.config, maps[l].name, b), (int)l, b, out);
  });
  return out;
}

template <class T>
void repeat_scores(Seq2SeqModel<T>& m, const std::vector<int>& tokens, int64_t batch, int64_t n,
                   std::vector<HeadStats>& stats) {
  // With n = 2 the induction offset q - n + 1 is q - 1, the previous token.
  if (n < 3 || (int64_t)tokens.size() != batch * 2 * n)
    throw Error(fmt::format("probe: repeated tokens need n >= 3 and {} ids, not n {} and {}", batch * 2 * n, n, tokens.size()));
  // The repeated tokens as the stream, or as both the source and the decoder's input.
  SeqBatch sb;
  sb.batch = batch;
  if (m.config.resolved_format() == "lm") {
    sb.len = 2 * n;
    sb.tokens = tokens;
  } else {
    sb.src_len = sb.tgt_len = 2 * n;
    sb.src = sb.tgt_in = tokens;
    sb.src_pad.assign(tokens.size(), 0);
    sb.tgt_pad.assign(tokens.size(), 0);
  }
  const std::vector<int> lengths((size_t)batch, (int)(2 * n));
  with_maps(m, sb, [&](const std::vector<AttentionMap<T>>& maps) {
    for (size_t l = 0; l < maps.size(); ++l) {
      const MapSides sides{attention_site(m.config, maps[l].name), lengths, lengths};
      if (sides.cross()) continue;  // the scores are of a sequence attending to itself
      const int64_t H = maps[l].weights.size(1);
      std::vector<double> prev(H), ind(H);
      std::vector<int64_t> np(H), ni(H);
      each_query(maps[l].weights, sides, [&](int64_t, int64_t h, int64_t q, const T* wq, int64_t) {
        if (q >= 1) prev[h] += wq[q - 1], ++np[h];
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
