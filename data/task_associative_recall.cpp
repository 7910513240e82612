// associative-recall: key-value pairs, then queries of some keys (multi-query, as in MQAR).
#include <cmath>
#include <fmt/core.h>
#include <unordered_map>

#include "data/tasks_impl.hpp"

namespace attn::data::detail {
namespace {

const TaskSpec& this_spec() {
  static const TaskSpec s{
      "associative-recall",
      "Recall the values of queried keys from a list of key-value pairs.",
      "source: K pairs 'kX vY' with distinct keys, G blanks '_', then Q distinct queried keys; "
      "target: the Q values, in query order",
      "target token j depends on its pair's key (the farthest source token it needs): distance S - p, "
      "p = position of that key; the gap between a pair and its query sets it",
      "Arora et al. 2023, Zoology: Measuring and Improving Recall in Efficient Language Models (MQAR); "
      "Ba et al. 2016, Using Fast Weights to Attend to the Recent Past (associative retrieval)",
      {
          {"pairs", 16, 1, 10000, "number of key-value pairs, K"},
          {"queries", 8, 1, 10000, "number of queried keys, Q (at most K, no key asked twice)"},
          {"keys", 64, 1, 100000, "size of the key alphabet (tokens k0 ..); at least K"},
          {"values", 64, 1, 100000, "size of the value alphabet (tokens v0 ..); values may repeat"},
          {"gap", 0, 0, 100000, "blanks between the last pair and the first query, G"},
      }};
  return s;
}

// Partial Fisher-Yates over a virtual [0, n): k distinct values in random order, O(k) memory.
std::vector<int64_t> draw_distinct(Xoshiro& rng, int64_t n, int64_t k) {
  std::unordered_map<int64_t, int64_t> swapped;
  auto at = [&](int64_t i) {
    auto it = swapped.find(i);
    return it == swapped.end() ? i : it->second;
  };
  std::vector<int64_t> out(k);
  for (int64_t i = 0; i < k; ++i) {
    const int64_t j = i + (int64_t)rng.below((uint64_t)(n - i));
    const int64_t vi = at(i), vj = at(j);
    out[i] = vj;
    swapped[j] = vi;
  }
  return out;
}

class AssociativeRecall final : public Task {
 public:
  explicit AssociativeRecall(const KnobValues& k)
      : Task(this_spec(), k, make_vocab(k)),
        pairs_(k.at("pairs")),
        queries_(k.at("queries")),
        keys_(k.at("keys")),
        values_(k.at("values")),
        gap_(k.at("gap")) {
    if (queries_ > pairs_)
      knob_conflict(spec().name, fmt::format("queries={} exceeds pairs={}: each query asks a different key",
                                             queries_, pairs_));
    if (keys_ < pairs_)
      knob_conflict(spec().name, fmt::format("keys={} is smaller than pairs={}: the keys of the pairs are distinct",
                                             keys_, pairs_));
  }

  static Vocab make_vocab(const KnobValues& k) {
    auto t = numbered("k", k.at("keys"));
    auto v = numbered("v", k.at("values"));
    t.insert(t.end(), v.begin(), v.end());
    t.push_back("_");
    return Vocab(t);
  }

  Example generate(Xoshiro& rng) const override {
    const auto keys = draw_distinct(rng, keys_, pairs_);
    Example ex;
    ex.src.reserve(max_src_len());
    std::vector<int> vals(pairs_);
    for (int64_t i = 0; i < pairs_; ++i) {
      vals[i] = value_id(rng.below(values_));
      ex.src.push_back(key_id(keys[i]));
      ex.src.push_back(vals[i]);
    }
    ex.src.insert(ex.src.end(), gap_, blank());
    const auto asked = draw_distinct(rng, pairs_, queries_);
    const int s = (int)max_src_len();
    for (int64_t q : asked) {
      ex.src.push_back(key_id(keys[q]));
      ex.tgt.push_back(vals[q]);
      ex.distance.push_back(s - 2 * (int)q);
    }
    return ex;
  }

  Chance chance() const override {
    Chance c;
    c.token = 1.0 / (double)values_;
    c.sequence = std::exp(-(double)queries_ * std::log((double)values_));
    return c;
  }
  size_t max_src_len() const override { return (size_t)(2 * pairs_ + gap_ + queries_); }
  size_t max_tgt_len() const override { return (size_t)queries_; }

 private:
  int key_id(int64_t k) const { return Vocab::NUM_SPECIAL + (int)k; }
  int value_id(uint64_t v) const { return Vocab::NUM_SPECIAL + (int)keys_ + (int)v; }
  int blank() const { return Vocab::NUM_SPECIAL + (int)(keys_ + values_); }
  int64_t pairs_, queries_, keys_, values_, gap_;
};

}  // namespace

TaskEntry associative_recall_entry() {
  return {this_spec, [](const KnobValues& k) -> std::unique_ptr<Task> { return std::make_unique<AssociativeRecall>(k); }};
}

}  // namespace attn::data::detail
