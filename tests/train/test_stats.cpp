#define BOOST_TEST_MODULE stats
#include "tests/common.hpp"

// The study's statistics on hand-made data whose answers are known: exact values where the data
// leave no resampling variance, and otherwise tolerances from the bootstrap distribution's known
// shape plus the Monte-Carlo error of B = 2000 resamples.
//
// Monte-Carlo error of a percentile endpoint: the sample q-quantile of B draws has standard error
// sqrt(q(1-q)/B) / f(x_q), f the statistic's density there. For a normal statistic with sd σ at
// q = 0.025 that is sqrt(0.025·0.975/2000) / (φ(1.96)/σ) = 0.00349 / (0.0584/σ) ≈ 0.06σ, about
// 1.5% of the interval's width 3.92σ.
#include <cmath>
#include <limits>

#include "train/stats.hpp"

using namespace attn;

namespace {

constexpr uint64_t kSeed = 12345;
constexpr int kB = 2000;

// n sequences, the first `right` of them right (order does not matter to a bootstrap).
SeedRun run_of(int n, int right) {
  SeedRun r(n, 0);
  for (int i = 0; i < right; ++i) r[i] = 1;
  return r;
}

double width(const Interval& i) { return i.hi - i.lo; }

// Paired outcomes with the given counts: n01 = a wrong and b right, n10 = a right and b wrong.
std::pair<SeedRun, SeedRun> pairs(int n00, int n01, int n10, int n11) {
  SeedRun a, b;
  auto add = [&](int count, uint8_t x, uint8_t y) { a.insert(a.end(), count, x), b.insert(b.end(), count, y); };
  add(n00, 0, 0), add(n01, 0, 1), add(n10, 1, 0), add(n11, 1, 1);
  return {a, b};
}

bool close(double x, double y, double rel) { return std::fabs(x - y) <= rel * std::fabs(y); }

}  // namespace

// ---- mean accuracy and the bootstrap over seeds ----

// The mean over seeds of each seed's accuracy, not the pooled accuracy: (3/4 + 5/10) / 2 = 0.625,
// whereas pooled it would be 8/14.
BOOST_AUTO_TEST_CASE(mean_accuracy_averages_seeds) {
  BOOST_TEST(mean_accuracy(Cell{run_of(4, 3), run_of(10, 5)}) == 0.625);
  BOOST_TEST(mean_accuracy(TokenCell{{{3, 4}}, {{1, 2}, {4, 8}}}) == 0.625);  // 3/4 and 5/10
}

// Every resample of all-right runs is all right: the interval is exactly [1, 1].
BOOST_AUTO_TEST_CASE(all_right_runs_give_a_point) {
  const Interval i = bootstrap_over_seeds(Cell(3, SeedRun(50, 1)), kSeed);
  BOOST_TEST(i.lo == 1.0);
  BOOST_TEST(i.hi == 1.0);
}

// Five identical seeds at p = 0.3: redrawing seeds changes nothing, so the statistic is the mean
// of 5 independent within-seed bootstraps, sd sqrt(p(1-p)/(5n)); the width 3.92·sd halves when n
// quadruples (0.080 at n = 100, 0.040 at n = 400). Each width is within a few percent (1.5% per
// endpoint, above; the lattice step 1/(5n) is 2.5% of the width at most), so the ratio is within
// 0.5 ± 0.1 with a wide margin.
BOOST_AUTO_TEST_CASE(interval_narrows_with_more_sequences) {
  const Interval small = bootstrap_over_seeds(Cell(5, run_of(100, 30)), kSeed);
  const Interval large = bootstrap_over_seeds(Cell(5, run_of(400, 120)), kSeed);
  for (const Interval& i : {small, large}) {
    BOOST_TEST(i.lo < 0.3);
    BOOST_TEST(i.hi > 0.3);
  }
  BOOST_TEST(width(large) < width(small));
  BOOST_TEST(std::fabs(width(large) / width(small) - 0.5) < 0.1);
}

// One seed of 400 sequences, 200 right: the plain bootstrap, whose statistic is Binomial(400,
// 1/2)/400, sd 0.025, so the interval is about 0.5 ± 1.96·0.025 = [0.451, 0.549]. Departures: the
// binomial's own 2.5% point is 180/400 = 0.45 (P(X <= 180) = 0.026 with continuity correction),
// 0.001 from the normal; the lattice step is 0.0025; Monte-Carlo error is 0.06·0.025 = 0.0015 per
// endpoint. 0.01 covers the first two and leaves over 4 standard errors.
BOOST_AUTO_TEST_CASE(one_seed_matches_the_normal_approximation) {
  const Interval i = bootstrap_over_seeds(Cell{run_of(400, 200)}, kSeed);
  const double half = 1.96 * std::sqrt(0.25 / 400);
  BOOST_TEST(std::fabs(i.lo - (0.5 - half)) < 0.01);
  BOOST_TEST(std::fabs(i.hi - (0.5 + half)) < 0.01);
}

// Four seeds at 0.2, 0.8, 0.2, 0.8 against four at 0.5, 100 sequences each; both have mean 0.5.
// Uniform: sd sqrt(0.25/400) = 0.025, width 0.098. Mixed: the mean of 4 drawn seeds is
// 0.2 + 0.6·J/4 with J ~ Binomial(4, 1/2); P(J = 0) = P(J = 4) = 1/16 > 2.5%, so the endpoints
// are near 0.2 and 0.8 (within-seed noise there has sd sqrt(0.16/400) = 0.02), width about 0.6.
BOOST_AUTO_TEST_CASE(between_seed_variance_widens_the_interval) {
  const Interval uniform = bootstrap_over_seeds(Cell(4, run_of(100, 50)), kSeed);
  const Interval mixed =
      bootstrap_over_seeds(Cell{run_of(100, 20), run_of(100, 80), run_of(100, 20), run_of(100, 80)}, kSeed);
  BOOST_TEST(width(uniform) < 0.15);
  BOOST_TEST(width(mixed) > 0.4);
}

// ---- token accuracy, resampled by sequence ----

// 100 sequences of 10 tokens, 50 all right and 50 all wrong. Resampling sequences, token accuracy
// is 10K/1000 for K right sequences drawn: the same number, to the last bit, as the sequence
// accuracy K/100 from the same draws, so the two intervals coincide. That interval is about
// [0.40, 0.60] (Binomial(100, 1/2)/100, sd 0.05). Treating the 1000 tokens as independent (1000
// one-token sequences) gives sd sqrt(0.25/1000) = 0.016 and width 0.062 instead.
BOOST_AUTO_TEST_CASE(token_accuracy_resamples_sequences) {
  TokenRun by_sequence;
  for (int i = 0; i < 100; ++i) by_sequence.push_back({i < 50 ? 10 : 0, 10});
  TokenRun by_token;
  for (int i = 0; i < 1000; ++i) by_token.push_back({i < 500 ? 1 : 0, 1});
  const Interval tokens = bootstrap_over_seeds(TokenCell{by_sequence}, kSeed);
  const Interval sequences = bootstrap_over_seeds(Cell{run_of(100, 50)}, kSeed);
  const Interval independent = bootstrap_over_seeds(TokenCell{by_token}, kSeed);
  BOOST_TEST(tokens.lo == sequences.lo);
  BOOST_TEST(tokens.hi == sequences.hi);
  // 0.2 from the binomial's 2.5% and 97.5% points (40 and 60); one lattice step (0.01) per end
  // and Monte-Carlo error (0.003 per end) fit in 0.03.
  BOOST_TEST(std::fabs(width(tokens) - 0.2) < 0.03);
  BOOST_TEST(width(independent) < 0.08);  // 0.062, Monte-Carlo error 1.5% per end
}

// ---- paired bootstrap ----

// Identical models: the observed difference is 0 and every |d* - 0| >= 0, so k = B and p = 1.
BOOST_AUTO_TEST_CASE(paired_identical_models_give_one) {
  const Cell a{run_of(200, 120), run_of(200, 90)};
  BOOST_TEST(paired_bootstrap_p(a, a, kSeed) == 1.0);
}

// a is right wherever b is and on 50 more of 200: per-example differences are 50 ones and 150
// zeros, observed d = 0.25. A resample counts only if d* <= 0 (all 200 draws zeros, probability
// 0.75^200 = 1e-25) or d* >= 0.5 (Binomial(200, 1/4) >= 100, 8 sd above its mean, about 1e-16).
// So k = 0 in all 2000 resamples and p is its floor 1/(B+1) = 1/2001 < 0.001. Swapping the models
// negates every d* and d exactly, so p is the same.
BOOST_AUTO_TEST_CASE(paired_dominating_model_gives_the_floor) {
  const Cell a{run_of(200, 150)}, b{run_of(200, 100)};
  BOOST_TEST(paired_bootstrap_p(a, b, kSeed, kB) == 1.0 / (kB + 1));
  BOOST_TEST(paired_bootstrap_p(b, a, kSeed, kB) == 1.0 / (kB + 1));
}

// A small difference: a is right on 25 examples b gets wrong, b on 20 that a gets wrong, of 200;
// d = 0.025. The per-example differences (+1 ×25, −1 ×20, 0 ×155) give d* sd
// sqrt((45/200 - 0.025²)/200) = 0.0335, so p ≈ P(|Z| >= 0.025/0.0335) = 0.46 (0.50 counting the
// lattice point at the boundary). Monte-Carlo error is sqrt(0.25/2000) = 0.011; 0.3..0.7 is far
// from both that and a broken test that says 1 or 1/(B+1).
BOOST_AUTO_TEST_CASE(paired_small_difference_is_not_significant) {
  const auto [a, b] = pairs(60, 20, 25, 95);
  const double p = paired_bootstrap_p(Cell{a}, Cell{b}, kSeed);
  BOOST_TEST(p > 0.3);
  BOOST_TEST(p < 0.7);
}

// ---- McNemar ----

// Binomial(n, 1/2) tails by hand; concordant pairs are ignored. The lgamma route costs a few
// ulps per term, so 1e-12 relative is ample.
BOOST_AUTO_TEST_CASE(mcnemar_known_values) {
  auto p = [](int n01, int n10) {
    const auto [a, b] = pairs(7, n01, n10, 30);
    return mcnemar_exact_p(a, b);
  };
  BOOST_TEST(close(p(0, 10), 2 * std::pow(0.5, 10), 1e-12));  // 0.001953125
  BOOST_TEST(close(p(10, 0), 0.001953125, 1e-12));
  BOOST_TEST(p(5, 5) == 1.0);                                  // 2·638/1024 > 1, capped
  BOOST_TEST(close(p(2, 8), 2 * (1 + 10 + 45) / 1024.0, 1e-12));  // 0.109375
  BOOST_TEST(p(0, 0) == 1.0);
}

// 3000 against 3100 discordant pairs: each term underflows double (2^-6100), so only log space
// gives an answer. Against the continuity-corrected normal approximation, 2Φ((3000.5 - 3050)/σ)
// with σ = sqrt(6100)/2: for p = 1/2 there is no skewness term, and the kurtosis (−2/n) and
// lattice terms of the Edgeworth expansion are each about φ(z)/(24σ²) ≈ 5e-6 here; 1e-4 bounds
// both, doubled for two tails, with room.
BOOST_AUTO_TEST_CASE(mcnemar_thousands_of_pairs) {
  const auto [a, b] = pairs(100, 3000, 3100, 100);
  const double p = mcnemar_exact_p(a, b);
  const double z = (3000.5 - 3050) / (std::sqrt(6100.0) / 2);
  BOOST_TEST(std::isfinite(p));
  BOOST_TEST(p > 0.0);
  BOOST_TEST(p <= 1.0);
  BOOST_TEST(std::fabs(p - std::erfc(-z / std::sqrt(2.0))) < 1e-4);
}

// ---- Holm ----

// Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 raised to the running
// maximum 0.06; back in the input order. Each value is one product, one rounding.
BOOST_AUTO_TEST_CASE(holm_known_values) {
  const std::vector<double> adj = holm({0.01, 0.04, 0.03, 0.005});
  const std::vector<double> expected{0.03, 0.06, 0.06, 0.02};
  BOOST_TEST_REQUIRE(adj.size() == 4u);
  for (size_t i = 0; i < 4; ++i) BOOST_TEST(close(adj[i], expected[i], 1e-15));
}

// 0.3·3 = 0.9, 0.6·2 = 1.2 capped at 1, 0.9·1 = 0.9 raised to 1.
BOOST_AUTO_TEST_CASE(holm_caps_at_one) {
  const std::vector<double> adj = holm({0.6, 0.3, 0.9});
  BOOST_TEST(adj[0] == 1.0);
  BOOST_TEST(close(adj[1], 0.9, 1e-15));
  BOOST_TEST(adj[2] == 1.0);
  BOOST_TEST(holm({}).empty());
}

// ---- D50 ----

const std::vector<double> kDistances{8, 16, 32, 64};

// Between 16 (0.9) and 32 (0.3): t = (0.9 - 0.5)/(0.9 - 0.3) = 2/3 of the way in log2, so
// log2 d = 4 + 2/3 and d = 2^(14/3) ≈ 25.398. A few log/exp operations: 1e-12 relative.
BOOST_AUTO_TEST_CASE(d50_interpolates_in_log_distance) {
  const D50 d = d50(kDistances, {1.0, 0.9, 0.3, 0.1});
  BOOST_TEST(d.kind == D50::Value);
  BOOST_TEST(close(d.value, std::pow(2.0, 14.0 / 3), 1e-12));
}

BOOST_AUTO_TEST_CASE(d50_censored_and_edge_cases) {
  BOOST_TEST(d50(kDistances, {1.0, 0.9, 0.8, 0.6}).kind == D50::AboveMax);
  BOOST_TEST(d50(kDistances, {0.4, 0.9, 0.8, 0.6}).kind == D50::BelowMin);
  // Non-monotone: the first crossing, between 8 (1.0) and 16 (0.4): t = 0.5/0.6 = 5/6, so
  // d = 2^(3 + 5/6) = 2^(23/6) ≈ 14.254, though the curve rises again to 0.8.
  const D50 first = d50(kDistances, {1.0, 0.4, 0.8, 0.1});
  BOOST_TEST(first.kind == D50::Value);
  BOOST_TEST(close(first.value, std::pow(2.0, 23.0 / 6), 1e-12));
  // Exactly at the threshold counts as not below: the crossing starts at 16 with t = 0.
  const D50 at = d50(kDistances, {1.0, 0.5, 0.3, 0.1});
  BOOST_TEST(close(at.value, 16.0, 1e-12));
  BOOST_CHECK_THROW(d50({8, 8}, {1, 0}), std::invalid_argument);
  BOOST_CHECK_THROW(d50({8, 16}, {1}), std::invalid_argument);
}

// Three identical seeds, all sequences right at 8 and 16 and all wrong at 32 and 64: every
// resample's curve is exactly {1, 1, 0, 0}, so every d50 is 2^4.5 and the interval is that point.
BOOST_AUTO_TEST_CASE(d50_interval_without_resampling_variance) {
  const std::vector<Cell> cells{Cell(3, SeedRun(40, 1)), Cell(3, SeedRun(40, 1)), Cell(3, SeedRun(40, 0)), Cell(3, SeedRun(40, 0))};
  const D50 point = d50(kDistances, {1, 1, 0, 0});
  const D50Interval i = d50_interval(kDistances, cells, kSeed);
  BOOST_TEST(close(point.value, std::pow(2.0, 4.5), 1e-12));
  BOOST_TEST(i.ci.lo == point.value);
  BOOST_TEST(i.ci.hi == point.value);
  BOOST_TEST(i.above_max == 0.0);
  BOOST_TEST(i.below_min == 0.0);
}

// Two seeds at distances 8 and 16: seed 0 right everywhere, seed 1 right at 8 and wrong at 16.
// Accuracy at 16 is the fraction of drawn seeds that are seed 0: it falls below 0.5 only when
// both draws are seed 1 (probability 1/4), giving 2^3.5 ≈ 11.31; otherwise AboveMax. So
// above_max ~ Binomial(2000, 3/4)/2000 (sd 0.0097; 0.04 is 4 sd), the 2.5% point lies inside the
// quarter of resamples at 2^3.5, and the 97.5% point inside the AboveMax ones: hi = +inf.
BOOST_AUTO_TEST_CASE(d50_interval_reports_censoring) {
  const std::vector<Cell> cells{Cell(2, SeedRun(20, 1)), Cell{SeedRun(20, 1), SeedRun(20, 0)}};
  const D50Interval i = d50_interval({8, 16}, cells, kSeed);
  BOOST_TEST(std::fabs(i.above_max - 0.75) < 0.04);
  BOOST_TEST(i.below_min == 0.0);
  BOOST_TEST(close(i.ci.lo, std::pow(2.0, 3.5), 1e-12));
  BOOST_TEST(i.ci.hi == std::numeric_limits<double>::infinity());
}

// ---- determinism and input checks ----

BOOST_AUTO_TEST_CASE(same_seed_same_answer) {
  const Cell a{run_of(50, 20), run_of(60, 45), run_of(40, 10)};
  const Cell b{run_of(50, 25), run_of(60, 40), run_of(40, 15)};
  const Interval i1 = bootstrap_over_seeds(a, 7), i2 = bootstrap_over_seeds(a, 7);
  BOOST_TEST(i1.lo == i2.lo);
  BOOST_TEST(i1.hi == i2.hi);
  BOOST_TEST(paired_bootstrap_p(a, b, 7) == paired_bootstrap_p(a, b, 7));
  const std::vector<Cell> cells{a, b};
  const D50Interval d1 = d50_interval({8, 16}, cells, 7), d2 = d50_interval({8, 16}, cells, 7);
  BOOST_TEST(d1.ci.lo == d2.ci.lo);
  BOOST_TEST(d1.ci.hi == d2.ci.hi);
  BOOST_TEST(d1.above_max == d2.above_max);
}

BOOST_AUTO_TEST_CASE(bad_inputs_throw) {
  BOOST_CHECK_THROW(bootstrap_over_seeds(Cell{}, kSeed), std::invalid_argument);
  BOOST_CHECK_THROW(bootstrap_over_seeds(Cell{SeedRun{}}, kSeed), std::invalid_argument);
  BOOST_CHECK_THROW(paired_bootstrap_p(Cell{run_of(5, 2)}, Cell{run_of(6, 2)}, kSeed), std::invalid_argument);
  BOOST_CHECK_THROW(mcnemar_exact_p(run_of(5, 2), run_of(6, 2)), std::invalid_argument);
  BOOST_CHECK_THROW(d50_interval({8, 16}, {Cell(2, SeedRun(5, 1)), Cell(3, SeedRun(5, 1))}, kSeed), std::invalid_argument);
}
