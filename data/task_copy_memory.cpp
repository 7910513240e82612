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
      "source: N symbols, T blanks '_', one delimiter ':'; target: the N symbols. layout=aligned (one stream, "
      "Arjovsky et al.): N symbols, T-1 blanks, ':', N blanks, labelled '_' everywhere, then the N symbols",
      "target token i (0-based, of N) is source token i: distance N - i + T + 1, T the example's delay; "
      "aligned: symbol i is labelled at position T + N + i, distance T + N",
      "Hochreiter & Schmidhuber 1997, Long Short-Term Memory; Arjovsky, Shah & Bengio 2016, "
      "Unitary Evolution Recurrent Neural Networks",
      {
          {"symbols", 10, 1, 10000, "number of symbols to remember, N"},
          {"alphabet", 8, 1, 10000, "size of the symbol alphabet (tokens 0 .. alphabet-1)"},
          {"delay", 100, 0, 100000, "number of blanks between the symbols and the delimiter, T (the maximum when min_delay is set)"},
          {"min_delay", -1, -1, 100000, "shortest delay; delays are uniform in [min_delay, delay]; -1 = always delay"},
          {"layout", 0, 0, 1, "target: symbols as the target (source SEP target in one stream); aligned: Arjovsky's "
           "one stream with a label at every position (language models only)", {"target", "aligned"}},
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
        aligned_(k.at("layout") == 1),
        blank_(vocab().id("_")),
        delim_(vocab().id(":")) {
    if (min_delay_ > delay_)
      knob_conflict(spec().name, fmt::format("min_delay={} exceeds delay={} (min_delay=-1 means a fixed delay)",
                                             min_delay_, delay_));
    if (aligned_ && (delay_ < 1 || min_delay_ == 0))
      knob_conflict(spec().name, "layout=aligned needs delays of at least 1: its input holds T - 1 blanks");
  }

  bool stream_only() const override { return aligned_; }

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
    if (aligned_) return aligned(std::move(ex), delay);
    ex.tgt = ex.src;
    ex.src.insert(ex.src.end(), delay, blank_);
    ex.src.push_back(delim_);
    for (int64_t i = 0; i < n_; ++i) ex.distance.push_back((int)(n_ - i + delay + 1));
    return ex;
  }

  // Arjovsky et al.'s layout: N symbols, T - 1 blanks, the delimiter, N blanks; the label is a
  // blank at the first T + N positions and symbol i at position T + N + i.
  Example aligned(Example ex, int64_t delay) const {
    const std::vector<int> symbols = ex.src;
    ex.src.insert(ex.src.end(), delay - 1, blank_);
    ex.src.push_back(delim_);
    ex.src.insert(ex.src.end(), n_, blank_);
    ex.labels.assign(delay + n_, blank_);
    ex.labels.insert(ex.labels.end(), symbols.begin(), symbols.end());
    ex.label_distance.assign(delay + n_, -1);
    ex.label_distance.insert(ex.label_distance.end(), n_, (int)(delay + n_));
    return ex;
  }

  Chance chance() const override {
    if (aligned_) return aligned_chance();
    Chance c;
    c.token = 1.0 / (double)alphabet_;
    c.sequence = std::exp(-(double)n_ * std::log((double)alphabet_));
    c.baselines.push_back({"memoryless", "xent_nats_per_token", std::log((double)alphabet_),
                           "a model that keeps nothing of the symbols predicts them uniformly: log(alphabet) nats "
                           "per target token (EOS not counted)"});
    return c;
  }
  size_t max_src_len() const override { return (size_t)(aligned_ ? delay_ + 2 * n_ : n_ + delay_ + 1); }
  size_t max_tgt_len() const override { return aligned_ ? 0 : (size_t)n_; }

 private:
  // Over every labelled position at T = delay (the longest): blanks are known from the position
  // alone, symbols are 1/alphabet; the memoryless cross-entropy is N log(alphabet) / (T + 2N).
  Chance aligned_chance() const {
    const double T = (double)delay_, N = (double)n_, L = T + 2 * N;
    Chance c;
    c.token = (T + N + N / (double)alphabet_) / L;
    c.sequence = std::exp(-N * std::log((double)alphabet_));
    c.note = min_delay_ < 0 ? "" : "at the longest delay; shorter ones have fewer blank labels";
    c.baselines.push_back({"memoryless", "xent_nats_per_token", N * std::log((double)alphabet_) / L,
                           "blanks predicted from the position, the N symbols uniformly: N log(alphabet) / (T + 2N) "
                           "nats per labelled position (Arjovsky et al. 2016: 10 log 8 / (T + 20))"});
    return c;
  }

  int64_t n_, alphabet_, delay_, min_delay_;
  bool aligned_;
  int blank_, delim_;
};

}  // namespace

TaskEntry copy_memory_entry() {
  return {this_spec, [](const KnobValues& k) -> std::unique_ptr<Task> { return std::make_unique<CopyMemory>(k); }};
}

}  // namespace attn::data::detail
