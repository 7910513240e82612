#define BOOST_TEST_MODULE gradcheck_catches
#include "tests/common.hpp"

#include <set>

#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"

// The checker itself can fail: a wrong backward is caught, and an op without a case breaks
// the coverage rule.
using namespace attn;

// An op with a deliberately wrong backward must be caught: the checker can fail.
namespace {
const OpDef kBadSquare("bad_square_for_test");
template <class T>
Tensor<T> bad_square(const Tensor<T>& x, double factor) {
  Graph<T>& g = x.graph();
  Tensor<T> y = g.make(kBadSquare, x.shape(), {&x});
  for (int64_t i = 0; i < x.numel(); ++i) y.mutable_data()[i] = x.data()[i] * x.data()[i];
  const uint32_t ix = x.index();
  const int64_t n = x.numel();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    T* gx = g.grad_of(ix);
    for (int64_t i = 0; i < n; ++i) gx[i] += out.grad[i] * T(factor) * g.node(ix).value[i];
  });
  return y;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_wrong_gradient_fails) {
  std::vector<GradcheckInput> in = {{{2, 3}, {0.1, -0.2, 0.3, 0.4, -0.5, 0.6}, true}};
  auto good = gradcheck([](auto& x) { return bad_square(x[0], 2.0); }, in);
  BOOST_TEST(good[0].passed);
  BOOST_TEST(good[0].normwise_rel_err < 1e-8);
  // Off by one part in 10^5: far below PyTorch's default rtol of 1e-3, and still caught.
  auto bad = gradcheck([](auto& x) { return bad_square(x[0], 2.00002); }, in);
  BOOST_TEST(!bad[0].passed);
  BOOST_TEST(bad[0].max_abs_err > 1e-7);
}

BOOST_AUTO_TEST_CASE(an_op_without_a_case_is_detected) {
  std::set<std::string> with_case;
  for (const GradCase& c : autograd_cases()) with_case.insert(c.op);
  std::vector<const OpDef*> ops = autograd_ops();
  ops.push_back(&kBadSquare);  // as a new op file's entry in autograd/ops/registry.cpp would
  std::vector<std::string> missing;
  for (const OpDef* op : ops)
    if (op->differentiable && !with_case.count(op->name)) missing.push_back(op->name);
  BOOST_TEST(missing == std::vector<std::string>{"bad_square_for_test"}, boost::test_tools::per_element());
}
