#define BOOST_TEST_MODULE probes
#include "tests/common.hpp"

// The probes (train/probe.hpp) on hand-built cases with known answers: a head that attends
// exactly one position back, a linear recurrence with a known decay, finite differences of the
// input saliency in float64, uniform heads of an encoder-decoder, and ablation of a head against
// zeroing its output weights.
#include <fmt/core.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "models/family.hpp"
#include "nn/attention.hpp"
#include "tests/cli_runner.hpp"
#include "train/evaluate.hpp"
#include "train/probe.hpp"

using namespace attn;
using attn_test::attnlab;
using attn_test::slurp;
using attn_test::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr double eps64 = 2.220446049250313e-16;

template <class T>
Parameter<T>& param(Seq2SeqModel<T>& m, const std::string& name) {
  for (auto& [n, p] : m.named_parameters())
    if (n == name) return *p;
  throw std::runtime_error("no parameter " + name);
}

// One stream row per entry of `tokens`, with labels (PAD: none) and label distances.
data::Batch stream_batch(const std::vector<std::vector<int>>& tokens, const std::vector<std::vector<int>>& labels,
                         const std::vector<std::vector<int>>& distance) {
  data::Batch b;
  b.B = (int)tokens.size();
  b.len = (int)tokens[0].size();
  for (size_t r = 0; r < tokens.size(); ++r) {
    b.tokens.insert(b.tokens.end(), tokens[r].begin(), tokens[r].end());
    b.labels.insert(b.labels.end(), labels[r].begin(), labels[r].end());
    b.label_distance.insert(b.label_distance.end(), distance[r].begin(), distance[r].end());
    b.stream_lengths.push_back(b.len);
  }
  return b;
}

// One layer, one head, d_model 16, no positions: token t embeds as e_t, the keys are the
// normalised embeddings and the queries those shifted back (q_t ~ e_{t-shift}) times beta. Pre-LN
// maps e_t to a*e_t + c*1, so score(t, s) = beta/4 * (a^2 [s = t-shift] + a constant) for every
// visible s < 16 - shift: with beta a^2 / 4 = 170 the weight off t-shift is below e^-170, under
// float64 rounding (for t >= shift; earlier queries have no key to match).
std::unique_ptr<Seq2SeqModel<double>> shifted_head_model(int shift) {
  ModelConfig c = ModelConfig::defaults("gpt");
  c.format = "lm";
  c.src_vocab = c.tgt_vocab = 16;
  c.set("d_model", 16).set("heads", 1).set("ff", 8).set("layers", 1).set("pos", "none").set("max_len", 16);
  auto m = make_model<double>(c, 1);
  const int D = 16;
  const double beta = 40;
  auto& emb = param(*m, "tok_emb.weight").value;
  std::fill(emb.begin(), emb.end(), 0.0);
  for (int i = 0; i < D; ++i) emb[(size_t)i * D + i] = 1;
  auto& w = param(*m, "layers.0.self_attn.in_proj_weight").value;  // [3D, D]: q, k, v
  std::fill(w.begin(), w.end(), 0.0);
  for (int s = 0; s + shift < D; ++s) w[(size_t)s * D + s + shift] = beta;  // q_s = beta * y_{s+shift}
  for (int s = 0; s < D; ++s) w[(size_t)(D + s) * D + s] = 1;       // k = y
  for (int s = 0; s < D; ++s) w[(size_t)(2 * D + s) * D + s] = 1;   // v = y
  auto& bias = param(*m, "layers.0.self_attn.in_proj_bias").value;
  std::fill(bias.begin(), bias.end(), 0.0);
  return m;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_head_attending_one_back_scores_previous_token_one_and_distance_one) {
  auto m = shifted_head_model(1);
  const int T = 12;
  std::vector<int> row(T), labels(T, data::Vocab::PAD), dist(T, -1);
  for (int t = 0; t < T; ++t) row[t] = t;
  labels[T - 1] = 5, dist[T - 1] = 1;  // its source is one back
  labels[4] = 5, dist[4] = 3;          // a source the head does not attend
  const data::Batch b = stream_batch({row}, {labels}, {dist});
  std::vector<HeadStats> s = attention_stats(*m, b);
  BOOST_TEST_REQUIRE(s.size() == 1u);
  // Each query spreads less than T * e^-170 off t-1: far below rounding.
  const double tol = 1e3 * eps64;
  BOOST_TEST(std::abs(s[0].mean_distance - 1) <= tol);
  BOOST_TEST(std::abs(s[0].confidence - 1) <= tol);
  BOOST_TEST(std::abs(s[0].entropy) <= tol);
  BOOST_TEST(s[0].source_labels == 2);
  BOOST_TEST(std::abs(s[0].source_mass - 0.5) <= tol);  // 1 at the first label, 0 at the other
  repeat_scores(*m, row, 1, T / 2, s);
  BOOST_TEST(std::abs(s[0].previous_token - 1) <= tol);
  BOOST_TEST(std::abs(s[0].induction) <= tol);  // it attends q-1, never q-n+1 (n = 6)
}

// An induction head attends, at the second copy of a token, to the token after its first copy:
// q - n + 1. Tokens 0..2n-1 stand in for the two copies (the score reads only positions).
BOOST_AUTO_TEST_CASE(a_head_attending_n_minus_one_back_scores_induction_one) {
  const int n = 5;
  auto m = shifted_head_model(n - 1);
  std::vector<int> row(2 * n);
  for (int t = 0; t < 2 * n; ++t) row[t] = t;
  const data::Batch b = stream_batch({row}, {std::vector<int>(2 * n, data::Vocab::PAD)}, {std::vector<int>(2 * n, -1)});
  std::vector<HeadStats> s = attention_stats(*m, b);
  repeat_scores(*m, row, 1, n, s);
  BOOST_TEST(std::abs(s[0].induction - 1) <= 1e3 * eps64);
  BOOST_CHECK_THROW(repeat_scores(*m, std::vector<int>(4, 5), 1, 2, s), Error);  // n = 2: induction is q - 1
}

// h_t = tanh(W_ih x_t + U h_{t-1}) with W_ih = 0, biases 0 and U = u I stays 0, where tanh' = 1:
// dh_t/dh_{t-1} = u I exactly. The logits at h = 0 are the output bias, so
// ||dL_j/dh_t|| = u^(j-t) ||W_out^T (softmax(b_out) - e_label)||.
BOOST_AUTO_TEST_CASE(a_linear_recurrence_has_state_gradients_decaying_as_its_weight) {
  ModelConfig c = ModelConfig::defaults("rnn");
  c.format = "lm";
  c.src_vocab = c.tgt_vocab = 9;
  // Two layers: the bottom one random, the top one the linear recurrence, whose zero input
  // weights cut the bottom layer off from the loss (its state gradients must be exactly 0).
  c.set("hidden", 4).set("layers", 2);
  auto m = make_model<double>(c, 3);
  const double u = 0.7;
  for (const char* name : {"rnn.weight_ih_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1", "rnn.weight_hh_l1"}) {
    auto& v = param(*m, name).value;
    std::fill(v.begin(), v.end(), 0.0);
  }
  auto& U = param(*m, "rnn.weight_hh_l1").value;
  for (int i = 0; i < 4; ++i) U[(size_t)i * 4 + i] = u;
  const int T = 20;
  std::vector<int> row(T, 5), labels(T, data::Vocab::PAD), other(T, data::Vocab::PAD), dist(T, -1);
  labels[T - 1] = 6, labels[9] = 7;
  other[T - 1] = 8, other[9] = 4;  // the second row's labels differ: its gradients do too
  const data::Batch b = stream_batch({row, row}, {labels, other}, {dist, dist});
  const std::vector<LabelGrads> g = label_gradients(*m, b, 0);
  BOOST_TEST_REQUIRE(g.size() == 4u);  // two positions, two rows
  const auto &W = param(*m, "out.weight").value, &bias = param(*m, "out.bias").value;  // [9, 4], [9]
  auto at_label = [&](int label) {
    double z = 0, sq = 0;
    for (double v : bias) z += std::exp(v);
    for (int k = 0; k < 4; ++k) {
      double d = 0;
      for (int v = 0; v < 9; ++v) d += W[(size_t)v * 4 + k] * (std::exp(bias[v]) / z - (v == label));
      sq += d * d;
    }
    return std::sqrt(sq);
  };
  for (const LabelGrads& lg : g) {
    BOOST_TEST_REQUIRE(lg.state_norm.size() == 2u);
    for (double x : lg.state_norm[0]) BOOST_TEST(x == 0.0);  // the bottom layer
    const std::vector<double>& n = lg.state_norm[1];
    BOOST_TEST_REQUIRE(n.size() == (size_t)lg.pos + 1);
    const double top = at_label((lg.row == 0 ? labels : other)[(size_t)lg.pos]);
    BOOST_TEST_REQUIRE(top > 0);
    for (size_t t = 0; t < n.size(); ++t) {
      // Rounding: the softmax and the 9-term products (~16 eps), then one multiply by u per lag.
      const double lag = (double)(lg.pos - (int64_t)t), want = std::pow(u, lag) * top;
      BOOST_TEST(std::abs(n[t] - want) <= (lag + 32) * eps64 * want, "t " << t << " pos " << lg.pos);
    }
    for (double x : lg.input_norm) BOOST_TEST(x == 0.0);  // W_ih = 0: the inputs do not matter
  }
  const GradFlow f = bin_gradients(g);
  for (size_t k = 0; k < f.state_relative[1].size(); ++k)
    BOOST_TEST(std::abs(f.state_relative[1][k] - std::pow(u, (double)k)) <= (k + 32) * eps64);
}

namespace {

// The cross-entropy of row r's logits at position j against `label`, in float64.
double label_loss(Seq2SeqModel<double>& m, const data::Batch& b, int r, int j, int label) {
  Graph<double> g;
  NoGrad<double> ng(g);
  const Tensor<double> logits = m.forward(g, to_seq_batch(b));
  const int64_t V = logits.size(2), width = b.is_stream() ? b.len : b.tgt_len;
  const double* z = logits.data() + ((int64_t)r * width + j) * V;
  const double mx = *std::max_element(z, z + V);
  double s = 0;
  for (int64_t v = 0; v < V; ++v) s += std::exp(z[v] - mx);
  return std::log(s) + mx - z[label];
}

// ||dL_j/dx_p|| by central differences on the embedding row of input p's id (each id appears
// once in the row's stream or source, so the row is x_p alone).
double fd_input_norm(Seq2SeqModel<double>& m, const std::string& emb_name, const data::Batch& b, int r, int j, int p) {
  auto& w = param(m, emb_name);
  const int64_t D = w.shape[1];
  const int id = b.is_stream() ? b.tokens[(size_t)r * b.len + p] : b.src[(size_t)r * b.src_len + p];
  const int label = b.targets()[(size_t)r * (b.is_stream() ? b.len : b.tgt_len) + j];
  const double h = 1e-6;
  double sq = 0;
  for (int64_t k = 0; k < D; ++k) {
    double& x = w.value[(size_t)id * D + k];
    const double x0 = x;
    x = x0 + h;
    const double up = label_loss(m, b, r, j, label);
    x = x0 - h;
    const double down = label_loss(m, b, r, j, label);
    x = x0;
    sq += std::pow((up - down) / (2 * h), 2);
  }
  return std::sqrt(sq);
}

void check_against_finite_differences(Seq2SeqModel<double>& m, const std::string& emb_name) {
  const std::vector<int> r0 = {4, 5, 6, 7, 8, 3}, r1 = {8, 3, 6, 4, 7, 5};
  const int P = data::Vocab::PAD;
  const data::Batch b = stream_batch({r0, r1}, {{P, P, 4, P, 6, P}, {P, P, 7, P, 3, P}}, {{-1, -1, 2, -1, 4, -1}, {-1, -1, 1, -1, 2, -1}});
  const std::vector<LabelGrads> g = label_gradients(m, b, 0);
  BOOST_TEST_REQUIRE(g.size() == 4u);
  for (const LabelGrads& lg : g) {
    BOOST_TEST(lg.source == (lg.row == 0 ? lg.pos - (lg.pos == 2 ? 2 : 4) : lg.pos - (lg.pos == 2 ? 1 : 2)));
    for (int p = 0; p <= lg.pos; ++p) {
      const double fd = fd_input_norm(m, emb_name, b, (int)lg.row, (int)lg.pos, p);
      // Central differences: truncation h^2 |L'''| ~ 1e-12 and rounding eps |L| / h ~ 1e-9 per
      // component, over D <= 8 components.
      BOOST_TEST(std::abs(lg.input_norm[(size_t)p] - fd) <= 1e-8 + 1e-6 * fd,
                 m.config.type << " row " << lg.row << " label " << lg.pos << " p " << p);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(input_saliency_agrees_with_finite_differences_in_float64) {
  ModelConfig gpt = ModelConfig::defaults("gpt");
  gpt.format = "lm";
  gpt.src_vocab = gpt.tgt_vocab = 9;
  gpt.set("d_model", 8).set("heads", 2).set("ff", 12).set("layers", 2).set("max_len", 8);
  auto m = make_model<double>(gpt, 5);
  check_against_finite_differences(*m, "tok_emb.weight");
  for (const char* type : {"lstm", "gru"}) {
    ModelConfig c = ModelConfig::defaults(type);
    c.format = "lm";
    c.src_vocab = c.tgt_vocab = 9;
    c.set("hidden", 6).set("layers", 2);
    auto r = make_model<double>(c, 7);
    check_against_finite_differences(*r, "embedding.weight");
  }
}

namespace {

// Two encoder-decoder rows: sources of 5 and 4 tokens (the second padded), each id once per
// source; targets of 2 and 1 tokens, then EOS. Row 0's targets copy source positions 2 and 0
// (distances 3 and 5), row 1's position 1 (distance 3); EOS has none.
data::Batch s2s_batch() {
  const int P = data::Vocab::PAD, BOS = data::Vocab::BOS, EOS = data::Vocab::EOS;
  data::Batch b;
  b.B = 2, b.src_len = 5, b.tgt_len = 3;
  b.src = {4, 5, 6, 7, 8, 8, 5, 6, 4, P};
  b.src_pad = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  b.tgt_in = {BOS, 6, 4, BOS, 5, P};
  b.tgt_out = {6, 4, EOS, 5, EOS, P};
  b.tgt_pad = {0, 0, 0, 0, 0, 1};
  b.distance = {3, 5, -1, 3, -1, -1};
  b.src_lengths = {5, 4};
  b.tgt_lengths = {2, 1};
  return b;
}

ModelConfig s2s_config(const std::string& type) {
  ModelConfig c = ModelConfig::defaults(type);
  c.src_vocab = c.tgt_vocab = 9;
  return c;
}

}  // namespace

// An encoder-decoder's labels read the whole source: one saliency per source token of the row,
// at distance S - p, agreeing with central differences on the source embedding.
BOOST_AUTO_TEST_CASE(encoder_decoder_saliency_agrees_with_finite_differences_in_float64) {
  ModelConfig tr = s2s_config("transformer");
  tr.set("d_model", 8).set("heads", 2).set("ff", 12).set("enc_layers", 1).set("dec_layers", 1).set("max_len", 8);
  ModelConfig ga = s2s_config("gru-attn");
  ga.set("hidden", 6).set("heads", 2);
  const data::Batch b = s2s_batch();
  for (const ModelConfig& c : {tr, ga}) {
    auto m = make_model<double>(c, 5);
    const std::vector<LabelGrads> g = label_gradients(*m, b, 0);
    BOOST_TEST_REQUIRE(g.size() == 5u, c.type);  // row 0: 2 tokens and EOS; row 1: 1 and EOS
    for (const LabelGrads& lg : g) {
      const int64_t S = b.src_lengths[(size_t)lg.row];
      BOOST_TEST(lg.origin == S);
      BOOST_TEST_REQUIRE(lg.input_norm.size() == (size_t)S);
      const int d = b.distance[(size_t)lg.row * b.tgt_len + lg.pos];
      BOOST_TEST(lg.source == (d > 0 ? S - d : -1));
      for (int p = 0; p < S; ++p) {
        const double fd = fd_input_norm(*m, "src_emb.weight", b, (int)lg.row, (int)lg.pos, p);
        // As for the stream: central differences over D <= 8 components.
        BOOST_TEST(std::abs(lg.input_norm[(size_t)p] - fd) <= 1e-8 + 1e-6 * fd, c.type << " row " << lg.row << " label " << lg.pos << " p " << p);
      }
    }
  }
}

// The encoder h_t = tanh(U h_{t-1}) with zero input weights and biases stays at 0, where
// tanh' = 1: dh_t/dh_{t-1} = u I, so whatever the decoder does with the final state,
// ||dL/dh_t|| = u^(S-1-t) ||dL/dh_{S-1}||: relative to the state nearest the label (lag 1),
// u^(lag - 1). The padded row's frozen steps pass its last state on unchanged.
BOOST_AUTO_TEST_CASE(an_encoder_linear_recurrence_has_state_gradients_decaying_as_its_weight) {
  ModelConfig c = s2s_config("rnn");
  c.set("hidden", 4).set("layers", 1);
  auto m = make_model<double>(c, 3);
  const double u = 0.6;
  for (const char* name : {"encoder.weight_ih_l0", "encoder.bias_ih_l0", "encoder.bias_hh_l0", "encoder.weight_hh_l0"}) {
    auto& v = param(*m, name).value;
    std::fill(v.begin(), v.end(), 0.0);
  }
  auto& U = param(*m, "encoder.weight_hh_l0").value;
  for (int i = 0; i < 4; ++i) U[(size_t)i * 4 + i] = u;
  const data::Batch b = s2s_batch();
  const std::vector<LabelGrads> g = label_gradients(*m, b, 0);
  BOOST_TEST_REQUIRE(g.size() == 5u);
  for (const LabelGrads& lg : g) {
    BOOST_TEST_REQUIRE(lg.state_norm.size() == 1u);  // the encoder's one layer; the decoder's are not read
    const std::vector<double>& n = lg.state_norm[0];
    BOOST_TEST_REQUIRE(n.size() == (size_t)b.src_lengths[(size_t)lg.row]);
    BOOST_TEST_REQUIRE(n.back() > 0);
    for (size_t t = 0; t < n.size(); ++t) {
      const double lag = double(lg.origin - (int64_t)t), want = std::pow(u, lag - 1) * n.back();
      BOOST_TEST(std::abs(n[t] - want) <= (lag + 8) * eps64 * want, "t " << t << " row " << lg.row);
    }
    for (double x : lg.input_norm) BOOST_TEST(x == 0.0);  // zero input weights
  }
  const GradFlow f = bin_gradients(g);
  BOOST_TEST(f.state_count[0][0] == 0);  // no state lies at the source's end
  for (size_t k = 1; k < f.state_relative[0].size(); ++k)
    BOOST_TEST(std::abs(f.state_relative[0][k] - std::pow(u, double(k) - 1)) <= (k + 8) * eps64);
}

// With every query projection zero, each head attends uniformly to the keys it sees: over S
// source keys, entropy ln S, confidence 1/S, mass 1/S on the true source and mean distance
// (S + 1) / 2 across (keys at S - k), or mean_k |q - k| within the source; over the q + 1
// causal keys of the decoder, ln(q + 1), 1/(q + 1) and q / 2.
BOOST_AUTO_TEST_CASE(uniform_encoder_decoder_heads_have_the_closed_form_statistics) {
  ModelConfig c = s2s_config("transformer");
  const int D = 8, n = 3;
  c.set("d_model", D).set("heads", 2).set("ff", 12).set("enc_layers", 1).set("dec_layers", 1).set("max_len", 2 * n);
  auto m = make_model<double>(c, 9);
  for (const char* site : {"encoder.layers.0.self_attn", "decoder.layers.0.self_attn", "decoder.layers.0.multihead_attn"}) {
    auto& w = param(*m, std::string(site) + ".in_proj_weight").value;  // [3D, D]: q first
    std::fill(w.begin(), w.begin() + D * D, 0.0);
    auto& bias = param(*m, std::string(site) + ".in_proj_bias").value;
    std::fill(bias.begin(), bias.begin() + D, 0.0);
  }
  const data::Batch b = s2s_batch();
  std::vector<HeadStats> stats = attention_stats(*m, b);
  BOOST_TEST_REQUIRE(stats.size() == 6u);
  struct Want {
    double distance = 0, entropy = 0, confidence = 0, mass = 0;
    int queries = 0, labels = 0;
  };
  std::map<std::string, Want> want;
  for (int r = 0; r < 2; ++r) {
    const int S = b.src_lengths[(size_t)r], T = b.tgt_lengths[(size_t)r] + 1;
    for (int q = 0; q < S; ++q) {
      Want& e = want["encoder.layers.0.self_attn"];
      for (int k = 0; k < S; ++k) e.distance += std::abs(q - k) / double(S);
      e.entropy += std::log(S), e.confidence += 1.0 / S, ++e.queries;
    }
    for (int q = 1; q < T; ++q) {
      Want& e = want["decoder.layers.0.self_attn"];
      e.distance += q / 2.0, e.entropy += std::log(q + 1), e.confidence += 1.0 / (q + 1), ++e.queries;
    }
    for (int q = 0; q < T; ++q) {
      Want& e = want["decoder.layers.0.multihead_attn"];
      e.distance += (S + 1) / 2.0, e.entropy += std::log(S), e.confidence += 1.0 / S, ++e.queries;
      if (b.distance[(size_t)r * b.tgt_len + q] > 0) e.mass += 1.0 / S, ++e.labels;
    }
  }
  // Each weight is 1/S within a few ulps; each mean sums at most 9 queries of at most 5 terms.
  const double tol = 256 * eps64;
  for (const HeadStats& s : stats) {
    const Want& e = want.at(s.module);
    BOOST_TEST(std::abs(s.mean_distance - e.distance / e.queries) <= tol * 5, s.module);
    BOOST_TEST(std::abs(s.entropy - e.entropy / e.queries) <= tol * 5, s.module);
    BOOST_TEST(std::abs(s.confidence - e.confidence / e.queries) <= tol, s.module);
    BOOST_TEST(s.source_labels == e.labels, s.module);
    if (e.labels) BOOST_TEST(std::abs(s.source_mass - e.mass / e.labels) <= tol, s.module);
    else BOOST_TEST(s.source_mass == -1, s.module);
  }
  // Repeated tokens as the source and the decoder's input: the encoder's uniform heads put 1/(2n)
  // one back; cross-attention has no such score.
  std::vector<int> row = {4, 5, 6, 4, 5, 6};
  repeat_scores(*m, row, 1, n, stats);
  for (const HeadStats& s : stats) {
    if (s.module == "encoder.layers.0.self_attn") {
      BOOST_TEST(std::abs(s.previous_token - 1.0 / (2 * n)) <= tol, s.module);
      BOOST_TEST(std::abs(s.induction - 1.0 / (2 * n)) <= tol, s.module);
    } else if (s.module == "decoder.layers.0.self_attn") {
      double prev = 0;
      for (int q = 1; q < 2 * n; ++q) prev += 1.0 / (q + 1);
      BOOST_TEST(std::abs(s.previous_token - prev / (2 * n - 1)) <= tol, s.module);
    } else {
      BOOST_TEST(s.previous_token == -1, s.module);
      BOOST_TEST(s.induction == -1, s.module);
    }
  }
}

BOOST_AUTO_TEST_CASE(binning_normalises_each_label_and_counts_by_distance) {
  LabelGrads a, b;
  a.pos = a.origin = 2, a.input_norm = {1, 1, 2}, a.source = 0;
  b.pos = b.origin = 1, b.input_norm = {3, 1};
  const GradFlow f = bin_gradients({a, b});
  BOOST_TEST_REQUIRE(f.saliency.size() == 3u);
  BOOST_TEST(std::abs(f.saliency[0] - (0.5 + 0.25) / 2) <= 4 * eps64);
  BOOST_TEST(std::abs(f.saliency[1] - (0.25 + 0.75) / 2) <= 4 * eps64);
  BOOST_TEST(std::abs(f.saliency[2] - 0.25) <= 4 * eps64);
  BOOST_TEST(f.saliency_count[2] == 1);
  BOOST_TEST(f.source_labels == 1);
  BOOST_TEST(std::abs(f.source_saliency - 0.25) <= 4 * eps64);
}

namespace {

data::Dataset copy_memory_data() {
  data::DataConfig dc = data::task_config("copy-memory", {{"delay", "4"}}, {}, 11, 40, 40);
  dc.format = "lm";
  return data::Dataset(dc);
}

std::unique_ptr<Seq2SeqModel<float>> small_gpt(const data::Dataset& ds) {
  ModelConfig c = ModelConfig::defaults("gpt");
  c.format = "lm";
  c.src_vocab = c.tgt_vocab = (int64_t)ds.vocab().size();
  c.set("d_model", 8).set("heads", 2).set("ff", 12).set("layers", 2);
  DataShape shape{(size_t)ds.vocab().size(), ds.max_src_len(), ds.max_tgt_len()};
  model_family("gpt").fit_to_data(c, shape);
  return make_model<float>(c, 9);
}

}  // namespace

// Zeroing a head's output is zeroing its columns of out_proj.weight: ablating head 0 scores as a
// copy of the model with those columns zeroed, and a head whose columns are already zero
// changes nothing.
BOOST_AUTO_TEST_CASE(ablating_a_head_is_zeroing_its_output_weights) {
  const data::Dataset ds = copy_memory_data();
  auto m = small_gpt(ds), zeroed = small_gpt(ds);
  const int D = 8, dh = 4;
  for (auto* model : {m.get(), zeroed.get()}) {  // head 1 of layer 1 writes nothing
    auto& w = param(*model, "layers.1.self_attn.out_proj.weight").value;
    for (int r = 0; r < D; ++r)
      for (int k = dh; k < 2 * dh; ++k) w[(size_t)r * D + k] = 0;
  }
  auto& w0 = param(*zeroed, "layers.0.self_attn.out_proj.weight").value;
  for (int r = 0; r < D; ++r)
    for (int k = 0; k < dh; ++k) w0[(size_t)r * D + k] = 0;
  const std::vector<HeadAblation> rows = ablate_heads(*m, ds, data::Split::Test, 40);
  BOOST_TEST_REQUIRE(rows.size() == 5u);  // intact, then 2 layers x 2 heads
  const EvalResult want = evaluate(*zeroed, ds, data::Split::Test, 40);
  BOOST_TEST(rows[1].layer == 0);
  BOOST_TEST(rows[1].head == 0);
  BOOST_TEST(rows[1].token_accuracy == want.token_accuracy());
  BOOST_TEST(rows[4].head == 1);
  BOOST_TEST(rows[4].token_accuracy == rows[0].token_accuracy);
  BOOST_TEST(rows[4].sequence_accuracy == rows[0].sequence_accuracy);
  for (auto& [name, mod] : m->named_modules())  // nothing left zeroed
    if (auto* a = dynamic_cast<MultiHeadAttention<float>*>(mod)) BOOST_TEST(a->zeroed_heads.empty());
  // The same, on the logits themselves: equal to the bit, and not the intact model's.
  const data::Batch batch = ds.batch(ds.eval_examples(data::Split::Test, 8), false);
  auto logits = [&](Seq2SeqModel<float>& model) {
    Graph<float> g;
    NoGrad<float> ng(g);
    return model.forward(g, to_seq_batch(batch)).values();
  };
  const std::vector<float> intact = logits(*m);
  for (auto& [name, mod] : m->named_modules())
    if (name == "layers.0.self_attn") dynamic_cast<MultiHeadAttention<float>&>(*mod).zeroed_heads = {1, 0};
  const std::vector<float> ablated = logits(*m), by_weights = logits(*zeroed);
  BOOST_TEST(ablated == by_weights);
  BOOST_TEST(ablated != intact);
}
