// Statistics for the study protocol: bootstrap intervals over seeds and sequences, paired tests
// between models, Holm's correction and the distance at which accuracy falls below a threshold.
// A run is one seed's per-sequence result; a cell is the runs of every seed of one (model,
// distance). Sequences, never single tokens, are the replicates: a sequence's tokens are not
// independent. Every resampling function takes an explicit seed and is deterministic for it.
#pragma once
#include <cstdint>
#include <vector>

#include "train/evaluate.hpp"

namespace attn {

using SeedRun = std::vector<uint8_t>;  // one seed: per test sequence, 1 = the whole sequence right
using Cell = std::vector<SeedRun>;     // one run per seed

// One sequence's token counts, for token accuracy resampled by sequence.
struct TokenCount {
  int correct = 0, tokens = 0;
};
using TokenRun = std::vector<TokenCount>;
using TokenCell = std::vector<TokenRun>;

// Mean over seeds of each seed's accuracy (token accuracy: correct over tokens within a seed).
double mean_accuracy(const Cell& runs);
double mean_accuracy(const TokenCell& runs);

// Hierarchical bootstrap (Agarwal et al. 2021, rliable): each resample draws seeds with
// replacement, then each drawn seed's sequences with replacement; the statistic is
// mean_accuracy of the resample. Percentile interval at `level`. One seed: the plain bootstrap
// over sequences.
Interval bootstrap_over_seeds(const Cell& runs, uint64_t seed, int resamples = 2000, double level = 0.95);
Interval bootstrap_over_seeds(const TokenCell& runs, uint64_t seed, int resamples = 2000,
                              double level = 0.95);

// Two-sided p-value for mean_accuracy(a) - mean_accuracy(b), where a[s][i] and b[s][i] are the
// same seed and test sequence. Seeds, then sequences within seed, are resampled jointly for both
// models. Centred method: with d = the observed difference and d* the resampled ones,
// p = (k + 1) / (B + 1), k = #{|d* - d| >= |d|} (ties count); so p >= 1/(B+1), and p = 1 when d = 0.
double paired_bootstrap_p(const Cell& a, const Cell& b, uint64_t seed, int resamples = 2000);

// Exact two-sided McNemar test on paired outcomes: the discordant pairs n01 (a wrong, b right)
// and n10 under Binomial(n01 + n10, 1/2); p = min(1, 2 P(X <= min(n01, n10))). 1 without
// discordant pairs.
double mcnemar_exact_p(const SeedRun& a, const SeedRun& b);

// Holm-Bonferroni step-down adjusted p-values, monotone and capped at 1, in the input order.
std::vector<double> holm(const std::vector<double>& p);

// D50: the distance at which accuracy first falls below a threshold.
struct D50 {
  enum Kind { Value, AboveMax, BelowMin } kind = Value;
  double value = 0;  // only for Value
};

// `distances` ascending and positive, one accuracy each. BelowMin when accuracy[0] < threshold,
// AboveMax when no point is below it; otherwise linear interpolation in log(distance) between the
// last point >= threshold and the first point below it.
D50 d50(const std::vector<double>& distances, const std::vector<double>& accuracy, double threshold = 0.5);

struct D50Interval {
  // Percentiles over all resamples, AboveMax counted as +inf and BelowMin as -inf, so that
  // hi = +inf reads "> max distance" and lo = -inf "< min distance".
  Interval ci;
  double above_max = 0, below_min = 0;  // fractions of resamples
};

// Bootstrap of d50 of the mean-accuracy curve. cells[k] is the cell at distances[k]; seed s is
// the same replicate at every distance, so one draw of seeds per resample is shared by all
// distances, and sequences are drawn within each (seed, distance).
D50Interval d50_interval(const std::vector<double>& distances, const std::vector<Cell>& cells, uint64_t seed,
                         int resamples = 2000, double level = 0.95, double threshold = 0.5);

}  // namespace attn
