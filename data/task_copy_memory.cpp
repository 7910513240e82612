// copy-memory: remember N symbols across a delay of T blanks.
#include <cmath>
#include <fmt/core.h>

#include "data/tasks_impl.hpp"

namespace attn::data::detail {
namespace {

const TaskSpec& this_spec() {
  static const TaskSpec s{
      "copy-memory",
      "Recall N symbols after a delay of T blanks and a delimiter.",
      "source: N symbols, T blanks '_', one delimiter ':'; target: the N symbols",
      "target token i (0-based, of N) is source token i: distance N - i + T + 1, T the example's delay",
      "Hochreiter & Schmidhuber 1997, Long Short-Term Memory; Arjovsky, Shah & Bengio 2016, "
      "Unitary Evolution Recurrent Neural Networks",
      {
          {"symbols", 10, 1, 10000, "number of symbols to remember, N"},
          {"alphabet", 8, 1, 10000, "size of the symbol alphabet (tokens 0 .. alphabet-1)"},
          {"delay", 100, 0, 100000, "number of blanks between the symbols and the delimiter, T (the maximum when min_delay is set)"},
          {"min_delay", -1, -1, 100000, "shortest delay; delays are uniform in [min_delay, delay]; -1 = always delay"},
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
        min_delay_(k.at("min_delay")),
        blank_(vocab().id("_")),
        delim_(vocab().id(":")) {
    if (min_delay_ > delay_)
      knob_conflict(spec().name, fmt::format("min_delay={} exceeds delay={} (min_delay=-1 means a fixed delay)",
                                             min_delay_, delay_));
  }

  static Vocab make_vocab(int64_t alphabet) {
    auto t = numbered("", alphabet);
    t.push_back("_");
    t.push_back(":");
    return Vocab(t);
  }

  Example generate(Xoshiro& rng) const override {
    // No draw for a fixed delay, so examples are those of the versions without min_delay.
    const int64_t delay = min_delay_ < 0 ? delay_ : rng.range(min_delay_, delay_);
    Example ex;
    ex.src.reserve(n_ + delay + 1);
    for (int64_t i = 0; i < n_; ++i) ex.src.push_back(Vocab::NUM_SPECIAL + (int)rng.below(alphabet_));
    ex.tgt = ex.src;
    ex.src.insert(ex.src.end(), delay, blank_);
    ex.src.push_back(delim_);
    for (int64_t i = 0; i < n_; ++i) ex.distance.push_back((int)(n_ - i + delay + 1));
    return ex;
  }

  Chance chance() const override {
    Chance c;
    c.token = 1.0 / (double)alphabet_;
    c.sequence = std::exp(-(double)n_ * std::log((double)alphabet_));
    c.baselines.push_back({"memoryless", "xent_nats_per_token", std::log((double)alphabet_),
                           "a model that keeps nothing of the symbols predicts them uniformly: log(alphabet) nats "
                           "per target token (EOS not counted)"});
    return c;
  }
  size_t max_src_len() const override { return (size_t)(n_ + delay_ + 1); }
  size_t max_tgt_len() const override { return (size_t)n_; }

 private:
  int64_t n_, alphabet_, delay_, min_delay_;
  int blank_, delim_;
};

}  // namespace

TaskEntry copy_memory_entry() {
  return {this_spec, [](const KnobValues& k) -> std::unique_ptr<Task> { return std::make_unique<CopyMemory>(k); }};
}

}  // namespace attn::data::detail
