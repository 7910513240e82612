// Rounding bounds for float32 comparisons in the tests, derived rather than read off a machine.
//
// A sum or dot product of n terms computed in float32, in any order and with or without FMA,
// has |error| <= gamma_n * sum|terms|, gamma_n = n*u / (1 - n*u), u = 2^-24 (Higham, "Accuracy
// and Stability of Numerical Algorithms", 2nd ed., section 3.1). Two BLAS kernels (Haswell and
// SkylakeX, or a one-row and a many-row gemm) differ only in that order, so each result lies
// within the bound of the exact one and the two within twice it.
//
// For a network we add the bound once per sublayer on the longest path (attention, feed-forward,
// norm, output head): each starts from layer-normed activations of order 1, so its reductions
// carry no large cancellation (sum|terms| <= about 1 + |result|), and layer norm passes relative
// errors on without amplifying them. So two float32 evaluations of the same logits agree within
//   2 * depth * gamma_n * (1 + |logit|),  n = the longest reduction (d_model, ff or length).
#pragma once
#include <cmath>
#include <vector>
#include <cstdint>

namespace attn_test {

constexpr double kF32Unit = 1.0 / (1 << 24);  // unit roundoff of float32

inline double gamma_n(int64_t n, double u = kF32Unit) { return n * u / (1.0 - n * u); }

// |a - b| allowed between two float32 evaluations of a value of magnitude `scale` that passed
// through `depth` sublayers with reductions of at most n terms.
inline double f32_network_bound(int depth, int64_t n, double scale) {
  return 2.0 * depth * gamma_n(n) * (1.0 + scale);
}

// ||a - b|| / ||b|| (||a - b|| when b is 0).
inline double normwise(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0, n = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    d += (a[i] - b[i]) * (a[i] - b[i]);
    n += b[i] * b[i];
  }
  return n > 0 ? std::sqrt(d / n) : std::sqrt(d);
}

}  // namespace attn_test
