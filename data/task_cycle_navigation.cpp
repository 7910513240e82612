// cycle-navigation: moves +1, -1, 0 on a cycle of 5 from position 0; the final position.
// (Deletang et al. 2023, R)
#include <algorithm>
#include <array>

#include "data/tasks_impl.hpp"

namespace attn::data::detail {
namespace {

constexpr int kCycle = 5;

const TaskSpec& this_spec() {
  static const TaskSpec s{
      "cycle-navigation",
      "Follow moves inc (+1), dec (-1) and stay (0) on a cycle of 5 from position 0; say where you end.",
      "source: L moves inc/dec/stay; target: one token, the final position 0-4",
      "the position depends on every move: distance S",
      "Deletang et al. 2023, Neural Networks and the Chomsky Hierarchy (Cycle Navigation, regular)",
      {
          {"length", 40, 1, 100000, "number of moves L (the maximum when min_length is set)"},
          {"min_length", 1, 0, 100000, "fewest moves; lengths are uniform in [min_length, length]; 0 = always L"},
      },
      "R"};
  return s;
}

class CycleNavigation final : public Task {
 public:
  explicit CycleNavigation(const KnobValues& k)
      : Task(this_spec(), k, Vocab({"inc", "dec", "stay", "0", "1", "2", "3", "4"})),
        len_(length_range_from(spec().name, k, 1)) {}

  Example generate(Xoshiro& rng) const override {
    static constexpr int kStep[3] = {1, kCycle - 1, 0};  // inc, dec, stay
    const int64_t n = len_.draw(rng);
    Example ex;
    int pos = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int m = (int)rng.below(3);
      ex.src.push_back(Vocab::NUM_SPECIAL + m);
      pos = (pos + kStep[m]) % kCycle;
    }
    ex.tgt = {Vocab::NUM_SPECIAL + 3 + pos};
    ex.distance = {(int)n};
    return ex;
  }

  // Exact: the law of the position after n uniform moves, by dynamic programming, mixed over the
  // lengths; the best blind guess is its most likely position.
  Chance chance() const override {
    std::array<double, kCycle> p{1, 0, 0, 0, 0}, mix{};
    for (int64_t n = 1; n <= len_.hi; ++n) {
      std::array<double, kCycle> q{};
      for (int x = 0; x < kCycle; ++x)
        for (int d : {1, kCycle - 1, 0}) q[(x + d) % kCycle] += p[x] / 3.0;
      p = q;
      if (n >= len_.lo)
        for (int x = 0; x < kCycle; ++x) mix[x] += p[x] / (double)len_.count();
    }
    Chance c;
    c.token = c.sequence = *std::max_element(mix.begin(), mix.end());
    c.baselines.push_back(majority_baseline(c.token));
    return c;
  }
  size_t max_src_len() const override { return (size_t)len_.hi; }
  size_t max_tgt_len() const override { return 1; }

 private:
  LengthRange len_;
};

}  // namespace

TaskEntry cycle_navigation_entry() {
  return {this_spec, [](const KnobValues& k) -> std::unique_ptr<Task> { return std::make_unique<CycleNavigation>(k); }};
}

}  // namespace attn::data::detail
