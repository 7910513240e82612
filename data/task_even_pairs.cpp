// even-pairs: is the number of "ab" and "ba" in a string over {a, b} even? (Deletang et al. 2023, R)
#include <fmt/core.h>

#include "data/tasks_impl.hpp"

namespace attn::data::detail {
namespace {

const TaskSpec& this_spec() {
  static const TaskSpec s{
      "even-pairs",
      "Say whether a string over {a, b} has an even number of 'ab' and 'ba' substrings.",
      "source: L letters a/b; target: one token, 'even' or 'odd' (the count of ab plus ba)",
      "the count parity equals [first letter != last letter], so it needs position 0: distance S",
      "Deletang et al. 2023, Neural Networks and the Chomsky Hierarchy (Even Pairs, regular)",
      {
          {"length", 40, 1, 100000, "string length L (the maximum when min_length is set)"},
          {"min_length", 1, 0, 100000, "shortest string; lengths are uniform in [min_length, length]; 0 = always L"},
      },
      "R"};
  return s;
}

class EvenPairs final : public Task {
 public:
  explicit EvenPairs(const KnobValues& k)
      : Task(this_spec(), k, Vocab({"a", "b", "even", "odd"})), len_(length_range_from(spec().name, k, 1)) {}

  Example generate(Xoshiro& rng) const override {
    const int64_t n = len_.draw(rng);
    Example ex;
    int changes = 0;
    for (int64_t i = 0; i < n; ++i) {
      ex.src.push_back(Vocab::NUM_SPECIAL + (int)rng.below(2));
      if (i > 0 && ex.src[i] != ex.src[i - 1]) changes ^= 1;
    }
    ex.tgt = {Vocab::NUM_SPECIAL + 2 + changes};
    ex.distance = {(int)n};
    return ex;
  }

  // Length 1 has no pairs (even); from length 2 on, first != last with probability 1/2.
  Chance chance() const override {
    const double p_len1 = len_.lo == 1 ? 1.0 / (double)len_.count() : 0.0;
    Chance c;
    c.token = c.sequence = p_len1 + (1.0 - p_len1) * 0.5;
    c.baselines.push_back(majority_baseline(c.token));
    return c;
  }
  size_t max_src_len() const override { return (size_t)len_.hi; }
  size_t max_tgt_len() const override { return 1; }

 private:
  LengthRange len_;
};

}  // namespace

TaskEntry even_pairs_entry() {
  return {this_spec, [](const KnobValues& k) -> std::unique_ptr<Task> { return std::make_unique<EvenPairs>(k); }};
}

}  // namespace attn::data::detail
