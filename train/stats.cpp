#include "train/stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

namespace attn {

namespace {

using Engine = std::mt19937_64;
using Indices = std::vector<size_t>;

// A uniform index in [0, n): multiply-shift rather than std::uniform_int_distribution, whose
// algorithm differs between standard libraries, so a seed gives the same interval everywhere.
// The bias is at most n / 2^64.
size_t uniform_index(Engine& rng, size_t n) { return size_t((unsigned __int128)rng() * n >> 64); }

// n indices in [0, n) drawn with replacement.
Indices draw(Engine& rng, size_t n) {
  Indices idx(n);
  for (auto& i : idx) i = uniform_index(rng, n);
  return idx;
}

Indices all_of(size_t n) {
  Indices idx(n);
  std::iota(idx.begin(), idx.end(), size_t(0));
  return idx;
}

double numerator(uint8_t x) { return x; }
double denominator(uint8_t) { return 1; }
double numerator(const TokenCount& t) { return t.correct; }
double denominator(const TokenCount& t) { return t.tokens; }

// One seed's accuracy over the sequences at `idx`; 0 when they hold no tokens.
template <class Item>
double accuracy(const std::vector<Item>& run, const Indices& idx) {
  double num = 0, den = 0;
  for (size_t i : idx) num += numerator(run[i]), den += denominator(run[i]);
  return den > 0 ? num / den : 0.0;
}

template <class Item>
void check_runs(const std::vector<std::vector<Item>>& runs) {
  if (runs.empty()) throw std::invalid_argument("stats: no runs");
  for (const auto& r : runs)
    if (r.empty()) throw std::invalid_argument("stats: a run without sequences");
}

template <class Item>
double mean_of(const std::vector<std::vector<Item>>& runs) {
  check_runs(runs);
  double sum = 0;
  for (const auto& r : runs) sum += accuracy(r, all_of(r.size()));
  return sum / runs.size();
}

// The statistic of one resample given its drawn seeds: each drawn seed's sequences redrawn
// (a seed drawn twice is redrawn twice, independently).
template <class Item>
double resampled_mean(const std::vector<std::vector<Item>>& runs, const Indices& seeds, Engine& rng) {
  double sum = 0;
  for (size_t s : seeds) sum += accuracy(runs[s], draw(rng, runs[s].size()));
  return sum / seeds.size();
}

// Quantile q of sorted values, interpolating between order statistics (numpy's default). Next to
// an infinite value it takes the nearer order statistic instead, since inf - inf is undefined.
double quantile(const std::vector<double>& sorted, double q) {
  const double h = q * (sorted.size() - 1);
  const size_t i = size_t(h);
  if (i + 1 >= sorted.size()) return sorted.back();
  const double a = sorted[i], b = sorted[i + 1], t = h - i;
  if (!std::isfinite(a) || !std::isfinite(b)) return t < 0.5 ? a : b;
  return a + (b - a) * t;
}

Interval percentile_interval(std::vector<double> values, double level) {
  std::sort(values.begin(), values.end());
  const double tail = (1 - level) / 2;
  return {quantile(values, tail), quantile(values, 1 - tail)};
}

void check_resamples(int resamples) {
  if (resamples < 1) throw std::invalid_argument("stats: resamples must be positive");
}

template <class Item>
Interval bootstrap(const std::vector<std::vector<Item>>& runs, uint64_t seed, int resamples, double level) {
  check_runs(runs);
  check_resamples(resamples);
  Engine rng(seed);
  std::vector<double> stats(resamples);
  for (auto& x : stats) x = resampled_mean(runs, draw(rng, runs.size()), rng);
  return percentile_interval(std::move(stats), level);
}

// Log of P(X = k), X ~ Binomial(n, 1/2).
double log_binomial_half(int64_t n, int64_t k) {
  return std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) - n * std::log(2.0);
}

}  // namespace

double mean_accuracy(const Cell& runs) { return mean_of(runs); }
double mean_accuracy(const TokenCell& runs) { return mean_of(runs); }

Interval bootstrap_over_seeds(const Cell& runs, uint64_t seed, int resamples, double level) {
  return bootstrap(runs, seed, resamples, level);
}
Interval bootstrap_over_seeds(const TokenCell& runs, uint64_t seed, int resamples, double level) {
  return bootstrap(runs, seed, resamples, level);
}

double paired_bootstrap_p(const Cell& a, const Cell& b, uint64_t seed, int resamples) {
  check_runs(a);
  check_resamples(resamples);
  if (a.size() != b.size()) throw std::invalid_argument("paired_bootstrap_p: different seed counts");
  for (size_t s = 0; s < a.size(); ++s)
    if (a[s].size() != b[s].size()) throw std::invalid_argument("paired_bootstrap_p: different test sets");
  const double observed = mean_accuracy(a) - mean_accuracy(b);
  Engine rng(seed);
  int64_t extreme = 0;
  for (int r = 0; r < resamples; ++r) {
    double sum = 0;
    const Indices seeds = draw(rng, a.size());
    for (size_t s : seeds) {
      const Indices idx = draw(rng, a[s].size());  // the same sequences for both models
      sum += accuracy(a[s], idx) - accuracy(b[s], idx);
    }
    // Ties count as extreme; the 1e-12 absorbs rounding, far below an accuracy step 1/n.
    const double d = sum / seeds.size();
    extreme += std::fabs(d - observed) >= std::fabs(observed) - 1e-12;
  }
  return double(extreme + 1) / (resamples + 1);
}

double mcnemar_exact_p(const SeedRun& a, const SeedRun& b) {
  if (a.size() != b.size()) throw std::invalid_argument("mcnemar_exact_p: different lengths");
  int64_t n01 = 0, n10 = 0;
  for (size_t i = 0; i < a.size(); ++i) n01 += !a[i] && b[i], n10 += a[i] && !b[i];
  const int64_t n = n01 + n10, m = std::min(n01, n10);
  if (n == 0) return 1;
  // log P(X <= m) by log-sum-exp: the terms underflow double for thousands of pairs.
  const double top = log_binomial_half(n, m);  // the largest term, since m <= n/2
  double sum = 0;
  for (int64_t k = 0; k <= m; ++k) sum += std::exp(log_binomial_half(n, k) - top);
  return std::min(1.0, 2 * std::exp(top + std::log(sum)));
}

std::vector<double> holm(const std::vector<double>& p) {
  const size_t m = p.size();
  Indices order = all_of(m);
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return p[i] < p[j]; });
  std::vector<double> adjusted(m);
  double running = 0;  // the running maximum keeps the adjusted values monotone
  for (size_t r = 0; r < m; ++r) {
    running = std::max(running, std::min(1.0, (m - r) * p[order[r]]));
    adjusted[order[r]] = running;
  }
  return adjusted;
}

D50 d50(const std::vector<double>& distances, const std::vector<double>& accuracy, double threshold) {
  if (distances.empty() || distances.size() != accuracy.size())
    throw std::invalid_argument("d50: need one accuracy per distance");
  for (size_t k = 0; k < distances.size(); ++k)
    if (distances[k] <= 0 || (k && distances[k] <= distances[k - 1]))
      throw std::invalid_argument("d50: distances must be positive and ascending");
  if (accuracy[0] < threshold) return {D50::BelowMin, 0};
  for (size_t k = 1; k < accuracy.size(); ++k) {
    if (accuracy[k] >= threshold) continue;
    const double t = (accuracy[k - 1] - threshold) / (accuracy[k - 1] - accuracy[k]);
    const double lo = std::log(distances[k - 1]), hi = std::log(distances[k]);
    return {D50::Value, std::exp(lo + t * (hi - lo))};
  }
  return {D50::AboveMax, 0};
}

D50Interval d50_interval(const std::vector<double>& distances, const std::vector<Cell>& cells, uint64_t seed,
                         int resamples, double level, double threshold) {
  if (cells.size() != distances.size()) throw std::invalid_argument("d50_interval: need one cell per distance");
  for (const auto& c : cells) {
    check_runs(c);
    if (c.size() != cells[0].size()) throw std::invalid_argument("d50_interval: seed counts differ by distance");
  }
  check_resamples(resamples);
  const double inf = std::numeric_limits<double>::infinity();
  Engine rng(seed);
  std::vector<double> values(resamples);
  std::vector<double> curve(cells.size());
  D50Interval out;
  for (auto& v : values) {
    const Indices seeds = draw(rng, cells[0].size());
    for (size_t k = 0; k < cells.size(); ++k) curve[k] = resampled_mean(cells[k], seeds, rng);
    const D50 d = d50(distances, curve, threshold);
    v = d.kind == D50::Value ? d.value : d.kind == D50::AboveMax ? inf : -inf;
    out.above_max += d.kind == D50::AboveMax;
    out.below_min += d.kind == D50::BelowMin;
  }
  out.above_max /= resamples;
  out.below_min /= resamples;
  out.ci = percentile_interval(std::move(values), level);
  return out;
}

}  // namespace attn
