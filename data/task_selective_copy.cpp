// selective-copy: data tokens scattered among noise; copy the data in order.
#include <cmath>
#include <fmt/core.h>

#include "data/tasks_impl.hpp"

namespace attn::data::detail {
namespace {

const TaskSpec& this_spec() {
  static const TaskSpec s{
      "selective-copy",
      "Copy the M data symbols scattered among noise tokens, in order.",
      "source: L tokens, M of them data symbols at random positions, the rest noise ('_', or _0 _1 .. when noise > 1); "
      "target: the M data symbols in source order",
      "target token j is the j-th data symbol: distance S - p_j, p_j = its source position",
      "Gu & Dao 2023, Mamba: Linear-Time Sequence Modeling with Selective State Spaces (selective copying)",
      {
          {"length", 64, 1, 100000, "source length L"},
          {"symbols", 8, 1, 100000, "number of data symbols to copy, M (at most L)"},
          {"alphabet", 8, 1, 10000, "size of the data alphabet (tokens 0 .. alphabet-1)"},
          {"noise", 1, 1, 10000, "number of distinct noise tokens (_ when 1, else _0 _1 ..)"},
      }};
  return s;
}

class SelectiveCopy final : public Task {
 public:
  explicit SelectiveCopy(const KnobValues& k)
      : Task(this_spec(), k, make_vocab(k)),
        len_(k.at("length")),
        m_(k.at("symbols")),
        alphabet_(k.at("alphabet")),
        noise_(k.at("noise")) {
    if (m_ > len_)
      knob_conflict(spec().name, fmt::format("symbols={} exceeds length={}", m_, len_));
  }

  static Vocab make_vocab(const KnobValues& k) {
    auto t = numbered("", k.at("alphabet"));
    auto n = k.at("noise") == 1 ? std::vector<std::string>{"_"} : numbered("_", k.at("noise"));
    t.insert(t.end(), n.begin(), n.end());
    return Vocab(t);
  }

  Example generate(Xoshiro& rng) const override {
    Example ex;
    ex.src.resize(len_);
    // Selection sampling (Knuth's algorithm S): positions in order, each M-subset equally likely.
    int64_t need = m_;
    for (int64_t p = 0; p < len_; ++p) {
      if ((int64_t)rng.below((uint64_t)(len_ - p)) < need) {
        --need;
        const int t = Vocab::NUM_SPECIAL + (int)rng.below(alphabet_);
        ex.src[p] = t;
        ex.tgt.push_back(t);
        ex.distance.push_back((int)(len_ - p));
      } else {
        ex.src[p] = Vocab::NUM_SPECIAL + (int)alphabet_ + (int)rng.below(noise_);
      }
    }
    return ex;
  }

  Chance chance() const override {
    Chance c;
    c.token = 1.0 / (double)alphabet_;
    c.sequence = std::exp(-(double)m_ * std::log((double)alphabet_));
    return c;
  }
  size_t max_src_len() const override { return (size_t)len_; }
  size_t max_tgt_len() const override { return (size_t)m_; }

 private:
  int64_t len_, m_, alphabet_, noise_;
};

}  // namespace

TaskEntry selective_copy_entry() {
  return {this_spec, [](const KnobValues& k) -> std::unique_ptr<Task> { return std::make_unique<SelectiveCopy>(k); }};
}

}  // namespace attn::data::detail
