// copy-memory: remember N symbols across a delay of T blanks.
#include <cmath>

#include "data/tasks_impl.hpp"

namespace attn::data::detail {
namespace {

const TaskSpec& this_spec() {
  static const TaskSpec s{
      "copy-memory",
      "Recall N symbols after a delay of T blanks and a delimiter.",
      "source: N symbols, T blanks '_', one delimiter ':'; target: the N symbols",
      "target token i (0-based, of N) is source token i: distance N - i + T + 1",
      "Hochreiter & Schmidhuber 1997, Long Short-Term Memory; Arjovsky, Shah & Bengio 2016, "
      "Unitary Evolution Recurrent Neural Networks",
      {
          {"symbols", 10, 1, 10000, "number of symbols to remember, N"},
          {"alphabet", 8, 1, 10000, "size of the symbol alphabet (tokens 0 .. alphabet-1)"},
          {"delay", 100, 0, 100000, "number of blanks between the symbols and the delimiter, T"},
      }};
  return s;
}

class CopyMemory final : public Task {
 public:
  explicit CopyMemory(const KnobValues& k)
      : Task(this_spec(), k, make_vocab(k.at("alphabet"))),
        n_(k.at("symbols")),
        alphabet_(k.at("alphabet")),
        delay_(k.at("delay")),
        blank_(vocab().id("_")),
        delim_(vocab().id(":")) {}

  static Vocab make_vocab(int64_t alphabet) {
    auto t = numbered("", alphabet);
    t.push_back("_");
    t.push_back(":");
    return Vocab(t);
  }

  Example generate(Xoshiro& rng) const override {
    Example ex;
    ex.src.reserve(n_ + delay_ + 1);
    for (int64_t i = 0; i < n_; ++i) ex.src.push_back(Vocab::NUM_SPECIAL + (int)rng.below(alphabet_));
    ex.tgt = ex.src;
    ex.src.insert(ex.src.end(), delay_, blank_);
    ex.src.push_back(delim_);
    for (int64_t i = 0; i < n_; ++i) ex.distance.push_back((int)(n_ - i + delay_ + 1));
    return ex;
  }

  Chance chance() const override {
    Chance c;
    c.token = 1.0 / (double)alphabet_;
    c.sequence = std::exp(-(double)n_ * std::log((double)alphabet_));
    return c;
  }
  size_t max_src_len() const override { return (size_t)(n_ + delay_ + 1); }
  size_t max_tgt_len() const override { return (size_t)n_; }

 private:
  int64_t n_, alphabet_, delay_;
  int blank_, delim_;
};

}  // namespace

TaskEntry copy_memory_entry() {
  return {this_spec, [](const KnobValues& k) -> std::unique_ptr<Task> { return std::make_unique<CopyMemory>(k); }};
}

}  // namespace attn::data::detail
