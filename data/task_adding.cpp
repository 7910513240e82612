// adding: the sum of two marked digits in a long sequence.
#include <algorithm>

#include "data/tasks_impl.hpp"

namespace attn::data::detail {
namespace {

const TaskSpec& this_spec() {
  static const TaskSpec s{
      "adding",
      "Add the two marked digits of a sequence of random digits.",
      "source: L digits, exactly two written marked as *d; target: their sum as two digits (tens, units)",
      "both target digits depend on both marks: distance S - p1, p1 = position of the first mark, "
      "which lies in the first min(10, L/2 - 1) positions",
      "Hochreiter & Schmidhuber 1997, Long Short-Term Memory, experiment 4 (the adding problem), made into tokens",
      {
          {"length", 50, 4, 100000, "sequence length L"},
      }};
  return s;
}

class Adding final : public Task {
 public:
  explicit Adding(const KnobValues& k) : Task(this_spec(), k, make_vocab()), len_(k.at("length")) {}

  static Vocab make_vocab() {
    auto t = numbered("", 10);
    auto m = numbered("*", 10);
    t.insert(t.end(), m.begin(), m.end());
    return Vocab(t);
  }

  Example generate(Xoshiro& rng) const override {
    // As in the paper, both marks fall in the first half, the first one very early.
    const int64_t half = len_ / 2;
    const int64_t p1 = rng.below(std::min<int64_t>(10, half - 1));
    const int64_t p2 = rng.range(p1 + 1, half - 1);
    Example ex;
    ex.src.resize(len_);
    for (auto& t : ex.src) t = digit(rng.below(10));
    const int a = ex.src[p1] - digit(0), b = ex.src[p2] - digit(0);
    ex.src[p1] += 10;  // "*d" follows the ten plain digits
    ex.src[p2] += 10;
    ex.tgt = {digit((a + b) / 10), digit((a + b) % 10)};
    ex.distance.assign(2, (int)(len_ - p1));
    return ex;
  }

  Chance chance() const override {
    // Tens digit is 0 with probability 55/100; units digit is uniform; the likeliest sum (9) has 10/100.
    Chance c;
    c.token = (0.55 + 0.10) / 2;
    c.sequence = 0.10;
    return c;
  }
  size_t max_src_len() const override { return (size_t)len_; }
  size_t max_tgt_len() const override { return 2; }

 private:
  static int digit(uint64_t d) { return Vocab::NUM_SPECIAL + (int)d; }
  int64_t len_;
};

}  // namespace

TaskEntry adding_entry() {
  return {this_spec, [](const KnobValues& k) -> std::unique_ptr<Task> { return std::make_unique<Adding>(k); }};
}

}  // namespace attn::data::detail
