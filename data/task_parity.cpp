// parity: the parity of a bit string.
#include <fmt/core.h>

#include "data/tasks_impl.hpp"

namespace attn::data::detail {
namespace {

const TaskSpec& this_spec() {
  static const TaskSpec s{
      "parity",
      "Say whether a random bit string has an odd number of ones.",
      "source: L bits (0/1); target: one token, 1 if the number of ones is odd, else 0",
      "the parity depends on the whole source: distance S",
      "Bhattamishra, Ahuja & Goyal 2020, On the Ability and Limitations of Transformers to Recognize "
      "Formal Languages; Deletang et al. 2023, Neural Networks and the Chomsky Hierarchy",
      {
          {"length", 20, 1, 100000, "number of bits L (the maximum when min_length is set)"},
          {"min_length", 0, 0, 100000, "fewest bits; lengths are uniform in [min_length, length]; 0 = always L"},
      },
      "R"};
  return s;
}

class Parity final : public Task {
 public:
  explicit Parity(const KnobValues& k)
      : Task(this_spec(), k, Vocab({"0", "1"})), len_(length_range(spec().name, k)) {}

  Example generate(Xoshiro& rng) const override {
    const int64_t n = len_.draw(rng);
    Example ex;
    ex.src.reserve(n);
    int parity = 0;
    while ((int64_t)ex.src.size() < n) {
      uint64_t bits = rng.next();
      for (int b = 0; b < 64 && (int64_t)ex.src.size() < n; ++b, bits >>= 1) {
        parity ^= (int)(bits & 1);
        ex.src.push_back(Vocab::NUM_SPECIAL + (int)(bits & 1));
      }
    }
    ex.tgt = {Vocab::NUM_SPECIAL + parity};
    ex.distance = {(int)n};
    return ex;
  }

  Chance chance() const override {
    Chance c;
    c.token = 0.5;
    c.sequence = 0.5;
    c.baselines.push_back(majority_baseline(0.5));
    return c;
  }
  size_t max_src_len() const override { return (size_t)len_.hi; }
  size_t max_tgt_len() const override { return 1; }

 private:
  LengthRange len_;
};

}  // namespace

TaskEntry parity_entry() {
  return {this_spec, [](const KnobValues& k) -> std::unique_ptr<Task> { return std::make_unique<Parity>(k); }};
}

}  // namespace attn::data::detail
