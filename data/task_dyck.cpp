// dyck: is a string of brackets of `kinds` kinds balanced? (Bhattamishra, Ahuja & Goyal 2020,
// Dyck-n recognition as a classification.) Negatives are balanced strings with two brackets
// swapped, so they have the same length and the same count of every bracket as a balanced string.
#include <fmt/core.h>

#include "data/tasks_impl.hpp"

namespace attn::data::detail {
namespace {

const TaskSpec& this_spec() {
  static const TaskSpec s{
      "dyck",
      "Say whether a string of brackets of several kinds is balanced (half of the examples are).",
      "source: L brackets (L even), each kind opened and closed equally often; target: 'balanced' or 'unbalanced'",
      "balance depends on the whole string: distance S",
      "Bhattamishra, Ahuja & Goyal 2020, On the Ability and Limitations of Transformers to Recognize Formal "
      "Languages (Dyck-n)",
      {
          {"length", 40, 2, 100000, "string length L, even lengths only (the maximum when min_length is set)"},
          {"min_length", 2, 0, 100000, "shortest string; lengths are uniform over the even ones in [min_length, length]; "
                                       "0 = always L"},
          {"kinds", 2, 1, 50, "bracket kinds n: () [] {} <> then (4 )4 (5 )5 .."},
      },
      "DCF"};
  return s;
}

Vocab bracket_vocab(int64_t kinds) {
  static const char* kFirst[4][2] = {{"(", ")"}, {"[", "]"}, {"{", "}"}, {"<", ">"}};
  std::vector<std::string> t;
  for (int64_t k = 0; k < kinds; ++k) {
    t.push_back(k < 4 ? kFirst[k][0] : "(" + std::to_string(k));
    t.push_back(k < 4 ? kFirst[k][1] : ")" + std::to_string(k));
  }
  t.push_back("balanced");
  t.push_back("unbalanced");
  return Vocab(t);
}

class Dyck final : public Task {
 public:
  explicit Dyck(const KnobValues& k)
      : Task(this_spec(), k, bracket_vocab(k.at("kinds"))),
        kinds_(k.at("kinds")),
        even_(parity_lengths(spec().name, length_range_from(spec().name, k, 2), 0)) {}

  Example generate(Xoshiro& rng) const override {
    const bool positive = rng.below(2) == 0;
    std::vector<int> s = balanced(rng, even_.draw(rng));
    if (!positive) unbalance(rng, s);
    Example ex;
    for (int b : s) ex.src.push_back(Vocab::NUM_SPECIAL + b);
    ex.tgt = {Vocab::NUM_SPECIAL + 2 * (int)kinds_ + (positive ? 0 : 1)};
    ex.distance = {(int)s.size()};
    return ex;
  }

  Chance chance() const override {
    Chance c;
    c.token = c.sequence = 0.5;  // the class is a fair coin
    c.baselines.push_back(majority_baseline(0.5));
    return c;
  }
  size_t max_src_len() const override { return (size_t)even_.last(); }
  size_t max_tgt_len() const override { return 1; }

 private:
  // Brackets as 2 kind (open) and 2 kind + 1 (close). A random walk: open when nothing is open,
  // close when the rest must close, otherwise open or close with probability 1/2; opens pick a
  // uniform kind, closes match. Not uniform over Dyck words (docs/tasks.md says so).
  std::vector<int> balanced(Xoshiro& rng, int64_t n) const {
    std::vector<int> s, open;
    for (int64_t left = n; left > 0; --left) {
      const bool must_open = open.empty(), must_close = (int64_t)open.size() == left;
      if (must_open || (!must_close && rng.below(2) == 0)) {
        open.push_back(2 * (int)rng.below((uint64_t)kinds_));
        s.push_back(open.back());
      } else {
        s.push_back(open.back() + 1);
        open.pop_back();
      }
    }
    return s;
  }

  static bool is_balanced(const std::vector<int>& s) {
    std::vector<int> open;
    for (int b : s) {
      if (b % 2 == 0) open.push_back(b);
      else if (open.empty() || open.back() != b - 1) return false;
      else open.pop_back();
    }
    return open.empty();
  }

  // Swaps two different brackets, uniformly chosen, until the string is unbalanced; after 64
  // balanced tries, the first (an opener) with the last (a closer), which always unbalances.
  static void unbalance(Xoshiro& rng, std::vector<int>& s) {
    const uint64_t n = s.size();
    for (int tries = 0; tries < 64; ++tries) {
      const uint64_t i = rng.below(n), j = rng.below(n);
      if (s[i] == s[j]) continue;
      std::swap(s[i], s[j]);
      if (!is_balanced(s)) return;
      std::swap(s[i], s[j]);
    }
    std::swap(s.front(), s.back());
  }

  int64_t kinds_;
  ParityLengths even_;
};

}  // namespace

TaskEntry dyck_entry() {
  return {this_spec, [](const KnobValues& k) -> std::unique_ptr<Task> { return std::make_unique<Dyck>(k); }};
}

}  // namespace attn::data::detail
