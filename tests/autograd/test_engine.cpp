#define BOOST_TEST_MODULE engine
#include "tests/common.hpp"

#include <omp.h>

#include <cmath>

#include "autograd/ops.hpp"
#include "tests/autograd/leaves.hpp"

using namespace attn;

using attn_test::uniform_leaf;

BOOST_AUTO_TEST_CASE(broadcast_add_values_and_gradients) {
  Graph<double> g;
  auto a = g.tensor({2, 3}, {1, 2, 3, 4, 5, 6}, true);
  auto b = g.tensor({3}, {10, 20, 30}, true);
  auto y = a + b;
  BOOST_TEST(y.shape().str() == "[2, 3]");
  BOOST_TEST(y.values() == std::vector<double>({11, 22, 33, 14, 25, 36}), boost::test_tools::per_element());
  g.backward(sum(y));
  BOOST_TEST(a.grad_values() == std::vector<double>(6, 1.0), boost::test_tools::per_element());
  BOOST_TEST(b.grad_values() == std::vector<double>(3, 2.0), boost::test_tools::per_element());  // summed back
}

BOOST_AUTO_TEST_CASE(reused_value_accumulates) {
  Graph<float> g;
  auto x = g.tensor({1}, {3.0f}, true);
  auto y = x * x + x;  // dy/dx = 2x + 1 = 7
  g.backward(y);
  BOOST_TEST(x.grad()[0] == 7.0f);
}

BOOST_AUTO_TEST_CASE(backward_with_explicit_upstream) {
  Graph<double> g;
  auto x = g.tensor({3}, {1, 2, 3}, true);
  auto y = x * 2.0;
  const double up[3] = {1, 10, 100};
  g.backward(y, up);
  BOOST_TEST(x.grad_values() == std::vector<double>({2, 20, 200}), boost::test_tools::per_element());
  BOOST_CHECK_THROW(g.backward(y, up), Error);  // released after backward
}

BOOST_AUTO_TEST_CASE(non_scalar_root_needs_upstream) {
  Graph<double> g;
  auto x = g.tensor({2}, {1, 2}, true);
  BOOST_CHECK_THROW(g.backward(x * 2.0), Error);
}

BOOST_AUTO_TEST_CASE(million_op_chain_runs_backward_without_recursion) {
  Graph<double> g;
  auto x = g.tensor({1}, {1.0}, true);
  auto y = x;
  const int n = 1000000;
  for (int i = 0; i < n; ++i) y = y * 1.000001;
  BOOST_TEST(g.num_nodes() == size_t(n + 1));
  g.backward(y);
  BOOST_TEST(x.grad()[0] == std::pow(1.000001, n), boost::test_tools::tolerance(1e-9));
  g.reset();
  BOOST_TEST(g.num_nodes() == 0u);
}

BOOST_AUTO_TEST_CASE(repeated_steps_do_not_grow_memory) {
  Graph<float> g;
  std::vector<float> w(4 * 4, 0.1f), gw(16, 0.0f);
  size_t allocations = 0, capacity = 0;
  for (int step = 0; step < 1000; ++step) {
    g.reset();
    auto W = g.external({4, 4}, w.data(), gw.data());
    auto x = g.tensor({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
    auto loss = cross_entropy(tanh(matmul(x, W)), {1, 3});
    g.backward(loss);
    if (step == 1) {
      allocations = g.arena().heap_allocations();
      capacity = g.arena().capacity();
    }
  }
  BOOST_TEST(allocations > 0u);
  BOOST_TEST(g.arena().heap_allocations() == allocations);
  BOOST_TEST(g.arena().capacity() == capacity);
}

BOOST_AUTO_TEST_CASE(external_leaf_accumulates_into_its_buffer) {
  std::vector<double> w = {1, 2}, gw = {0.5, 0.5};
  Graph<double> g;
  auto W = g.external({2}, w.data(), gw.data());
  g.backward(sum(W * W));
  BOOST_TEST(gw == std::vector<double>({2.5, 4.5}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(no_grad_scope_and_detach) {
  Graph<double> g;
  auto x = g.tensor({2}, {1, 2}, true);
  {
    NoGrad ng(g);
    auto y = x * 3.0;
    BOOST_TEST(!y.requires_grad());
  }
  BOOST_TEST(g.grad_enabled());
  auto z = x * detach(x);  // gradient only through the first factor
  BOOST_TEST(z.requires_grad());
  g.backward(sum(z));
  BOOST_TEST(x.grad_values() == std::vector<double>({1, 2}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(shape_errors_name_the_op_and_shapes) {
  Graph<float> g;
  auto a = g.zeros({2, 3}), b = g.zeros({4, 5});
  try {
    matmul(a, b);
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    const std::string m = e.what();
    BOOST_TEST(m.find("matmul") != std::string::npos);
    BOOST_TEST(m.find("[2, 3]") != std::string::npos);
    BOOST_TEST(m.find("[4, 5]") != std::string::npos);
  }
  try {
    add(a, g.zeros({4}));
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("add: shapes [2, 3] and [4]") != std::string::npos);
  }
  BOOST_CHECK_THROW(embedding(g.zeros({3, 2}), {0, 3}, {2}), Error);
  BOOST_CHECK_THROW(cross_entropy(g.zeros({2, 3}), {0, 5}), Error);
  BOOST_CHECK_THROW(slice(a, 1, 2, 4), Error);
  BOOST_CHECK_THROW(reshape(a, {4, 2}), Error);
  BOOST_CHECK_THROW(attention(g.zeros({1, 2, 6}), g.zeros({1, 3, 6}), g.zeros({1, 3, 6}), 4), Error);
}

BOOST_AUTO_TEST_CASE(stale_and_foreign_tensors_are_rejected) {
  Graph<float> g, other;
  auto x = g.zeros({2});
  auto y = other.zeros({2});
  BOOST_CHECK_THROW(add(x, y), Error);
  g.reset();
  BOOST_CHECK_THROW(x.values(), Error);
}

BOOST_AUTO_TEST_CASE(anomaly_mode_names_the_op) {
  Graph<double> g;
  g.set_detect_anomaly(true);
  auto x = g.tensor({2}, {1.0, -1.0}, true);
  try {
    auto y = log(x);
    (void)(y * 2.0);  // the check of log's output runs when the next op is recorded
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("'log'") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(dropout_is_seeded_and_scaled) {
  Graph<float> g;
  auto x = g.full({1000}, 1.0f);
  Rng r1(3), r2(3);
  auto a = dropout(x, 0.25, r1), b = dropout(x, 0.25, r2);
  BOOST_TEST(a.values() == b.values(), boost::test_tools::per_element());
  int zeros = 0;
  for (float v : a.values()) {
    BOOST_TEST((v == 0.0f || std::fabs(v - 1.0f / 0.75f) < 1e-6));
    zeros += v == 0.0f;
  }
  BOOST_TEST(zeros > 180);
  BOOST_TEST(zeros < 320);
  BOOST_TEST(dropout(x, 0.5, r1, false).index() == x.index());  // identity in eval mode
}

BOOST_AUTO_TEST_CASE(fully_masked_attention_row_is_zero_not_nan) {
  Graph<float> g;
  auto q = g.full({1, 2, 4}, 0.5f, true), k = g.full({1, 3, 4}, 0.5f, true), v = g.full({1, 3, 4}, 2.0f, true);
  auto r = attention(q, k, v, 2, AttentionMask{false, {1, 1, 1}}, true);
  for (float o : r.out.values()) BOOST_TEST(o == 0.0f);
  g.backward(sum(r.out));
  for (float d : q.grad_values()) BOOST_TEST(d == 0.0f);
  for (float w : r.weights.values()) BOOST_TEST(w == 0.0f);
}

// One clear error for each bad argument of the position-encoding ops, naming the problem.
BOOST_AUTO_TEST_CASE(position_encoding_errors_name_the_problem) {
  Graph<float> g;
  auto says = [](auto f, const char* what) {
    try {
      f();
      BOOST_ERROR("no error for " << what);
    } catch (const Error& e) {
      BOOST_TEST_CONTEXT(e.what()) { BOOST_TEST(std::string(e.what()).find(what) != std::string::npos); }
    }
  };
  auto x = g.zeros({1, 2, 6});
  says([&] { rotary(x, 2, 10000, 0); }, "[1, 2, 6] with 2 heads");  // Dh = 3 is odd
  says([&] { rotary(g.zeros({2, 6}), 1, 10000, 0); }, "[2, 6]");
  says([&] { rotary(x, 1, 0.0, 0); }, "base 0");
  says([&] { rotary(x, 1, 10000, -1); }, "first_pos -1");
  AttentionMask m;
  m.alibi_slopes = {0.5};
  says([&] { attention(x, x, x, 2, m); }, "1 ALiBi slopes for 2 heads");
  AttentionMask back;
  back.causal = true;
  back.query_offset = -1;
  says([&] { attention(x, x, x, 2, back); }, "query_offset -1");
  says([&] { alibi_slopes(0); }, "0 heads");
}

// RoPE's point: after rotating q at position m and k at position n, q.k depends on m - n only.
BOOST_AUTO_TEST_CASE(rotary_dot_products_depend_only_on_relative_position) {
  Graph<double> g;
  Rng rng(4);
  const int64_t T = 6, D = 16;  // 2 heads of 8
  std::vector<double> qv(D), kv(D);
  for (double& e : qv) e = rng.uniform() * 2 - 1;
  for (double& e : kv) e = rng.uniform() * 2 - 1;
  std::vector<double> qs, ks;  // the same q and the same k at every position
  for (int64_t t = 0; t < T; ++t) {
    qs.insert(qs.end(), qv.begin(), qv.end());
    ks.insert(ks.end(), kv.begin(), kv.end());
  }
  auto q = g.tensor({1, T, D}, qs), k = g.tensor({1, T, D}, ks);
  // scores[h][m][n] of q at position first + m and k at position first + n.
  auto scores = [&](int64_t first) {
    const std::vector<double> a = rotary(q, 2, 100.0, first).values(), b = rotary(k, 2, 100.0, first).values();
    std::vector<double> s(2 * T * T, 0.0);
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t m = 0; m < T; ++m)
        for (int64_t n = 0; n < T; ++n)
          for (int64_t i = 0; i < 8; ++i) s[(h * T + m) * T + n] += a[m * D + h * 8 + i] * b[n * D + h * 8 + i];
    return s;
  };
  const std::vector<double> s0 = scores(0);
  for (int64_t first : {1, 5, 37}) {
    const std::vector<double> s = scores(first);
    for (size_t e = 0; e < s.size(); ++e) BOOST_TEST(std::fabs(s[e] - s0[e]) <= 1e-12);
  }
  for (int64_t h = 0; h < 2; ++h)  // along each diagonal m - n = const
    for (int64_t m = 1; m < T; ++m)
      for (int64_t n = 1; n < T; ++n)
        BOOST_TEST(std::fabs(s0[(h * T + m) * T + n] - s0[(h * T + m - 1) * T + n - 1]) <= 1e-12);
  // And it is a rotation: the norm of each head's vector is kept.
  const std::vector<double> r = rotary(q, 2, 100.0, 3).values();
  double n0 = 0, n1 = 0;
  for (int64_t i = 0; i < D; ++i) {
    n0 += qs[i] * qs[i];
    n1 += r[i] * r[i];
  }
  BOOST_TEST(std::fabs(n0 - n1) <= 1e-12);
}

// get_slopes of ofirpress/attention_with_linear_biases, evaluated by hand: for n a power of two,
// start = 2^(-8/n) and the slopes are start^1..start^n; otherwise the slopes of the power of two
// p below n, then slopes(2p)[0::2][:n - p].
BOOST_AUTO_TEST_CASE(alibi_slopes_match_the_reference_definition) {
  const double r2 = std::sqrt(2.0);
  const std::vector<std::pair<int, std::vector<double>>> want = {
      {1, {1.0 / 256}},
      {2, {1.0 / 16, 1.0 / 256}},
      {4, {1.0 / 4, 1.0 / 16, 1.0 / 64, 1.0 / 256}},
      {8, {1.0 / 2, 1.0 / 4, 1.0 / 8, 1.0 / 16, 1.0 / 32, 1.0 / 64, 1.0 / 128, 1.0 / 256}},
      // p = 4, then slopes(8) = 2^-1, 2^-2, ... at indices 0 and 2.
      {6, {1.0 / 4, 1.0 / 16, 1.0 / 64, 1.0 / 256, 1.0 / 2, 1.0 / 8}},
      // p = 8, then slopes(16) = 2^-0.5, 2^-1, ... at indices 0, 2, 4, 6: 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5.
      {12, {1.0 / 2, 1.0 / 4, 1.0 / 8, 1.0 / 16, 1.0 / 32, 1.0 / 64, 1.0 / 128, 1.0 / 256, 1 / r2, 1 / (2 * r2),
            1 / (4 * r2), 1 / (8 * r2)}},
  };
  for (const auto& nw : want) {
    const std::vector<double> got = alibi_slopes(nw.first);
    BOOST_TEST_CONTEXT("heads " << nw.first) {
      BOOST_TEST_REQUIRE(got.size() == nw.second.size());
      for (size_t i = 0; i < got.size(); ++i) BOOST_TEST(std::fabs(got[i] - nw.second[i]) <= 1e-15 * nw.second[i]);
    }
  }
}

// One cached decoding step (Tq = 1 at position Tk - 1, causal) equals the last row of the full
// causal pass over Tk queries, with ALiBi on.
BOOST_AUTO_TEST_CASE(attention_query_offset_matches_the_full_pass) {
  Graph<double> g;
  Rng rng(11);
  const int64_t Tk = 5, D = 8, H = 2;
  auto rand = [&](Shape s) { return uniform_leaf(g, rng, s, 1.0, false); };
  auto q = rand({1, Tk, D}), k = rand({1, Tk, D}), v = rand({1, Tk, D});
  AttentionMask full;
  full.causal = true;
  full.alibi_slopes = alibi_slopes(2);
  const std::vector<double> all = attention(q, k, v, (int)H, full).out.values();
  for (int64_t t = 0; t < Tk; ++t) {
    AttentionMask step = full;
    step.query_offset = t;
    const std::vector<double> one = attention(slice(q, 1, t, t + 1), k, v, (int)H, step).out.values();
    for (int64_t c = 0; c < D; ++c) BOOST_TEST(std::fabs(one[c] - all[t * D + c]) <= 1e-14);
  }
}

// Without causal, ALiBi penalises keys on either side by their distance: with zero scores, query
// i weighs keys i - d and i + d alike, and the weights fall off as exp(-m d).
BOOST_AUTO_TEST_CASE(alibi_without_causal_is_symmetric_in_distance) {
  Graph<double> g;
  const int64_t T = 5;
  auto zero = g.tensor({1, T, 2}, std::vector<double>(T * 2, 0.0));
  AttentionMask m;
  m.alibi_slopes = {0.5};
  const std::vector<double> w = attention(zero, zero, zero, 1, m, true).weights.values();
  for (int64_t i = 0; i < T; ++i)
    for (int64_t d = 1; i - d >= 0 && i + d < T; ++d) BOOST_TEST(std::fabs(w[i * T + i - d] - w[i * T + i + d]) <= 1e-15);
  BOOST_TEST(std::fabs(w[2 * T + 1] / w[2 * T + 2] - std::exp(-0.5)) <= 1e-14);
}

// Regression: ops once kept references to their input's shape across appending their output
// node; when the tape's vector grew, those dangled (an LSTM over 500 steps crashed). Each op
// here runs after the tape has passed many reallocations.
BOOST_AUTO_TEST_CASE(ops_stay_valid_while_the_tape_grows) {
  Graph<double> g;
  auto x = g.tensor({2, 3, 4}, std::vector<double>(24, 0.5), true);
  auto w = g.tensor({4, 4}, std::vector<double>(16, 0.1), true);
  auto y = x;
  for (int i = 0; i < 3000; ++i) {
    y = slice(concat(std::vector{y, x}, 1), 1, 3, 6);
    y = permute(permute(y, {1, 0, 2}), {1, 0, 2});
    y = matmul(y, w) + linear(y, w, Tensor<double>());
    y = attention(y, y, y, 2).out * 0.5;
  }
  BOOST_TEST(g.num_nodes() > 20000u);
  g.backward(sum(y));
  BOOST_TEST(std::isfinite(x.grad()[0]));
}

// A shape held by reference while the tape grows by thousands of nodes. When shape() returned
// a reference into the tape's std::vector, `s` pointed into the buffer freed by the first
// reallocation: ASan reports heap-use-after-free at the reads below, and without ASan the
// scribbled blocks (same sizes as the freed buffers, so malloc hands them back) overwrite it.
// Now shape() returns a copy and `s` binds to it (lifetime extension), so it stays [2, 3, 4].
BOOST_AUTO_TEST_CASE(a_held_shape_reference_survives_the_tape_growing) {
  Graph<float> g;
  auto x = g.full({2, 3, 4}, 1.0f, true);
  const Shape& s = x.shape();
  auto y = x;
  for (int i = 0; i < 5000; ++i) y = y * 0.5;
  BOOST_TEST_REQUIRE(g.num_nodes() > 4096u);  // past several reallocations (reserve is 1024)
  std::vector<std::vector<unsigned char>> scribble;
  for (size_t n = 1024; n <= 8192; n *= 2) scribble.emplace_back(n * sizeof(Node<float>), 0xAB);
  BOOST_TEST(s.ndim() == 3);
  BOOST_TEST((s == Shape{2, 3, 4}));
  BOOST_TEST(s.numel() == 24);
}

// A non-leaf's gradient goes back to a pool once its own backward has run, so a long chain
// needs a couple of gradient buffers, not one per node; leaves and retained tensors keep theirs.
BOOST_AUTO_TEST_CASE(non_leaf_gradients_are_recycled) {
  Graph<float> g;
  const int64_t n = 1000;
  auto x = g.full({n}, 0.5f, true);
  auto y = x;
  Tensor<float> kept, dropped;
  for (int i = 0; i < 100; ++i) {
    y = tanh(y) * 1.5;
    if (i == 50) kept = y;
    if (i == 60) dropped = y;
  }
  kept.retain_grad();
  g.backward(sum(y));
  const size_t one = n * sizeof(float);
  BOOST_TEST(g.grad_bytes_peak() < 4 * one);  // not 200 buffers: one per non-leaf node
  BOOST_TEST(g.grad_bytes_live() <= one);      // only the retained one is left
  BOOST_TEST(std::isfinite(x.grad()[0]));
  BOOST_TEST(kept.grad_values().size() == size_t(n));
  BOOST_CHECK_THROW(dropped.grad(), Error);
}

// Attention does not keep its B*H*Tq*Tk probabilities for backward (it recomputes them), so
// the graph grows by far less than that.
BOOST_AUTO_TEST_CASE(attention_keeps_no_probability_matrix) {
  Graph<float> g;
  const int64_t B = 8, H = 8, T = 64, D = 32;
  auto q = g.full({B, T, D}, 0.1f, true), k = g.full({B, T, D}, 0.2f, true), v = g.full({B, T, D}, 0.3f, true);
  const size_t before = g.arena().bytes_in_use();
  auto out = attention(q, k, v, (int)H, AttentionMask{true, {}}).out;
  const size_t grown = g.arena().bytes_in_use() - before;
  const size_t probabilities = B * H * T * T * sizeof(float);
  // The output, one T x T buffer per thread, and a max and 1/sum per row (plus alignment).
  const size_t expected = (B * T * D + omp_get_max_threads() * T * T + B * H * T * 2) * sizeof(float);
  BOOST_TEST(grown <= expected + 3 * 64);
  BOOST_TEST(grown < probabilities);
  // With the weights asked for, they are kept (and that is the only difference).
  const size_t before_w = g.arena().bytes_in_use();
  auto kept = attention(q, k, v, (int)H, AttentionMask{true, {}}, true);
  BOOST_TEST(g.arena().bytes_in_use() - before_w >= probabilities);
  BOOST_TEST(kept.out.values() == out.values(), boost::test_tools::per_element());
}

// The fused linear epilogues (relu, residual add, gelu) give the same bits as the separate ops,
// values and gradients.
BOOST_AUTO_TEST_CASE(fused_linear_matches_unfused_bit_for_bit) {
  auto run = [](bool fused) {
    Graph<float> g;
    Rng rng(5);
    auto rand = [&](Shape s) { return uniform_leaf(g, rng, s, 1.0); };
    auto x = rand({3, 5, 8}), w1 = rand({16, 8}), b1 = rand({16}), w2 = rand({8, 16}), b2 = rand({8});
    auto w2t = rand({16, 8});
    auto h = fused ? linear_relu(x, w1, b1) : relu(linear(x, w1, b1));
    auto y = fused ? linear_add(h, w2, b2, x) : x + linear(h, w2, b2);
    y = fused ? linear_gelu(y, w2t, b1) : gelu(linear(y, w2t, b1));  // 3 x 5 x 16: vectors and a tail
    g.backward(sum(y * y));
    std::vector<std::vector<float>> r{y.values()};
    for (auto* t : {&x, &w1, &b1, &w2, &b2, &w2t}) r.push_back(t->grad_values());
    return r;
  };
  const auto a = run(false), b = run(true);
  for (size_t i = 0; i < a.size(); ++i) BOOST_TEST(a[i] == b[i], boost::test_tools::per_element());
}

// The probabilities recomputed in backward are the forward's bit for bit: the gradients equal
// those of the path that keeps P (taken when the weights are asked for), exactly.
BOOST_AUTO_TEST_CASE(recomputed_attention_gradients_equal_stored_ones_exactly) {
  auto run = [](bool keep_weights) {
    Graph<float> g;
    Rng rng(9);
    auto rand = [&](Shape s) { return uniform_leaf(g, rng, s, 2.0); };
    auto q = rand({3, 17, 24}), k = rand({3, 33, 24}), v = rand({3, 33, 24});
    std::vector<uint8_t> pad(3 * 33, 0);
    for (int j = 20; j < 33; ++j) pad[2 * 33 + j] = 1;  // the third sequence is padded
    auto out = attention(q, k, v, 4, AttentionMask{true, pad}, keep_weights).out;
    g.backward(sum(out * out));
    return std::vector<std::vector<float>>{out.values(), q.grad_values(), k.grad_values(), v.grad_values()};
  };
  const auto stored = run(true), recomputed = run(false);
  for (size_t i = 0; i < stored.size(); ++i) BOOST_TEST(stored[i] == recomputed[i], boost::test_tools::per_element());
}

// The same with ALiBi's bias and a query offset, which the replay must add identically.
BOOST_AUTO_TEST_CASE(recomputed_attention_gradients_with_alibi_equal_stored_ones_exactly) {
  auto run = [](bool keep_weights) {
    Graph<float> g;
    Rng rng(10);
    auto rand = [&](Shape s) { return uniform_leaf(g, rng, s, 2.0); };
    auto q = rand({2, 9, 24}), k = rand({2, 30, 24}), v = rand({2, 30, 24});
    AttentionMask m;
    m.causal = true;
    m.key_padding.assign(2 * 30, 0);
    for (int j = 25; j < 30; ++j) m.key_padding[30 + j] = 1;
    m.alibi_slopes = alibi_slopes(4);
    m.query_offset = 17;
    auto out = attention(q, k, v, 4, m, keep_weights).out;
    g.backward(sum(out * out));
    return std::vector<std::vector<float>>{out.values(), q.grad_values(), k.grad_values(), v.grad_values()};
  };
  const auto stored = run(true), recomputed = run(false);
  for (size_t i = 0; i < stored.size(); ++i) BOOST_TEST(stored[i] == recomputed[i], boost::test_tools::per_element());
}

// The tiled kernel against whole rows at a realistic size in float64: several key blocks and
// partial ones, causal, padded and ALiBi-biased. The two differ only in summation order, so each
// value lies within gamma_n * (1 + max|value|) of the other, n the longest reduction (the keys
// and the head width, twice over in backward).
BOOST_AUTO_TEST_CASE(tiled_attention_equals_whole_rows_to_rounding) {
  auto run = [](AttentionKernel::Kind kind) {
    const AttentionKernel before = attention_kernel();
    set_attention_kernel({kind, 48, 112});
    Graph<double> g;
    Rng rng(12);
    auto rand = [&](Shape s) { return uniform_leaf(g, rng, s, 1.0); };
    auto q = rand({2, 300, 64}), k = rand({2, 300, 64}), v = rand({2, 300, 64});
    AttentionMask m;
    m.causal = true;
    m.key_padding.assign(2 * 300, 0);
    for (int j = 250; j < 300; ++j) m.key_padding[300 + j] = 1;
    m.key_padding[300] = 1;  // row 1's first query sees no key
    m.alibi_slopes = alibi_slopes(4);
    auto out = attention(q, k, v, 4, m).out;
    std::vector<double> up(out.numel());
    for (double& e : up) e = rng.uniform() * 2 - 1;
    g.backward(out, up.data());
    set_attention_kernel(before);
    return std::vector<std::vector<double>>{out.values(), q.grad_values(), k.grad_values(), v.grad_values()};
  };
  const auto whole = run(AttentionKernel::whole), tiled = run(AttentionKernel::tiled);
  const double u = std::ldexp(1.0, -53), n = 2 * (300 + 16);
  for (size_t t = 0; t < whole.size(); ++t) {
    double top = 0, worst = 0;
    for (size_t i = 0; i < whole[t].size(); ++i) {
      top = std::max(top, std::abs(whole[t][i]));
      worst = std::max(worst, std::abs(whole[t][i] - tiled[t][i]));
    }
    BOOST_TEST(worst <= 2 * n * u / (1 - n * u) * (1 + top), "tensor " << t << ": " << worst << " at max " << top);
  }
  BOOST_CHECK_THROW(set_attention_kernel({AttentionKernel::tiled, 0, 16}), Error);
}
