// modular-arithmetic: an expression over 0-4 with +, -, * evaluated mod 5 (Deletang et al. 2023):
// without brackets (regular) or, with brackets=1, fully bracketed with unary minus (DCF).
#include <algorithm>
#include <fmt/core.h>

#include "data/tasks_impl.hpp"

namespace attn::data::detail {
namespace {

constexpr int kMod = 5;
// Token order in the vocabulary, after the digits 0-4.
enum Sym { kPlus = kMod, kMinus, kTimes, kOpen, kClose };

const TaskSpec& this_spec() {
  static const TaskSpec s{
      "modular-arithmetic",
      "Evaluate an expression over 0-4 with +, - and * modulo 5 (with brackets=1: nested brackets and unary minus).",
      "source: L tokens, digits 0-4 and + - * (brackets=1 adds ( and )); target: one digit, the value mod 5",
      "the value depends on the whole expression: distance S",
      "Deletang et al. 2023, Neural Networks and the Chomsky Hierarchy (Modular Arithmetic (Simple), regular; "
      "Modular Arithmetic with brackets, DCF)",
      {
          {"length", 40, 1, 100000, "expression length L in tokens (the maximum when min_length is set); "
                                     "without brackets only odd lengths occur"},
          {"min_length", 1, 0, 100000, "shortest expression; lengths uniform in [min_length, length] (odd ones without "
                                       "brackets); 0 = always L"},
          {"brackets", 0, 0, 1, "1 = Deletang's bracketed grammar (class DCF); 0 = digits and operators alternate (R)"},
      },
      "R"};
  return s;
}

int mod(int x) { return ((x % kMod) + kMod) % kMod; }

class ModularArithmetic final : public Task {
 public:
  explicit ModularArithmetic(const KnobValues& k)
      : Task(this_spec(), k, Vocab({"0", "1", "2", "3", "4", "+", "-", "*", "(", ")"})),
        brackets_(k.at("brackets") == 1),
        len_(length_range_from(spec().name, k, 1)),
        odd_(brackets_ ? ParityLengths{1, 1} : parity_lengths(spec().name, len_, 1)) {}

  std::string chomsky() const override { return brackets_ ? "DCF" : "R"; }

  Example generate(Xoshiro& rng) const override {
    Example ex;
    const int value = brackets_ ? bracketed(rng, len_.draw(rng), ex.src) : flat(rng, odd_.draw(rng), ex.src);
    ex.tgt = {tok(value)};
    ex.distance = {(int)ex.src.size()};
    return ex;
  }

  Chance chance() const override {
    // The value's law has no simple closed form: sample it (the target is one token).
    const int n = (int)std::clamp<int64_t>(2000000 / len_.hi, 500, 4000);
    Chance c = estimate_chance(*this, n, 0x40d5);
    c.sequence = c.token;
    c.baselines.push_back(majority_baseline(c.token));
    return c;
  }
  size_t max_src_len() const override { return (size_t)(brackets_ ? len_.hi : odd_.last()); }
  size_t max_tgt_len() const override { return 1; }

 private:
  static int tok(int sym) { return Vocab::NUM_SPECIAL + sym; }

  // n (odd) tokens: digit (op digit)*, evaluated with * before + and -: a running sum of signed
  // products.
  static int flat(Xoshiro& rng, int64_t n, std::vector<int>& out) {
    int sum = 0, term = (int)rng.below(kMod);
    out.push_back(tok(term));
    for (int64_t i = 1; i < n; i += 2) {
      const int op = kPlus + (int)rng.below(3), d = (int)rng.below(kMod);
      out.push_back(tok(op));
      out.push_back(tok(d));
      if (op == kTimes) {
        term = mod(term * d);
      } else {
        sum = mod(sum + term);
        term = op == kPlus ? d : mod(-d);
      }
    }
    return mod(sum + term);
  }

  // Deletang's grammar of exactly n tokens: d, -d, (d), (-d) for n = 1..4, else (A op B) with |A|
  // uniform in [1, n-4].
  static int bracketed(Xoshiro& rng, int64_t n, std::vector<int>& out) {
    if (n <= 4) {
      if (n >= 3) out.push_back(tok(kOpen));
      if (n % 2 == 0) out.push_back(tok(kMinus));
      const int d = (int)rng.below(kMod);
      out.push_back(tok(d));
      if (n >= 3) out.push_back(tok(kClose));
      return n % 2 == 0 ? mod(-d) : d;
    }
    const int64_t left = rng.range(1, n - 4);
    out.push_back(tok(kOpen));
    const int a = bracketed(rng, left, out);
    const int op = kPlus + (int)rng.below(3);
    out.push_back(tok(op));
    const int b = bracketed(rng, n - left - 3, out);
    out.push_back(tok(kClose));
    return op == kPlus ? mod(a + b) : op == kMinus ? mod(a - b) : mod(a * b);
  }

  bool brackets_;
  LengthRange len_;
  ParityLengths odd_;
};

}  // namespace

TaskEntry modular_arithmetic_entry() {
  return {this_spec, [](const KnobValues& k) -> std::unique_ptr<Task> { return std::make_unique<ModularArithmetic>(k); }};
}

}  // namespace attn::data::detail
