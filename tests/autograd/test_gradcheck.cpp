#define BOOST_TEST_MODULE gradcheck
#include "tests/common.hpp"

#include <boost/test/data/test_case.hpp>
#include <set>

#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"
#include "models/gradcheck_cases.hpp"
#include "nn/gradcheck_cases.hpp"

using namespace attn;

namespace {

// Ops, modules and models: every case there is, listed explicitly.
const std::vector<GradCase>& every_case() {
  static const std::vector<GradCase> all = [] {
    std::vector<GradCase> v = autograd_cases(), nn = nn_cases(), models = model_cases();
    v.insert(v.end(), nn.begin(), nn.end());
    v.insert(v.end(), models.begin(), models.end());
    return v;
  }();
  return all;
}

// The ops on the tape after running case `c` once at the midpoints of its input ranges.
std::set<std::string> ops_on_tape(const GradCase& c) {
  Graph<double> g;
  std::vector<Tensor<double>> xs;
  for (const InputSpec& s : c.inputs) {
    std::vector<double> v = s.fixed;
    if (v.empty()) v.assign(s.shape.numel(), (s.lo + s.hi) / 2);
    xs.push_back(g.tensor(s.shape, v, s.requires_grad));
  }
  c.f64(xs);
  std::set<std::string> ops;
  for (uint32_t i = 0; i < g.num_nodes(); ++i) ops.insert(g.node(i).op ? g.node(i).op->name : "(none)");
  return ops;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_registered_case_passes) {
  BOOST_TEST_REQUIRE(every_case().size() > 50u);
  for (const GradCase& c : every_case()) {
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
  for (const GradCase& c : every_case()) {
    with_case.insert(c.op);
    if (c.reference) with_ref.insert(c.op);
  }
  for (const OpDef* op : autograd_ops()) {
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
  for (const GradCase& c : every_case()) names.insert(c.op + "/" + c.name);
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

// The op list is explicit, so an op could be left out of it and escape the rule above: every op
// that any case (op, module or model) puts on a tape must be listed, and listed once.
BOOST_AUTO_TEST_CASE(every_op_on_a_tape_is_listed) {
  std::set<std::string> listed;
  for (const OpDef* op : autograd_ops()) BOOST_TEST_CONTEXT(op->name) { BOOST_TEST(listed.insert(op->name).second); }
  for (const GradCase& c : every_case())
    for (const std::string& op : ops_on_tape(c))
      BOOST_TEST_CONTEXT(c.op << "/" << c.name << " uses " << op) { BOOST_TEST(listed.count(op) == 1u); }
}

// Module cases seed their generators from their own names: a case built alone draws the same
// parameters as when every other case was built before it (a shared generator would not).
BOOST_AUTO_TEST_CASE(module_cases_do_not_depend_on_build_order) {
  const std::vector<GradCase> all = nn_cases();
  BOOST_TEST_REQUIRE(all.size() > 3u);
  for (const GradCase* c : {&all.back(), &all[all.size() / 2]}) {
    const auto alone = nn_cases([&](const std::string& op, const std::string& name) {
      return op == c->op && name == c->name;
    });
    BOOST_TEST_REQUIRE(alone.size() == 1u);
    const auto a = c->externals(), b = alone[0].externals();
    BOOST_TEST_REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i)
      BOOST_TEST_CONTEXT(c->op << "/" << c->name << " " << a[i].name) {
        BOOST_TEST(a[i].name == b[i].name);
        BOOST_TEST(std::vector<double>(a[i].value, a[i].value + a[i].size) ==
                       std::vector<double>(b[i].value, b[i].value + b[i].size),
                   boost::test_tools::per_element());
      }
  }
}
