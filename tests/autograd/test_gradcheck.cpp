#define BOOST_TEST_MODULE gradcheck
#include "tests/common.hpp"

#include <boost/test/data/test_case.hpp>
#include <set>

#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"

using namespace attn;

BOOST_AUTO_TEST_CASE(every_registered_case_passes) {
  BOOST_TEST_REQUIRE(case_registry().size() > 50u);
  for (const GradCase& c : case_registry()) {
    const CaseReport r = run_case(c);
    BOOST_TEST_CONTEXT(c.op << "/" << c.name << " max_abs=" << r.max_abs_err() << " normwise="
                            << r.normwise_rel_err() << " fwd64=" << r.forward_err_f64
                            << " fwd32=" << r.forward_err_f32 << " " << r.error) {
      BOOST_TEST(r.error.empty());
      BOOST_TEST(r.passed);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_op_has_a_case_and_a_reference) {
  std::set<std::string> with_case, with_ref;
  for (const GradCase& c : case_registry()) {
    with_case.insert(c.op);
    if (c.reference) with_ref.insert(c.op);
  }
  for (const OpDef* op : op_registry()) {
    if (!op->differentiable && std::string(op->name) != "attention_weights") continue;
    BOOST_TEST_CONTEXT(op->name) {
      BOOST_TEST(with_case.count(op->name) == 1u);
      BOOST_TEST(with_ref.count(op->name) == 1u);
    }
  }
}

// The special inputs the issue asks every op family to meet.
BOOST_AUTO_TEST_CASE(cases_cover_the_hard_inputs) {
  std::set<std::string> names;
  for (const GradCase& c : case_registry()) names.insert(c.op + "/" + c.name);
  for (const char* must : {"add/broadcast_both", "mul/size1_dims", "add/batch1", "mul/reused_input",
                           "softmax/neg_inf_mask", "softmax/fully_masked_row", "attention/fully_masked_rows",
                           "attention/causal", "attention/key_padding", "masked_fill/neg_inf_fully_masked_row",
                           "cross_entropy/ignore_and_smoothing", "dropout/p0.3_reseeded", "matmul/batch_broadcast"})
    BOOST_TEST_CONTEXT(must) { BOOST_TEST(names.count(must) == 1u); }
}

BOOST_AUTO_TEST_CASE(zero_true_gradient_uses_absolute_tolerance) {
  // sum(softmax(x)) is 1 for every x: the true gradient is zero everywhere.
  std::vector<GradcheckInput> in = {{{1, 4}, {0.3, -0.1, 0.7, 0.2}, true}};
  auto r = gradcheck([](auto& x) { return sum(softmax(x[0])); }, in);
  BOOST_TEST(r[0].passed);
  BOOST_TEST(r[0].max_abs_err < 1e-9);
}
