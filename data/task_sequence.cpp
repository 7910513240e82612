// copy, reverse and sort: one random symbol sequence, three target orders.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "data/tasks_impl.hpp"

namespace attn::data::detail {
namespace {

enum class Order { Copy, Reverse, Sort };

std::vector<KnobSpec> sequence_knobs() {
  return {
      {"length", 20, 1, 100000, "sequence length L (the maximum when min_length is set)"},
      {"min_length", 0, 0, 100000, "shortest length; lengths are uniform in [min_length, length]; 0 = always L"},
      {"alphabet", 10, 2, 10000, "number of distinct symbols (tokens 0 .. alphabet-1)"},
  };
}

const TaskSpec& copy_spec() {
  static const TaskSpec s{
      "copy",
      "Copy a random sequence of symbols.",
      "source: L symbols; target: the same L symbols",
      "target token j is source token j: distance S - j (S = source length)",
      "Graves, Wayne & Danihelka 2014, Neural Turing Machines (copy task)",
      sequence_knobs()};
  return s;
}

const TaskSpec& reverse_spec() {
  static const TaskSpec s{
      "reverse",
      "Write a random sequence of symbols backwards.",
      "source: L symbols; target: the same L symbols in reverse order",
      "target token j is source token S-1-j: distance j + 1",
      "Grefenstette et al. 2015, Learning to Transduce with Unbounded Memory (reversal); Deletang et al. 2023, "
      "Neural Networks and the Chomsky Hierarchy (Reverse String, DCF)",
      sequence_knobs(),
      "DCF"};
  return s;
}

const TaskSpec& sort_spec() {
  static const TaskSpec s{
      "sort",
      "Sort a random sequence of symbols in ascending order.",
      "source: L symbols; target: the same L symbols sorted by symbol number",
      "every target token depends on the whole source: distance S",
      "Vinyals, Bengio & Kudlur 2016, Order Matters: Sequence to Sequence for Sets (sorting); Deletang et al. "
      "2023, Neural Networks and the Chomsky Hierarchy (Bucket Sort, CS)",
      sequence_knobs(),
      "CS"};
  return s;
}

// log of the most likely sorted sequence of length n over k symbols: the most balanced counts.
double log_best_multiset(int64_t n, int64_t k) {
  const int64_t q = n / k, r = n % k;
  return std::lgamma((double)n + 1) - (double)r * std::lgamma((double)q + 2) -
         (double)(k - r) * std::lgamma((double)q + 1) - (double)n * std::log((double)k);
}

class SequenceTask final : public Task {
 public:
  SequenceTask(const TaskSpec& spec, Order order, const KnobValues& k)
      : Task(spec, k, Vocab(numbered("", k.at("alphabet")))),
        order_(order),
        len_(length_range(spec.name, k)),
        alphabet_(k.at("alphabet")) {}

  Example generate(Xoshiro& rng) const override {
    const int64_t n = len_.draw(rng);
    Example ex;
    ex.src.resize(n);
    for (auto& t : ex.src) t = Vocab::NUM_SPECIAL + (int)rng.below(alphabet_);
    ex.distance.resize(n);
    switch (order_) {
      case Order::Copy:
        ex.tgt = ex.src;
        for (int64_t j = 0; j < n; ++j) ex.distance[j] = (int)(n - j);
        break;
      case Order::Reverse:
        ex.tgt.assign(ex.src.rbegin(), ex.src.rend());
        for (int64_t j = 0; j < n; ++j) ex.distance[j] = (int)(j + 1);
        break;
      case Order::Sort: {
        // Counting sort: ids are assigned in symbol order.
        std::vector<int> count(alphabet_, 0);
        for (int t : ex.src) ++count[t - Vocab::NUM_SPECIAL];
        ex.tgt.reserve(n);
        for (int64_t s = 0; s < alphabet_; ++s) ex.tgt.insert(ex.tgt.end(), count[s], (int)s + Vocab::NUM_SPECIAL);
        std::fill(ex.distance.begin(), ex.distance.end(), (int)n);
        break;
      }
    }
    return ex;
  }

  Chance chance() const override {
    const double p_len = 1.0 / (double)len_.count();
    Chance c;
    if (order_ != Order::Sort) {
      // Every position is uniform over the alphabet; the best full guess is the shortest length.
      c.token = 1.0 / (double)alphabet_;
      c.sequence = p_len * std::exp(-(double)len_.lo * std::log((double)alphabet_));
      return c;
    }
    double best = 0;
    for (int64_t n = len_.lo; n <= len_.hi; ++n) best = std::max(best, p_len * std::exp(log_best_multiset(n, alphabet_)));
    c.sequence = best;
    const double work = (double)len_.count() * (double)len_.hi * (double)alphabet_;
    if (work > 2e7 || (double)len_.hi * (double)alphabet_ > 1e6) {
      c.token = estimate_chance(*this, 2000, 0x5eed).token;
      c.exact = false;
      c.note = "token chance estimated from 2000 samples (exact sum too large)";
      return c;
    }
    // mass[j][v]: P(target j exists and equals v). Target j is the (j+1)-th order statistic:
    // P(X_(j) <= v | n) = P(Binomial(n, (v+1)/K) >= j+1).
    std::vector<std::vector<double>> mass(len_.hi, std::vector<double>(alphabet_, 0.0));
    std::vector<double> tail_prev, tail;
    for (int64_t n = len_.lo; n <= len_.hi; ++n) {
      tail_prev.assign(n + 2, 0.0);  // P(Bin >= m) for v-1; 0 below v=0
      for (int64_t v = 0; v < alphabet_; ++v) {
        const double p = (double)(v + 1) / (double)alphabet_;
        tail.assign(n + 2, 0.0);
        for (int64_t m = n; m >= 0; --m) {
          double pmf;
          if (p >= 1.0) pmf = m == n ? 1.0 : 0.0;
          else
            pmf = std::exp(std::lgamma((double)n + 1) - std::lgamma((double)m + 1) - std::lgamma((double)(n - m) + 1) +
                           (double)m * std::log(p) + (double)(n - m) * std::log1p(-p));
          tail[m] = tail[m + 1] + pmf;
        }
        for (int64_t j = 0; j < n; ++j) mass[j][v] += p_len * std::max(0.0, tail[j + 1] - tail_prev[j + 1]);
        tail_prev.swap(tail);
      }
    }
    double hits = 0, expected_len = 0;
    for (const auto& row : mass) hits += *std::max_element(row.begin(), row.end());
    for (int64_t n = len_.lo; n <= len_.hi; ++n) expected_len += p_len * (double)n;
    c.token = hits / expected_len;
    return c;
  }

  size_t max_src_len() const override { return (size_t)len_.hi; }
  size_t max_tgt_len() const override { return (size_t)len_.hi; }

 private:
  Order order_;
  LengthRange len_;
  int64_t alphabet_;
};

}  // namespace

TaskEntry copy_entry() {
  return {copy_spec, [](const KnobValues& k) -> std::unique_ptr<Task> {
            return std::make_unique<SequenceTask>(copy_spec(), Order::Copy, k);
          }};
}
TaskEntry reverse_entry() {
  return {reverse_spec, [](const KnobValues& k) -> std::unique_ptr<Task> {
            return std::make_unique<SequenceTask>(reverse_spec(), Order::Reverse, k);
          }};
}
TaskEntry sort_entry() {
  return {sort_spec, [](const KnobValues& k) -> std::unique_ptr<Task> {
            return std::make_unique<SequenceTask>(sort_spec(), Order::Sort, k);
          }};
}

}  // namespace attn::data::detail
