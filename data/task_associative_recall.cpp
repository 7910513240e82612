// associative-recall: key-value pairs, then queries of some keys (multi-query, after Zoology's MQAR).
#include <cmath>
#include <fmt/core.h>

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
          {"values", 64, 1, 100000, "size of the value alphabet (tokens v0 ..); values may repeat unless distinct_values=1"},
          {"gap", 0, 0, 100000, "blanks between the last pair and the first query, G (the maximum when min_gap is set)"},
          {"min_gap", -1, -1, 100000, "fewest blanks; gaps are uniform in [min_gap, gap]; -1 = always gap"},
          {"distinct_values", 0, 0, 1, "1 = the K values of a sequence are distinct (drawn without replacement); needs values >= K"},
      }};
  return s;
}

class AssociativeRecall final : public Task {
 public:
  explicit AssociativeRecall(const KnobValues& k)
      : Task(this_spec(), k, make_vocab(k)),
        pairs_(k.at("pairs")),
        queries_(k.at("queries")),
        keys_(k.at("keys")),
        values_(k.at("values")),
        gap_(k.at("gap")),
        min_gap_(k.at("min_gap")),
        distinct_values_(k.at("distinct_values") == 1) {
    if (queries_ > pairs_)
      knob_conflict(spec().name, fmt::format("queries={} exceeds pairs={}: each query asks a different key",
                                             queries_, pairs_));
    if (keys_ < pairs_)
      knob_conflict(spec().name, fmt::format("keys={} is smaller than pairs={}: the keys of the pairs are distinct",
                                             keys_, pairs_));
    if (min_gap_ > gap_)
      knob_conflict(spec().name, fmt::format("min_gap={} exceeds gap={} (min_gap=-1 means a fixed gap)", min_gap_, gap_));
    if (distinct_values_ && values_ < pairs_)
      knob_conflict(spec().name, fmt::format("values={} is smaller than pairs={}: distinct_values=1 needs a value per pair",
                                             values_, pairs_));
  }

  static Vocab make_vocab(const KnobValues& k) {
    auto t = numbered("k", k.at("keys"));
    auto v = numbered("v", k.at("values"));
    t.insert(t.end(), v.begin(), v.end());
    t.push_back("_");
    return Vocab(t);
  }

  Example generate(Xoshiro& rng) const override {
    // The draws of the knobs' defaults come in the same order as before min_gap and
    // distinct_values existed, so those examples are unchanged.
    const int64_t gap = min_gap_ < 0 ? gap_ : rng.range(min_gap_, gap_);
    const auto keys = draw_distinct(rng, keys_, pairs_);
    const auto distinct = distinct_values_ ? draw_distinct(rng, values_, pairs_) : std::vector<int64_t>{};
    Example ex;
    ex.src.reserve(2 * pairs_ + gap + queries_);
    std::vector<int> vals(pairs_);
    for (int64_t i = 0; i < pairs_; ++i) {
      vals[i] = value_id(distinct_values_ ? (uint64_t)distinct[i] : rng.below(values_));
      ex.src.push_back(key_id(keys[i]));
      ex.src.push_back(vals[i]);
    }
    ex.src.insert(ex.src.end(), gap, blank());
    const auto asked = draw_distinct(rng, pairs_, queries_);
    const int s = (int)(2 * pairs_ + gap + queries_);
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
    if (distinct_values_) c.sequence = distinct_sequence_chance();
    c.baselines.push_back(context_baseline());
    return c;
  }
  size_t max_src_len() const override { return (size_t)(2 * pairs_ + gap_ + queries_); }
  size_t max_tgt_len() const override { return (size_t)queries_; }

 private:
  // The best blind guess of Q distinct values in order: 1 / (V (V-1) ... (V-Q+1)).
  double distinct_sequence_chance() const {
    double log_p = 0;
    for (int64_t i = 0; i < queries_; ++i) log_p -= std::log((double)(values_ - i));
    return std::exp(log_p);
  }
  // Names the value of a uniformly chosen pair: right when that pair carries the asked value,
  // its own pair (1 of K) or another with the same value ((K-1)/V expected, unless distinct).
  Baseline context_baseline() const {
    const double k = (double)pairs_;
    const double same = distinct_values_ ? 0.0 : (k - 1) / (double)values_;
    return {"value from context", "token_accuracy", (1.0 + same) / k,
            "names the value of a uniformly random pair of the source: (1 + (K-1)/values)/K, or 1/K with "
            "distinct_values=1"};
  }
  int key_id(int64_t k) const { return Vocab::NUM_SPECIAL + (int)k; }
  int value_id(uint64_t v) const { return Vocab::NUM_SPECIAL + (int)keys_ + (int)v; }
  int blank() const { return Vocab::NUM_SPECIAL + (int)(keys_ + values_); }
  int64_t pairs_, queries_, keys_, values_, gap_, min_gap_;
  bool distinct_values_;
};

}  // namespace

TaskEntry associative_recall_entry() {
  return {this_spec, [](const KnobValues& k) -> std::unique_ptr<Task> { return std::make_unique<AssociativeRecall>(k); }};
}

}  // namespace attn::data::detail
