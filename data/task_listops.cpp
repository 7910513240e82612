// listops: evaluate a nested prefix expression of MAX / MIN / MED / SM over digits.
#include <algorithm>
#include <fmt/core.h>

#include "data/tasks_impl.hpp"

namespace attn::data::detail {
namespace {

const TaskSpec& this_spec() {
  static const TaskSpec s{
      "listops",
      "Evaluate a nested list expression of MAX, MIN, MED (median) and SM (sum mod 10) over digits.",
      "source: a bracketed prefix expression, e.g. [MAX 2 9 [MIN 4 7 ] 0 ]; target: its value, one digit",
      "the value depends on the whole source: distance S",
      "Nangia & Bowman 2018, ListOps: A Diagnostic Dataset for Latent Tree Learning; Tay et al. 2021, "
      "Long Range Arena (brackets kept)",
      {
          {"max_depth", 4, 1, 50, "maximum bracket nesting (an operator over digits has depth 1)"},
          {"max_length", 100, 4, 100000, "maximum source length in tokens"},
          {"max_args", 5, 2, 20, "maximum number of arguments of an operator (the minimum is 2)"},
      }};
  return s;
}

enum Op { MAX, MIN, MED, SM };
constexpr double kOpProb = 0.4;  // chance that an argument is itself an expression, where allowed

class Listops final : public Task {
 public:
  explicit Listops(const KnobValues& k)
      : Task(this_spec(), k, Vocab({"[MAX", "[MIN", "[MED", "[SM", "]", "0", "1", "2", "3", "4", "5", "6", "7",
                               "8", "9"})),
        max_depth_(k.at("max_depth")),
        max_len_(k.at("max_length")),
        max_args_(k.at("max_args")) {}

  Example generate(Xoshiro& rng) const override {
    Example ex;
    const int value = expr(rng, 1, max_len_, ex.src);
    ex.tgt = {digit(value)};
    ex.distance = {(int)ex.src.size()};
    return ex;
  }

  Chance chance() const override {
    // No closed form for the value distribution: sample it (the target is one token).
    const int n = (int)std::clamp<int64_t>(2000000 / max_len_, 500, 4000);
    Chance c = estimate_chance(*this, n, 0x115700);
    c.sequence = c.token;
    return c;
  }
  size_t max_src_len() const override { return (size_t)max_len_; }
  size_t max_tgt_len() const override { return 1; }

 private:
  static int digit(int v) { return Vocab::NUM_SPECIAL + 5 + v; }

  // Writes one operator expression of at most `budget` (>= 4) tokens at `depth`; returns its value.
  int expr(Xoshiro& rng, int64_t depth, int64_t budget, std::vector<int>& out) const {
    const Op op = (Op)rng.below(4);
    out.push_back(Vocab::NUM_SPECIAL + op);
    const int64_t nargs = std::min<int64_t>(rng.range(2, max_args_), budget - 2);
    int64_t left = budget - 2;  // after the operator and the closing bracket
    std::vector<int> vals;
    for (int64_t i = 0; i < nargs; ++i) {
      const int64_t room = left - (nargs - i - 1);  // later arguments need a token each
      const size_t before = out.size();
      if (depth < max_depth_ && room >= 4 && rng.bernoulli(kOpProb)) {
        vals.push_back(expr(rng, depth + 1, room, out));
      } else {
        vals.push_back((int)rng.below(10));
        out.push_back(digit(vals.back()));
      }
      left -= (int64_t)(out.size() - before);
    }
    out.push_back(Vocab::NUM_SPECIAL + 4);  // "]"
    switch (op) {
      case MAX: return *std::max_element(vals.begin(), vals.end());
      case MIN: return *std::min_element(vals.begin(), vals.end());
      case MED: {
        std::sort(vals.begin(), vals.end());
        const size_t n = vals.size();
        return n % 2 ? vals[n / 2] : (vals[n / 2 - 1] + vals[n / 2]) / 2;
      }
      case SM: {
        int s = 0;
        for (int v : vals) s += v;
        return s % 10;
      }
    }
    return 0;
  }

  int64_t max_depth_, max_len_, max_args_;
};

}  // namespace

TaskEntry listops_entry() {
  return {this_spec, [](const KnobValues& k) -> std::unique_ptr<Task> { return std::make_unique<Listops>(k); }};
}

}  // namespace attn::data::detail
