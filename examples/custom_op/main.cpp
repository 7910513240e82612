// A user-defined op, hypot_op(a, b) = sqrt(a^2 + b^2) elementwise, with its forward and backward
// written here against attnlab's graph API, checked by attnlab's gradcheck in float64 (and its
// forward against a plain reference in float32 and float64). The same op with a wrong backward
// must fail the same check (docs/library.md).
#include <fmt/core.h>

#include <cmath>

#include "autograd/gradcheck.hpp"

using namespace attn;

const OpDef kHypot("hypot");  // names the op's nodes (and anomaly messages)

template <class T>
Tensor<T> hypot_op(const Tensor<T>& a, const Tensor<T>& b, bool wrong_backward = false) {
  if (a.shape() != b.shape()) throw Error("hypot: shapes " + a.shape().str() + " and " + b.shape().str() + " differ");
  Graph<T>& g = a.graph();
  Tensor<T> y = g.make(kHypot, a.shape(), {&a, &b});
  const int64_t n = a.numel();
  for (int64_t i = 0; i < n; ++i) y.mutable_data()[i] = std::hypot(a.data()[i], b.data()[i]);
  // Backward adds dy * x / y to each input x's gradient. It captures indices, not nodes: the
  // tape may move. grad_of is nullptr for an input that needs no gradient.
  const uint32_t ia = a.index(), ib = b.index();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    for (const uint32_t in : {ia, ib}) {
      T* gx = g.grad_of(in);
      if (!gx) continue;
      const T* x = g.node(in).value;
      for (int64_t i = 0; i < n; ++i) gx[i] += out.grad[i] * x[i] / (wrong_backward ? T(1) : out.value[i]);
    }
  });
  return y;
}

int main() {
  // Inputs uniform in [-2, 2), kept 0.1 away from 0 (hypot's kink is at a = b = 0).
  const std::vector<InputSpec> inputs = {{Shape{3, 5}, -2, 2, 0.1}, {Shape{3, 5}, -2, 2, 0.1}};
  const Reference reference = [](const std::vector<std::vector<double>>& x) {
    std::vector<double> y;
    for (size_t i = 0; i < x[0].size(); ++i) y.push_back(std::sqrt(x[0][i] * x[0][i] + x[1][i] * x[1][i]));
    return y;
  };
  bool as_expected = true;
  for (const bool wrong : {false, true}) {
    const GradCase c = make_case("hypot", wrong ? "wrong backward" : "[3, 5]", inputs,
                                 [wrong](auto& x) { return hypot_op(x[0], x[1], wrong); }, reference);
    const CaseReport r = run_case(c);
    fmt::print("{} {}: max abs error {:.1e}, norm-wise {:.1e}, forward f32 {:.1e}: {}\n", r.op, r.name,
               r.max_abs_err(), r.normwise_rel_err(), r.forward_err_f32, r.passed ? "passed" : "failed");
    as_expected = as_expected && r.passed != wrong;
  }
  return as_expected ? 0 : 1;
}
