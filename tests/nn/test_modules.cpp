#define BOOST_TEST_MODULE nn_modules
#include "tests/common.hpp"

#include <cmath>

#include "nn/attention.hpp"
#include "nn/lstm.hpp"
#include "tests/float_bounds.hpp"

// nn modules checked against hand computations, outside the gradcheck registry. Tolerances
// are rounding bounds derived in place (float_bounds.hpp), never read off a machine.
using namespace attn;
using attn_test::gamma_n;
using attn_test::kF32Unit;

namespace {

template <class T>
void set(Parameter<T>& p, const std::vector<double>& v) {
  BOOST_TEST_REQUIRE(v.size() == p.value.size());
  p.value.assign(v.begin(), v.end());
}

std::vector<std::string> names_of(const NamedParameters<float>& ps) {
  std::vector<std::string> n;
  for (auto& [name, p] : ps) n.push_back(name);
  return n;
}

}  // namespace

// Small integers and halves: every product and sum is exact in float32.
BOOST_AUTO_TEST_CASE(linear_matches_a_hand_computation_exactly) {
  Rng rng(1);
  Linear<float> lin(3, 2, true, rng);
  set(lin.weight, {1, 2, 3, 4, 5, 6});
  set(*lin.bias, {0.5, -1});
  Graph<float> g;
  auto x = g.tensor({2, 3}, {1, 0, -1, 2, 1, 0});
  const auto y = lin.forward(g, x);
  BOOST_TEST((y.shape() == Shape{2, 2}));
  // [1 0 -1] . [1 2 3] + 0.5 = -1.5; . [4 5 6] - 1 = -3; [2 1 0] -> 4 + 0.5, 13 - 1.
  BOOST_TEST(y.values() == (std::vector<float>{-1.5f, -3.0f, 4.5f, 12.0f}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(linear_names_counts_and_init_bound) {
  Rng rng(2);
  Linear<float> with(5, 4, true, rng), without(5, 4, false, rng);
  BOOST_TEST(names_of(with.named_parameters()) == (std::vector<std::string>{"weight", "bias"}),
             boost::test_tools::per_element());
  BOOST_TEST(names_of(without.named_parameters()) == std::vector<std::string>{"weight"},
             boost::test_tools::per_element());
  BOOST_TEST(with.num_parameters() == 5 * 4 + 4);
  BOOST_TEST(without.num_parameters() == 5 * 4);
  const float bound = 1.0f / std::sqrt(5.0f);  // nn.Linear's U(-1/sqrt(in), 1/sqrt(in))
  for (float w : with.weight.value) BOOST_TEST(std::fabs(w) <= bound);
}

// Each row of layer_norm(x) (weight 1, bias 0) has mean 0 and variance var/(var+eps).
// Float32 two-pass: the mean m is off by e_m <= gamma_D * sum|x| / D + u|m|, which shifts every
// output by e_m*rstd, so |mean(y)| <= rstd*e_m + 2u*max|y| (subtraction, product). The sum of
// squares is off by gamma_D + 3u relative (positive terms, each squared with rounding), the
// division, eps, sqrt and reciprocal add 4u: rstd is within theta/2 + 4u, theta = gamma_D + 4u.
// Each y is then within rho = theta/2 + 6u relative, so var(y) within 2rho + rho^2.
BOOST_AUTO_TEST_CASE(layer_norm_rows_have_mean_0_and_variance_1) {
  const int64_t R = 8, D = 64;
  const double eps = 1e-5, u = kF32Unit;
  LayerNorm<float> ln(D, eps);
  Rng rng(3);
  std::vector<float> xv(R * D);
  for (int64_t r = 0; r < R; ++r)
    for (int64_t j = 0; j < D; ++j) xv[r * D + j] = float(3.0 + r + rng.uniform(-2.0, 2.0));  // offset rows
  Graph<float> g;
  const auto y = ln.forward(g, g.tensor({R, D}, xv)).values();
  for (int64_t r = 0; r < R; ++r) {
    double m = 0, sum_abs = 0, var = 0, my = 0, vy = 0, max_y = 0;
    for (int64_t j = 0; j < D; ++j) m += xv[r * D + j], sum_abs += std::fabs(xv[r * D + j]);
    m /= D;
    for (int64_t j = 0; j < D; ++j) var += (xv[r * D + j] - m) * (xv[r * D + j] - m) / D;
    for (int64_t j = 0; j < D; ++j) my += y[r * D + j] / D, max_y = std::max(max_y, std::fabs((double)y[r * D + j]));
    for (int64_t j = 0; j < D; ++j) vy += (y[r * D + j] - my) * (y[r * D + j] - my) / D;
    const double rstd = 1 / std::sqrt(var + eps), e_m = gamma_n(D) * sum_abs / D + u * std::fabs(m);
    const double theta = gamma_n(D) + 4 * u, rho = theta / 2 + 6 * u;
    BOOST_TEST_CONTEXT("row " << r) {
      BOOST_TEST(std::fabs(my) <= rstd * e_m + 2 * u * max_y);
      BOOST_TEST(std::fabs(vy / (var / (var + eps)) - 1) <= 2 * rho + rho * rho);
    }
  }
}

BOOST_AUTO_TEST_CASE(layer_norm_init_and_names) {
  LayerNorm<float> ln(6);
  BOOST_TEST(names_of(ln.named_parameters()) == (std::vector<std::string>{"weight", "bias"}),
             boost::test_tools::per_element());
  BOOST_TEST(ln.weight.value == std::vector<float>(6, 1.0f), boost::test_tools::per_element());
  BOOST_TEST(ln.bias.value == std::vector<float>(6, 0.0f), boost::test_tools::per_element());
}

// A lookup copies rows: exact, repeated ids included; an id out of range throws.
BOOST_AUTO_TEST_CASE(embedding_lookup_is_exact) {
  Rng rng(4);
  Embedding<float> emb(5, 3, rng);
  Graph<float> g;
  const auto y = emb.forward(g, {4, 0, 4, 2}, {2, 2});
  BOOST_TEST((y.shape() == Shape{2, 2, 3}));
  const std::vector<int> ids = {4, 0, 4, 2};
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 3; ++j) BOOST_TEST(y.data()[k * 3 + j] == emb.weight.value[ids[k] * 3 + j]);
  BOOST_CHECK_THROW(emb.forward(g, {5}, {1}), Error);
  BOOST_CHECK_THROW(emb.forward(g, {-1}, {1}), Error);
  BOOST_TEST(emb.num_parameters() == 15);
}

// Masked keys get weight exactly 0 (causal and padding); each row of visible weights sums to 1
// within gamma_Tk (a sum of Tk terms in [0, 1]) plus 2u for the exp and 1/sum scaling.
BOOST_AUTO_TEST_CASE(attention_masked_keys_get_zero_weight) {
  const int64_t B = 2, T = 4, D = 8;
  const int H = 2;
  Rng rng(5);
  MultiHeadAttention<float> mha(D, H, rng);
  mha.keep_weights = true;
  Graph<float> g;
  std::vector<float> xv(B * T * D);
  for (auto& v : xv) v = float(rng.uniform(-1, 1));
  auto x = g.tensor({B, T, D}, xv);
  const std::vector<uint8_t> pad = {0, 0, 0, 1, 0, 1, 1, 1};  // batch 0 drops key 3, batch 1 keeps key 0 only
  mha.forward(g, x, x, x, AttentionMask{true, pad});
  const auto w = mha.last_weights.values();
  BOOST_TEST_REQUIRE(w.size() == size_t(B * H * T * T));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < T; ++i) {
        double row = 0;
        for (int64_t j = 0; j < T; ++j) {
          const float p = w[((b * H + h) * T + i) * T + j];
          if (j > i || pad[b * T + j]) BOOST_TEST(p == 0.0f);
          else BOOST_TEST(p > 0.0f);
          row += p;
        }
        BOOST_TEST(std::fabs(row - 1) <= gamma_n(T) + 2 * kF32Unit);
      }
}

BOOST_AUTO_TEST_CASE(attention_parameter_names_and_counts) {
  Rng rng(6);
  MultiHeadAttention<float> mha(8, 2, rng);
  BOOST_TEST(names_of(mha.named_parameters()) ==
                 (std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"}),
             boost::test_tools::per_element());
  BOOST_TEST(mha.num_parameters() == 3 * 8 * 8 + 3 * 8 + 8 * 8 + 8);
}

// One LSTM step from a zero state, against the cell's equations evaluated in double:
// i, f, g, o = sigma, sigma, tanh, sigma of (W_ih x + b_ih + b_hh) (W_hh h0 vanishes); c = i g; h = o tanh(c).
// A float32 pre-activation of n = in + 2 terms is within gamma_n * S (S its sum of |terms|);
// sigma and tanh have slope <= 1 and add <= 2u each (vectorised or libm), the products u each,
// so c is within 2(e + 2u) + u and h within (e + 2u) + (c's error + 2u) + u, e = gamma_n * S.
BOOST_AUTO_TEST_CASE(lstm_single_step_matches_the_cell_equations) {
  const int64_t in = 3, H = 2;
  Rng rng(7);
  LSTM<float> lstm(in, H, 1, 0.0, rng, rng);
  const std::vector<double> x = {0.5, -1.0, 0.25};
  Graph<float> g;
  auto state = lstm.zero_state(g, 1);
  const auto out = lstm.forward(g, g.tensor({1, 1, in}, {0.5f, -1.0f, 0.25f}), state);
  BOOST_TEST((out.shape() == Shape{1, 1, H}));
  const auto ps = lstm.named_parameters();
  const auto &w = ps[0].second->value, &bi = ps[2].second->value, &bh = ps[3].second->value;
  auto pre = [&](int64_t row, double& S) {
    double a = bi[row] + bh[row];
    S = std::fabs(bi[row]) + std::fabs(bh[row]);
    for (int64_t k = 0; k < in; ++k) a += w[row * in + k] * x[k], S += std::fabs(w[row * in + k] * x[k]);
    return a;
  };
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  const double u = kF32Unit;
  for (int64_t j = 0; j < H; ++j) {
    double Si, Sg, So, Sf;
    const double i = sig(pre(j, Si)), f = sig(pre(H + j, Sf)), gg = std::tanh(pre(2 * H + j, Sg));
    const double o = sig(pre(3 * H + j, So)), c = i * gg + f * 0.0, h = o * std::tanh(c);
    const double e = gamma_n(in + 2) * std::max({Si, Sg, So});
    const double ec = 2 * (e + 2 * u) + u, eh = (e + 2 * u) + (ec + 2 * u) + u;
    BOOST_TEST_CONTEXT("unit " << j) {
      BOOST_TEST(std::fabs(state.c[0].data()[j] - c) <= ec);
      BOOST_TEST(std::fabs(state.h[0].data()[j] - h) <= eh);
      BOOST_TEST(out.data()[j] == state.h[0].data()[j]);
    }
  }
  BOOST_TEST(names_of(ps) == (std::vector<std::string>{"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}),
             boost::test_tools::per_element());
  BOOST_TEST(lstm.num_parameters() == 4 * H * in + 4 * H * H + 2 * 4 * H);
}

// p = 0 and eval mode return the input itself; training with p > 0 zeroes or scales by
// 1/(1-p) = 2 exactly, and keeps about half: 4096 draws, |kept - 2048| <= 6 sd (sd = 32).
BOOST_AUTO_TEST_CASE(dropout_identity_train_and_eval) {
  Rng rng(8);
  Graph<float> g;
  const int64_t n = 4096;
  std::vector<float> xv(n);
  for (int64_t i = 0; i < n; ++i) xv[i] = float(1 + i % 7);
  auto x = g.tensor({n}, xv);
  Dropout<float> none(0.0, rng), half(0.5, rng);
  BOOST_TEST(none.forward(x).index() == x.index());
  half.eval();
  BOOST_TEST(half.is_identity());
  BOOST_TEST(half.forward(x).index() == x.index());
  half.train();
  BOOST_TEST(!half.is_identity());
  const auto y = half.forward(x).values();
  int64_t kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    BOOST_TEST((y[i] == 0.0f || y[i] == 2.0f * xv[i]));
    kept += y[i] != 0.0f;
  }
  BOOST_TEST(std::abs(kept - n / 2) <= 6 * 32);
}

// train()/eval() reach children: the LSTM's inner dropout follows it.
BOOST_AUTO_TEST_CASE(modes_reach_submodules) {
  Rng rng(9);
  LSTM<float> lstm(2, 4, 2, 0.5, rng, rng);
  Graph<float> g;
  auto x = g.full({2, 8, 2}, 0.5f);
  lstm.eval();
  auto s1 = lstm.zero_state(g, 2), s2 = lstm.zero_state(g, 2);
  // In eval mode the dropout between layers is off: two runs agree exactly.
  BOOST_TEST(lstm.forward(g, x, s1).values() == lstm.forward(g, x, s2).values(), boost::test_tools::per_element());
  BOOST_TEST(!lstm.training());
  // In training mode it is on, and two runs draw different masks over the 64 outputs of layer 0
  // (equal with probability 2^-64), so the check above can fail.
  lstm.train();
  auto s3 = lstm.zero_state(g, 2), s4 = lstm.zero_state(g, 2);
  const bool differ = lstm.forward(g, x, s3).values() != lstm.forward(g, x, s4).values();  // any element
  BOOST_TEST(differ);
}
