// Gradient checking, a product feature: central differences in float64 against the analytic
// gradient of <g, f(x)> for a random upstream g. Every op file defines its cases beside its
// forward and backward; `attnlab gradcheck` and the test suite enumerate them.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "autograd/tensor.hpp"

namespace attn {

// How one input of a case is drawn.
struct InputSpec {
  Shape shape;
  double lo = -1.0, hi = 1.0;  // uniform in [lo, hi)
  double min_abs = 0.0;        // redraw values with |x| < min_abs (keeps away from kinks at 0)
  bool distinct = false;       // values at least 1e-2 apart (keeps max away from ties)
  bool requires_grad = true;
  std::vector<double> fixed;   // exact values, when given (masks)
};

template <class T>
using CaseFn = std::function<Tensor<T>(std::vector<Tensor<T>>&)>;
using Reference = std::function<std::vector<double>(const std::vector<std::vector<double>>&)>;

struct Tolerance {
  double rtol = 1e-6;
  double atol = 1e-8;           // scaled by max(1, max |numeric|) of each input
  double max_normwise = 1e-6;
};
// Modules and whole models: rounding noise grows with the size of <g, f(x)>.
inline Tolerance module_tolerance() { return {1e-5, 1e-7, 1e-5}; }

// A buffer outside the graph that is checked too: a module's parameter, bound into each
// forward as an external leaf (see nn/module.hpp).
struct ExternalInput {
  std::string name;
  double* value;
  double* grad;
  int64_t size;
};

struct GradCase {
  std::string op;    // the OpDef (or module) it covers
  std::string name;  // what the case exercises
  std::vector<InputSpec> inputs;
  CaseFn<double> f64;
  CaseFn<float> f32;
  Reference reference;  // naive forward in double; may be empty for modules and models
  Tolerance tol;
  double eps = 1e-6;
  bool is_op = true;  // false for modules and models
  std::function<std::vector<ExternalInput>()> externals;  // parameters, for modules and models
};

// Every op's cases, from the explicit list in autograd/ops/registry.cpp. Modules' and models'
// cases are nn_cases() and model_cases(); whoever runs them all concatenates the three.
std::vector<GradCase> autograd_cases();

// A case whose function is written once, generically, and used in both precisions.
template <class F>
GradCase make_case(std::string op, std::string name, std::vector<InputSpec> inputs, F f,
                   Reference ref = {}) {
  GradCase c;
  c.op = std::move(op);
  c.name = std::move(name);
  c.inputs = std::move(inputs);
  c.f64 = [f](std::vector<Tensor<double>>& x) { return f(x); };
  c.f32 = [f](std::vector<Tensor<float>>& x) { return f(x); };
  c.reference = std::move(ref);
  return c;
}

struct InputReport {
  int input = 0;
  std::string name;  // set for external inputs
  double max_abs_err = 0;
  double normwise_rel_err = 0;
  bool passed = true;
};
struct CaseReport {
  std::string op, name;
  std::vector<InputReport> inputs;
  double forward_err_f64 = 0;  // max |op - reference| / (1 + |reference|)
  double forward_err_f32 = 0;
  double forward_bound_f32 = 0;  // float32_forward_bound(case)
  bool forward_passed = true;
  bool has_reference = false;  // forward errors are meaningful only then
  bool passed = true;
  double max_abs_err() const;
  double normwise_rel_err() const;
  std::string error;  // an exception thrown while running the case
};

// The general tool: checks f at the given input values (float64).
struct GradcheckInput {
  Shape shape;
  std::vector<double> values;
  bool requires_grad = true;
};
std::vector<InputReport> gradcheck(const CaseFn<double>& f, const std::vector<GradcheckInput>& inputs,
                                   double eps = 1e-6, const Tolerance& tol = {}, uint64_t seed = 1,
                                   const std::vector<ExternalInput>& externals = {});

// The float32 forward error allowed for a case, from its largest input's size and range
// (derivation in gradcheck.cpp). float64 is held to 1e-12.
double float32_forward_bound(const GradCase& c);

// Draws a case's inputs, gradchecks it and compares its forward with the reference.
CaseReport run_case(const GradCase& c, uint64_t seed = 1);

}  // namespace attn
