// mqar: multi-query associative recall after Zoology's generator (Arora et al. 2023), as a
// sequence-to-sequence task: K key-value pairs, then every key queried once at a power-law gap.
#include <algorithm>
#include <cmath>
#include <fmt/core.h>

#include "data/tasks_impl.hpp"

namespace attn::data::detail {
namespace {

const TaskSpec& this_spec() {
  static const TaskSpec s{
      "mqar",
      "Multi-query associative recall: K key-value pairs, then each key again among filler; recall its value.",
      "source: T tokens, K pairs 'key value' (keys from the lower half of the vocabulary, values from the upper), "
      "then the K keys once each at even offsets among filler; target: the K values in query order",
      "target token j: positions from its key (in the pairs) to its query, q - 2i; the power law sets it",
      "Arora et al. 2023, Zoology: Measuring and Improving Recall in Efficient Language Models (MQAR, Figure 2)",
      {
          {"vocab", 8192, 8, 1000000, "vocabulary size V, tokens 0 .. V-1; keys 1 .. V/2-1, values V/2 .. V-1"},
          {"pairs", 8, 1, 100000, "number of key-value pairs K; every key is queried once"},
          {"length", 64, 4, 1000000, "source length T, even, at least 4K"},
          {"power_a_milli", 10, 1, 10000, "power-law exponent a in thousandths (10 = 0.01; 1000 = uniform gaps; at most a = 10, so weights stay finite)"},
          {"random_filler", 1, 0, 1, "1 = filler tokens uniform over the vocabulary minus this example's keys; 0 = token 0"},
      }};
  return s;
}

class Mqar final : public Task {
 public:
  explicit Mqar(const KnobValues& k)
      : Task(this_spec(), k, Vocab(numbered("", k.at("vocab")))),
        vocab_n_(k.at("vocab")),
        pairs_(k.at("pairs")),
        length_(k.at("length")),
        random_filler_(k.at("random_filler") == 1) {
    check_knobs();
    slot_cdf_ = power_law_cdf((length_ - 2 * pairs_) / 2, (double)k.at("power_a_milli") / 1000.0);
  }

  Example generate(Xoshiro& rng) const override {
    const int64_t half = vocab_n_ / 2;
    std::vector<int64_t> keys = draw_distinct(rng, half - 1, pairs_), vals = draw_distinct(rng, vocab_n_ - half, pairs_);
    for (auto& x : keys) x += 1;  // token 0 is the fixed filler, never a key
    for (auto& x : vals) x += half;
    const std::vector<int64_t> slots = draw_slots(rng);
    Example ex;
    ex.src.assign(length_, -1);
    for (int64_t i = 0; i < pairs_; ++i) {
      ex.src[2 * i] = id(keys[i]);
      ex.src[2 * i + 1] = id(vals[i]);
      ex.src[2 * pairs_ + 2 * slots[i]] = id(keys[i]);
    }
    fill(rng, ex.src, keys);
    // Queries in source order: pair i's query sits at 2K + 2 slots[i].
    std::vector<int64_t> order(pairs_);
    for (int64_t i = 0; i < pairs_; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return slots[a] < slots[b]; });
    // In one stream (Zoology's layout) the value is the label at its query and nowhere else.
    ex.labels.assign(length_, Vocab::PAD);
    ex.label_distance.assign(length_, -1);
    for (int64_t i : order) {
      const int64_t query = 2 * pairs_ + 2 * slots[i];
      ex.tgt.push_back(id(vals[i]));
      ex.distance.push_back((int)(query - 2 * i));
      ex.labels[query] = id(vals[i]);
      ex.label_distance[query] = (int)(query - 2 * i);
    }
    return ex;
  }

  Chance chance() const override {
    const int64_t nv = vocab_n_ - vocab_n_ / 2;
    Chance c;
    c.token = 1.0 / (double)nv;
    double log_p = 0;  // K distinct values in order: 1 / (nv (nv-1) ... (nv-K+1))
    for (int64_t i = 0; i < pairs_; ++i) log_p -= std::log((double)(nv - i));
    c.sequence = std::exp(log_p);
    c.baselines.push_back({"value from context", "token_accuracy", 1.0 / (double)pairs_,
                           "names one of the K values of the source uniformly at random: 1/K"});
    return c;
  }
  size_t max_src_len() const override { return (size_t)length_; }
  size_t max_tgt_len() const override { return (size_t)pairs_; }

 private:
  void check_knobs() const {
    const std::string& n = spec().name;
    if (length_ % 2 != 0) knob_conflict(n, fmt::format("length={} is odd; queries sit at even offsets, so it must be even", length_));
    if (length_ < 4 * pairs_)
      knob_conflict(n, fmt::format("length={} is below 4 x pairs={}: the pairs and one query slot per key need 4K", length_, pairs_));
    if (pairs_ > vocab_n_ / 2 - 1)
      knob_conflict(n, fmt::format("pairs={} exceeds the {} keys of vocab={} (keys are 1 .. vocab/2-1, distinct)", pairs_,
                                   vocab_n_ / 2 - 1, vocab_n_));
  }

  // Cumulative weights of slot g in [0, n): (g+1)^(a-1), Zoology's p(i) = a i^(a-1) unnormalised.
  static std::vector<double> power_law_cdf(int64_t n, double a) {
    std::vector<double> cdf(n);
    double acc = 0;
    for (int64_t g = 0; g < n; ++g) cdf[g] = acc += std::pow((double)(g + 1), a - 1.0);
    return cdf;
  }

  // K distinct slots, one per pair in pair order, drawn one after another from the power law
  // restricted to the free slots (what numpy's choice(replace=False, p=...) gives).
  std::vector<int64_t> draw_slots(Xoshiro& rng) const {
    std::vector<char> taken(slot_cdf_.size(), 0);
    std::vector<int64_t> out(pairs_);
    for (auto& s : out) {
      s = draw_free_slot(rng, taken);
      taken[s] = 1;
    }
    return out;
  }

  // Rejection from the full law (exact for the restricted one); after 64 misses in a row, an
  // exact draw over the free slots, so crowded cases stay fast.
  int64_t draw_free_slot(Xoshiro& rng, const std::vector<char>& taken) const {
    const double total = slot_cdf_.back();
    for (int tries = 0; tries < 64; ++tries) {
      const int64_t g = std::upper_bound(slot_cdf_.begin(), slot_cdf_.end(), rng.uniform() * total) - slot_cdf_.begin();
      if (g < (int64_t)taken.size() && !taken[g]) return g;
    }
    double free_mass = 0;
    for (size_t g = 0; g < taken.size(); ++g) free_mass += taken[g] ? 0.0 : weight(g);
    double u = rng.uniform() * free_mass;
    int64_t last_free = 0;
    for (size_t g = 0; g < taken.size(); ++g) {
      if (taken[g]) continue;
      last_free = (int64_t)g;
      if ((u -= weight(g)) < 0) return last_free;
    }
    return last_free;  // rounding at the very end
  }
  double weight(size_t g) const { return slot_cdf_[g] - (g ? slot_cdf_[g - 1] : 0.0); }

  // Every position still -1 gets a filler: token 0, or a uniform token that is not a key of this
  // example (so the queries are exactly the repeated keys).
  void fill(Xoshiro& rng, std::vector<int>& src, const std::vector<int64_t>& keys) const {
    std::vector<int64_t> sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    for (int& t : src) {
      if (t != -1) continue;
      int64_t x = 0;
      if (random_filler_)
        do x = (int64_t)rng.below((uint64_t)vocab_n_);
        while (std::binary_search(sorted.begin(), sorted.end(), x));
      t = id(x);
    }
  }

  static int id(int64_t token) { return Vocab::NUM_SPECIAL + (int)token; }
  int64_t vocab_n_, pairs_, length_;
  bool random_filler_;
  std::vector<double> slot_cdf_;
};

}  // namespace

TaskEntry mqar_entry() {
  return {this_spec, [](const KnobValues& k) -> std::unique_ptr<Task> { return std::make_unique<Mqar>(k); }};
}

}  // namespace attn::data::detail
