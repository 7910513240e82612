#include "autograd/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <exception>

#include "autograd/rng.hpp"

namespace attn {

double CaseReport::max_abs_err() const {
  double m = 0;
  for (auto& r : inputs) m = std::max(m, r.max_abs_err);
  return m;
}

double CaseReport::normwise_rel_err() const {
  double m = 0;
  for (auto& r : inputs) m = std::max(m, r.normwise_rel_err);
  return m;
}

namespace {

template <class T>
std::vector<Tensor<T>> make_inputs(Graph<T>& g, const std::vector<GradcheckInput>& in) {
  std::vector<Tensor<T>> xs;
  for (auto& x : in) xs.push_back(g.tensor(x.shape, std::vector<T>(x.values.begin(), x.values.end()), x.requires_grad));
  return xs;
}

double dot(const Tensor<double>& y, const std::vector<double>& g) {
  double s = 0;
  const double* v = y.data();
  for (size_t i = 0; i < g.size(); ++i) s += v[i] * g[i];
  return s;
}

}  // namespace

namespace {

// Compares one input's analytic gradient with its numeric one.
InputReport compare(const std::vector<double>& analytic, const std::vector<double>& numeric, const Tolerance& tol) {
  InputReport r;
  double max_num = 0, diff2 = 0, num2 = 0;
  for (double n : numeric) max_num = std::max(max_num, std::fabs(n));
  const double atol = tol.atol * std::max(1.0, max_num);
  for (size_t j = 0; j < numeric.size(); ++j) {
    const double d = std::fabs(analytic[j] - numeric[j]);
    if (!(d <= atol + tol.rtol * std::fabs(numeric[j]))) r.passed = false;  // NaN fails too
    r.max_abs_err = std::isnan(d) ? NAN : std::max(r.max_abs_err, d);
    diff2 += d * d;
    num2 += numeric[j] * numeric[j];
  }
  r.normwise_rel_err = num2 > 0 ? std::sqrt(diff2 / num2) : std::sqrt(diff2);
  // Where the true gradient is zero (up to rounding noise), a relative error means nothing:
  // the per-element absolute test above decides alone.
  const bool zero_gradient = std::sqrt(num2) <= atol * std::sqrt((double)numeric.size());
  if (!zero_gradient && !(r.normwise_rel_err <= tol.max_normwise)) r.passed = false;
  return r;
}

}  // namespace

std::vector<InputReport> gradcheck(const CaseFn<double>& f, const std::vector<GradcheckInput>& inputs,
                                   double eps, const Tolerance& tol, uint64_t seed,
                                   const std::vector<ExternalInput>& externals) {
  Graph<double> g;
  for (const ExternalInput& e : externals) std::fill(e.grad, e.grad + e.size, 0.0);
  // Analytic: backward from f(x) with a random upstream gradient.
  std::vector<Tensor<double>> xs = make_inputs(g, inputs);
  Tensor<double> y = f(xs);
  Rng rng(seed ^ 0x5eedULL);
  std::vector<double> up(y.numel());
  for (auto& u : up) u = rng.uniform(-1.0, 1.0);
  std::vector<std::vector<double>> analytic(inputs.size()), ext_analytic;
  if (y.requires_grad()) g.backward(y, up.data());
  for (size_t i = 0; i < inputs.size(); ++i) analytic[i] = xs[i].grad_values();
  for (const ExternalInput& e : externals) ext_analytic.emplace_back(e.grad, e.grad + e.size);

  // Numeric: central differences of <g, f(x)>, one element at a time.
  std::vector<GradcheckInput> work = inputs;
  auto eval = [&]() {
    g.reset();
    std::vector<Tensor<double>> x2 = make_inputs(g, work);
    return dot(f(x2), up);
  };
  auto central = [&](double& x) {
    const double x0 = x;
    x = x0 + eps;
    const double fp = eval();
    x = x0 - eps;
    const double fm = eval();
    x = x0;
    return (fp - fm) / (2 * eps);
  };
  std::vector<InputReport> reports;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad) continue;
    std::vector<double> numeric(inputs[i].values.size());
    for (size_t j = 0; j < numeric.size(); ++j) numeric[j] = central(work[i].values[j]);
    reports.push_back(compare(analytic[i], numeric, tol));
    reports.back().input = (int)i;
  }
  for (size_t i = 0; i < externals.size(); ++i) {
    std::vector<double> numeric(externals[i].size);
    for (int64_t j = 0; j < externals[i].size; ++j) numeric[j] = central(externals[i].value[j]);
    reports.push_back(compare(ext_analytic[i], numeric, tol));
    reports.back().input = int(inputs.size() + i);
    reports.back().name = externals[i].name;
  }
  return reports;
}

namespace {

std::vector<double> draw(const InputSpec& s, Rng& rng) {
  if (!s.fixed.empty()) return s.fixed;
  const int64_t n = s.shape.numel();
  std::vector<double> v(n);
  if (s.distinct) {  // a shuffled grid, spaced 1e-2 apart, scaled into [lo, hi)
    for (int64_t i = 0; i < n; ++i) v[i] = s.lo + (s.hi - s.lo) * (i + 0.5) / n;
    for (int64_t i = n - 1; i > 0; --i) std::swap(v[i], v[rng.below(i + 1)]);
    return v;
  }
  for (auto& x : v) {
    do x = rng.uniform(s.lo, s.hi);
    while (std::fabs(x) < s.min_abs);
  }
  return v;
}

template <class T>
double forward_error(const GradCase& c, const CaseFn<T>& f, const std::vector<std::vector<double>>& vals,
                     const std::vector<double>& ref) {
  Graph<T> g;
  std::vector<Tensor<T>> xs;
  for (size_t i = 0; i < vals.size(); ++i)
    xs.push_back(g.tensor(c.inputs[i].shape, std::vector<T>(vals[i].begin(), vals[i].end()),
                          c.inputs[i].requires_grad));
  Tensor<T> y = f(xs);
  if ((size_t)y.numel() != ref.size()) return INFINITY;
  double err = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = std::fabs((double)y.data()[i] - ref[i]) / (1.0 + std::fabs(ref[i]));
    err = std::max(err, std::isnan(d) ? INFINITY : d);
  }
  return err;
}

}  // namespace

// Each output of an op case is a sum of at most N terms (N = the largest input's size), each a
// product of at most two inputs of magnitude <= R, passed through at most one well-conditioned
// function (exp, log, tanh, sqrt, a norm's rsqrt). In float32 the sum is then within
// gamma_N * sum|terms| <= gamma_N * N * R^2 of exact (Higham, section 3.1), and rounding the
// inputs and evaluating the function add a few units of u; 16u covers that (condition <= 8 on
// these ranges, a vectorised exp within 2 ulp). The error is measured relative to 1 + |ref|.
double float32_forward_bound(const GradCase& c) {
  int64_t n = 1;
  double r = 1;
  for (const InputSpec& s : c.inputs) {
    n = std::max(n, s.shape.numel());
    r = std::max({r, std::fabs(s.lo), std::fabs(s.hi)});
  }
  const double u = 1.0 / (1 << 24);
  return (n * u / (1 - n * u)) * n * r * r + 16 * u;
}

CaseReport run_case(const GradCase& c, uint64_t seed) {
  CaseReport rep;
  rep.op = c.op;
  rep.name = c.name;
  try {
    Rng rng(seed);
    std::vector<GradcheckInput> in;
    std::vector<std::vector<double>> vals;
    for (auto& s : c.inputs) {
      vals.push_back(draw(s, rng));
      in.push_back({s.shape, vals.back(), s.requires_grad});
    }
    rep.inputs = gradcheck(c.f64, in, c.eps, c.tol, seed, c.externals ? c.externals() : std::vector<ExternalInput>{});
    rep.passed = std::all_of(rep.inputs.begin(), rep.inputs.end(), [](auto& r) { return r.passed; });
    if (c.reference) {
      rep.has_reference = true;
      const std::vector<double> ref = c.reference(vals);
      rep.forward_err_f64 = forward_error<double>(c, c.f64, vals, ref);
      if (c.f32) rep.forward_err_f32 = forward_error<float>(c, c.f32, vals, ref);
      rep.forward_bound_f32 = float32_forward_bound(c);
      rep.forward_passed = rep.forward_err_f64 <= 1e-12 && rep.forward_err_f32 <= rep.forward_bound_f32;
      rep.passed = rep.passed && rep.forward_passed;
    }
  } catch (const std::exception& e) {
    rep.error = e.what();
    rep.passed = false;
  }
  return rep;
}

}  // namespace attn
