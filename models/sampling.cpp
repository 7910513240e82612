#include "models/sampling.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "autograd/shape.hpp"

namespace attn {

template <class T>
int pick_token(const T* row, int64_t V, double temperature, int64_t top_k, Rng& rng) {
  if (temperature == 0) return int(std::max_element(row, row + V) - row);
  std::vector<double> z(row, row + V);
  if (top_k > 0 && top_k < V) {
    std::vector<double> s = z;
    std::nth_element(s.begin(), s.begin() + (top_k - 1), s.end(), std::greater<double>());
    for (double& x : z)
      if (x < s[top_k - 1]) x = -INFINITY;
  }
  const double top = *std::max_element(z.begin(), z.end());
  double total = 0;
  for (double& x : z) total += x = std::exp((x - top) / temperature);
  double u = rng.uniform() * total;
  for (int64_t v = 0; v < V; ++v)
    if (z[v] > 0 && (u -= z[v]) < 0) return int(v);
  for (int64_t v = V - 1; v >= 0; --v)  // u at the very top after rounding
    if (z[v] > 0) return int(v);
  return 0;
}

void check_sample_args(const std::string& who, const std::vector<int>& prompt, double temperature, int64_t top_k) {
  if (prompt.empty()) throw Error(who + ": sample needs a prompt of at least one token");
  if (!(temperature >= 0) || top_k < 0)
    throw Error(fmt::format("{}: sample needs temperature >= 0 and top_k >= 0, got {} and {}", who, temperature, top_k));
}

template int pick_token<float>(const float*, int64_t, double, int64_t, Rng&);
template int pick_token<double>(const double*, int64_t, double, int64_t, Rng&);

}  // namespace attn
