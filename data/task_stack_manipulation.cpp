// stack-manipulation: an initial stack of bits and PUSH/POP actions; the final stack
// (Deletang et al. 2023, DCF).
#include <algorithm>

#include "data/tasks_impl.hpp"

namespace attn::data::detail {
namespace {

const TaskSpec& this_spec() {
  static const TaskSpec s{
      "stack-manipulation",
      "Apply PUSH0, PUSH1 and POP actions to a stack of bits; write the final stack, top first.",
      "source: L tokens, a stack of 0/1 given bottom to top (1 .. L-1 bits), then POP/PUSH0/PUSH1 actions; "
      "target: the final stack top to bottom, then '$' (the bottom)",
      "each bit: S - p, p = the position of the token that put it there (initial bit or PUSH); '$': S",
      "Deletang et al. 2023, Neural Networks and the Chomsky Hierarchy (Stack Manipulation, DCF)",
      {
          {"length", 40, 2, 100000, "source length L, stack plus actions (the maximum when min_length is set)"},
          {"min_length", 2, 0, 100000, "shortest source; lengths are uniform in [min_length, length]; 0 = always L"},
      },
      "DCF"};
  return s;
}

enum Sym { kZero, kOne, kPop, kPush0, kPush1, kBottom };

class StackManipulation final : public Task {
 public:
  explicit StackManipulation(const KnobValues& k)
      : Task(this_spec(), k, Vocab({"0", "1", "POP", "PUSH0", "PUSH1", "$"})),
        len_(length_range_from(spec().name, k, 2)) {}

  Example generate(Xoshiro& rng) const override {
    const int64_t n = len_.draw(rng), depth = rng.range(1, n - 1);
    Example ex;
    std::vector<std::pair<int, int64_t>> stack;  // (bit, source position)
    for (int64_t i = 0; i < n; ++i) {
      const int sym = i < depth ? (int)rng.below(2) : kPop + (int)rng.below(3);
      ex.src.push_back(tok(sym));
      if (sym <= kOne) stack.push_back({sym, i});
      if (sym == kPush0 || sym == kPush1) stack.push_back({sym - kPush0, i});
      if (sym == kPop && !stack.empty()) stack.pop_back();  // POP on an empty stack does nothing
    }
    for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
      ex.tgt.push_back(tok(it->first));
      ex.distance.push_back((int)(n - it->second));
    }
    ex.tgt.push_back(tok(kBottom));
    ex.distance.push_back((int)n);
    return ex;
  }

  Chance chance() const override {
    // Sampled: the final stack's law per position has no simple closed form.
    const int n = (int)std::clamp<int64_t>(2000000 / len_.hi, 500, 4000);
    return estimate_chance(*this, n, 0x57ac);
  }
  size_t max_src_len() const override { return (size_t)len_.hi; }
  // d initial bits and L - d actions, all pushes at most: L bits, then '$'.
  size_t max_tgt_len() const override { return (size_t)len_.hi + 1; }

 private:
  static int tok(int sym) { return Vocab::NUM_SPECIAL + sym; }
  LengthRange len_;
};

}  // namespace

TaskEntry stack_manipulation_entry() {
  return {this_spec, [](const KnobValues& k) -> std::unique_ptr<Task> { return std::make_unique<StackManipulation>(k); }};
}

}  // namespace attn::data::detail
