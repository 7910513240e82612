// binary-addition: two little-endian binary numbers; their sum (Deletang et al. 2023, CS).
#include <algorithm>

#include "data/tasks_impl.hpp"

namespace attn::data::detail {
namespace {

const TaskSpec& this_spec() {
  static const TaskSpec s{
      "binary-addition",
      "Add two binary numbers written least significant bit first; write the sum the same way.",
      "source: L tokens, n '+' m, each number little-endian with 1 .. L-2 bits (high zeros possible); "
      "target: n + m little-endian, no high zeros",
      "every sum bit can depend on bit 0 of n (through the carries): distance S",
      "Deletang et al. 2023, Neural Networks and the Chomsky Hierarchy (Binary Addition, CS)",
      {
          {"length", 40, 3, 100000, "source length L, both numbers and '+' (the maximum when min_length is set)"},
          {"min_length", 3, 0, 100000, "shortest source; lengths are uniform in [min_length, length]; 0 = always L"},
      },
      "CS"};
  return s;
}

class BinaryAddition final : public Task {
 public:
  explicit BinaryAddition(const KnobValues& k)
      : Task(this_spec(), k, Vocab({"0", "1", "+"})), len_(length_range_from(spec().name, k, 3)) {}

  Example generate(Xoshiro& rng) const override {
    const int64_t n = len_.draw(rng), a_bits = rng.range(1, n - 2);
    const std::vector<int> a = number(rng, a_bits), b = number(rng, n - 1 - a_bits);
    Example ex;
    for (int x : a) ex.src.push_back(tok(x));
    ex.src.push_back(tok(2));
    for (int x : b) ex.src.push_back(tok(x));
    for (int x : add(a, b)) {
      ex.tgt.push_back(tok(x));
      ex.distance.push_back((int)n);
    }
    return ex;
  }

  Chance chance() const override {
    // Sampled: the sum's length and bits have no simple closed form per position.
    const int n = (int)std::clamp<int64_t>(2000000 / len_.hi, 500, 4000);
    return estimate_chance(*this, n, 0xadd);
  }
  size_t max_src_len() const override { return (size_t)len_.hi; }
  size_t max_tgt_len() const override { return (size_t)len_.hi - 1; }  // L-2 bits plus a carry

 private:
  static int tok(int sym) { return Vocab::NUM_SPECIAL + sym; }

  // `bits` little-endian bits of a number uniform in [1, 2^bits - 1] (redrawn while all zero).
  static std::vector<int> number(Xoshiro& rng, int64_t bits) {
    std::vector<int> out(bits);
    for (;;) {
      bool any = false;
      for (auto& x : out) any |= (x = (int)rng.below(2)) != 0;
      if (any) return out;
    }
  }

  static std::vector<int> add(const std::vector<int>& a, const std::vector<int>& b) {
    std::vector<int> out;
    int carry = 0;
    for (size_t i = 0; i < std::max(a.size(), b.size()) || carry; ++i) {
      const int s = carry + (i < a.size() ? a[i] : 0) + (i < b.size() ? b[i] : 0);
      out.push_back(s & 1);
      carry = s >> 1;
    }
    while (out.size() > 1 && out.back() == 0) out.pop_back();
    return out;
  }

  LengthRange len_;
};

}  // namespace

TaskEntry binary_addition_entry() {
  return {this_spec, [](const KnobValues& k) -> std::unique_ptr<Task> { return std::make_unique<BinaryAddition>(k); }};
}

}  // namespace attn::data::detail
