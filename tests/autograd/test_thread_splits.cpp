#define BOOST_TEST_MODULE thread_splits
#include "tests/common.hpp"

#include <omp.h>

#include <cmath>
#include <tuple>

#include "autograd/ops.hpp"
#include "tests/autograd/leaves.hpp"
#include "tests/float_bounds.hpp"

// Ops that split their work over the OpenMP team give the results of one thread: bit for bit, or
// within the rounding bound of a changed summation order.

using namespace attn;
using attn_test::uniform_leaf;

// linear splits rows (and, in backward, the weight's wider dimension) over the team above
// kGemmSplitMin multiply-adds. At 1 and 2 threads, above that size (and one case below) with odd
// blocks, values
// and gradients match naive double loops within 2 gamma_n sum|terms| (tests/float_bounds.hpp,
// u = 2^-53). The loss is sum(y * c) with a constant c, so the upstream gradient is c exactly.
BOOST_AUTO_TEST_CASE(split_linear_matches_naive_loops_at_one_and_two_threads) {
  const double u = std::ldexp(1.0, -53);
  const int before = omp_get_max_threads();
  for (int threads : {1, 2})
    for (auto shape : {std::tuple{72, 48, true}, {48, 72, false}, {64, 64, false}, {8, 6, true}}) {
      // Plain locals, not structured bindings: clang 14 cannot capture those in a lambda.
      const int in = std::get<0>(shape), out_f = std::get<1>(shape);
      const bool relu = std::get<2>(shape);
      set_num_threads(threads);
      const int64_t rows = 333;
      Graph<double> g;
      Rng rng(17);
      auto leaf = [&](Shape s, bool rg) { return uniform_leaf(g, rng, s, 1.0, rg); };
      auto x = leaf({rows, in}, true), w = leaf({out_f, in}, true), b = leaf({out_f}, true), c = leaf({rows, out_f}, false);
      auto res = leaf({rows, out_f}, true);
      auto y = relu ? linear_relu(x, w, b) : linear_add(x, w, b, res);
      g.backward(sum(y * c));
      const auto X = x.values(), W = w.values(), Bv = b.values(), C = c.values(), R = res.values(), Y = y.values();
      std::vector<double> go(rows * out_f), gx(rows * in, 0), gw(out_f * in, 0), gb(out_f, 0);
      std::vector<double> mx(rows * in, 0), mw(out_f * in, 0), mb(out_f, 0);  // sum|terms|
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < out_f; ++j) {
          double acc = Bv[j], mag = std::abs(Bv[j]);
          for (int64_t k = 0; k < in; ++k) {
            acc += X[r * in + k] * W[j * in + k];
            mag += std::abs(X[r * in + k] * W[j * in + k]);
          }
          if (!relu) acc += R[r * out_f + j], mag += std::abs(R[r * out_f + j]);
          const double tol = 2 * attn_test::gamma_n(in + 2, u) * mag;
          if (relu) BOOST_TEST_REQUIRE(std::abs(acc) > 2 * tol);  // no sign the rounding could flip
          const double want = relu ? std::max(acc, 0.0) : acc;
          BOOST_TEST(std::abs(Y[r * out_f + j] - want) <= tol);
          go[r * out_f + j] = relu && acc <= 0 ? 0 : C[r * out_f + j];
        }
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < out_f; ++j) {
          const double d = go[r * out_f + j];
          gb[j] += d, mb[j] += std::abs(d);
          for (int64_t k = 0; k < in; ++k) {
            gx[r * in + k] += d * W[j * in + k], mx[r * in + k] += std::abs(d * W[j * in + k]);
            gw[j * in + k] += d * X[r * in + k], mw[j * in + k] += std::abs(d * X[r * in + k]);
          }
        }
      auto check = [&](const std::vector<double>& got, const std::vector<double>& want, const std::vector<double>& mag,
                       int64_t n, const char* what) {
        for (size_t i = 0; i < got.size(); ++i)
          BOOST_TEST(std::abs(got[i] - want[i]) <= 2 * attn_test::gamma_n(n, u) * mag[i],
                     what << "[" << i << "] " << got[i] << " vs " << want[i] << " at " << threads << " threads, in " << in << " out " << out_f);
      };
      check(x.grad_values(), gx, mx, out_f, "dx");
      check(w.grad_values(), gw, mw, rows, "dw");
      check(b.grad_values(), gb, mb, rows, "db");
      if (!relu) BOOST_TEST(res.grad_values() == C, boost::test_tools::per_element());  // c, passed on
    }
  set_num_threads(before);
}

// linear where the weight is the input (x x^T) and where the residual is the input, above
// kGemmSplitMin: 2 threads against 1 in double, within 2 gamma_n n (every term at most 1 in size,
// n terms per gradient element), twice on one graph, so that the second pass takes arena memory
// the first left dirty: a gradient buffer not wholly overwritten would show there.
BOOST_AUTO_TEST_CASE(split_linear_with_aliased_operands_matches_one_thread) {
  const int before = omp_get_max_threads();
  auto run = [](int threads) {
    set_num_threads(threads);
    Graph<double> g;
    std::vector<std::vector<double>> r;
    for (int pass = 0; pass < 2; ++pass) {
      g.reset();
      Rng rng(23);
      auto leaf = [&](Shape s, bool rg) { return uniform_leaf(g, rng, s, 1.0, rg); };
      auto x = leaf({200, 800}, true), b = leaf({200}, true), c = leaf({200, 200}, false);
      auto h = leaf({333, 64}, true), w = leaf({64, 64}, true), c2 = leaf({333, 64}, false);
      auto y = linear(x, x, b);           // out 200 < in 800: dW split over columns
      auto z = linear_add(h, w, Tensor<double>(), h);  // the residual is the input
      g.backward(sum(y * c) + sum(z * c2));
      r = {y.values(), z.values(), x.grad_values(), b.grad_values(), h.grad_values(), w.grad_values()};
    }
    return r;
  };
  const auto one = run(1), two = run(2);
  set_num_threads(before);
  const double u = std::ldexp(1.0, -53);
  const int64_t terms[] = {801, 65, 400, 200, 65, 333};  // per element of each result
  for (size_t t = 0; t < one.size(); ++t)
    for (size_t i = 0; i < one[t].size(); ++i)
      BOOST_TEST(std::abs(one[t][i] - two[t][i]) <= 2 * attn_test::gamma_n(terms[t], u) * terms[t], "result " << t << "[" << i << "]");
}

// GELU's float32 vector loops (and their scalar tail) against the float64 formula, forward and
// gradient, over [-6, 6]: erf and exp within a few ulp, so 16u relative to 1 + |value|, the
// bound gradcheck uses for float32 forwards (autograd/gradcheck.cpp).
BOOST_AUTO_TEST_CASE(float_gelu_matches_the_float64_formula) {
  const int64_t n = 1001;
  Graph<float> g;
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = float(-6.0 + 12.0 * double(i) / double(n - 1));
  auto x = g.tensor({n}, v, true);
  auto y = gelu(x);
  g.backward(sum(y));
  const double u = 1.0 / (1 << 24);
  for (int64_t i = 0; i < n; ++i) {
    const double t = v[i], phi = 0.5 * (1 + std::erf(t / std::sqrt(2.0)));
    const double want_y = t * phi, want_d = phi + t * std::exp(-0.5 * t * t) / std::sqrt(2 * M_PI);
    BOOST_TEST(std::abs(y.values()[i] - want_y) <= 16 * u * (1 + std::abs(want_y)), "gelu(" << t << ")");
    BOOST_TEST(std::abs(x.grad_values()[i] - want_d) <= 16 * u * (1 + std::abs(want_d)), "gelu'(" << t << ")");
  }
}

// Above kParallelMin elements, gelu splits its elements over the team (the same bits as one
// thread, in float64 and float32), and layer_norm's backward its rows, with per-thread partial sums for dgamma and
// dbeta: two threads agree with one within 2 gamma_rows sum|terms| (u = 2^-53) there, and
// exactly elsewhere.
BOOST_AUTO_TEST_CASE(gelu_and_layer_norm_split_over_threads_as_on_one) {
  const int before = omp_get_max_threads();
  const int64_t rows = 700, D = 64;  // 44,800 elements
  auto run = [&](int threads) {
    set_num_threads(threads);
    Graph<double> g;
    Rng rng(3);
    auto leaf = [&](Shape s) { return uniform_leaf(g, rng, s, 2.0); };
    auto x = leaf({rows, D}), gamma = leaf({D}), beta = leaf({D}), c = leaf({rows, D});
    auto y = gelu(layer_norm(x, gamma, beta, 1e-5));
    g.backward(sum(y * c));
    return std::vector<std::vector<double>>{y.values(), x.grad_values(), gamma.grad_values(), beta.grad_values(),
                                            c.grad_values()};
  };
  const auto one = run(1), two = run(2);
  // float gelu: vector loops whose tails share the vector code, so the split changes no bit.
  auto run_f32 = [&](int threads) {
    set_num_threads(threads);
    Graph<float> g;
    Rng rng(4);
    auto x = uniform_leaf(g, rng, {40001}, 5.0);
    auto y = gelu(x);
    g.backward(sum(y));
    return std::pair{y.values(), x.grad_values()};
  };
  const auto f1 = run_f32(1), f2 = run_f32(2);
  BOOST_TEST(f1.first == f2.first, boost::test_tools::per_element());
  BOOST_TEST(f1.second == f2.second, boost::test_tools::per_element());
  set_num_threads(before);
  BOOST_TEST(one[0] == two[0], boost::test_tools::per_element());
  BOOST_TEST(one[1] == two[1], boost::test_tools::per_element());
  BOOST_TEST(one[4] == two[4], boost::test_tools::per_element());
  // |terms| of dgamma: |dy| |xhat| <= |c| |gelu'| |xhat| <= 2 * 1.13 * sqrt(D); of dbeta: 2 * 1.13.
  const double u = std::ldexp(1.0, -53), gam = 2 * attn_test::gamma_n(rows, u);
  for (int64_t j = 0; j < D; ++j) {
    BOOST_TEST(std::abs(one[2][j] - two[2][j]) <= gam * rows * 2.26 * std::sqrt(double(D)));
    BOOST_TEST(std::abs(one[3][j] - two[3][j]) <= gam * rows * 2.26);
  }
}
