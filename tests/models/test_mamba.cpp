#define BOOST_TEST_MODULE mamba
#include "tests/common.hpp"
#include "tests/float_bounds.hpp"

// Mamba (--model mamba, models/mamba.hpp): its parameters and their init against the reference,
// the stream it reads, the recurrent-state decoder against full recomputation, sampling, and
// training from the command line (parity with PyTorch: test_torch_parity.cpp).
#include <cmath>
#include <set>

#include "models/checkpoint.hpp"
#include "models/family.hpp"
#include "models/mamba.hpp"
#include "tests/cli_runner.hpp"

using namespace attn;
using attn_test::TempDir;

namespace {

ModelConfig tiny_mamba(bool lti = false) {
  ModelConfig c = ModelConfig::defaults("mamba");
  c.src_vocab = c.tgt_vocab = 9;
  c.set("d_model", 8).set("layers", 2).set("d_state", 4).set("d_conv", 3).set("ssm_lti", lti);
  return c;
}

template <class T>
MambaLM<T>& as_mamba(std::unique_ptr<Seq2SeqModel<T>>& m) {
  return dynamic_cast<MambaLM<T>&>(*m);
}

// Rows `source SEP target` (SEP = 1), right-padded with 0, the sources also as a seq2seq batch.
SeqBatch streams(const std::vector<std::vector<int>>& src, const std::vector<std::vector<int>>& tgt) {
  SeqBatch b;
  b.batch = (int64_t)src.size();
  for (size_t r = 0; r < src.size(); ++r) {
    b.src_len = std::max(b.src_len, (int64_t)src[r].size());
    b.len = std::max(b.len, (int64_t)(src[r].size() + 1 + tgt[r].size()));
  }
  for (size_t r = 0; r < src.size(); ++r) {
    std::vector<int> s = src[r], row = src[r];
    row.push_back(1);
    row.insert(row.end(), tgt[r].begin(), tgt[r].end());
    for (int64_t t = 0; t < b.src_len; ++t) b.src_pad.push_back(t >= (int64_t)s.size());
    s.resize(b.src_len, 0);
    row.resize(b.len, 0);
    b.src.insert(b.src.end(), s.begin(), s.end());
    b.tokens.insert(b.tokens.end(), row.begin(), row.end());
  }
  return b;
}

SeqBatch batch() { return streams({{3, 4, 5, 6, 7}, {8, 3, 4}, {5, 5, 6, 7}, {6, 7, 8}}, {{3, 4}, {8}, {5, 5, 6}, {}}); }

std::map<std::string, Parameter<float>*> params(Seq2SeqModel<float>& m) {
  std::map<std::string, Parameter<float>*> p;
  for (auto& [n, q] : m.named_parameters()) p[n] = q;
  return p;
}

// The recurrent decoder (one position at a time, O(1) state) and full recomputation give the
// same logits up to rounding. In float32 the bound of tests/float_bounds.hpp: the path through
// a block is its norm, in_proj, conv, x_proj, dt_proj, gate, out_proj and one scan step per
// position (up to 6 + 8 = 14), so depth (14 + 7) * layers + 2; the longest reduction is E * d_model
// = 16 terms. Tokens are compared only where the top-2 margin exceeds twice the bound, and a row
// no further than its first such tie.
template <class T>
void check_recurrent_decoding(const ModelConfig& c, bool exact) {
  auto owner = make_model<T>(c, 7);
  auto& m = as_mamba(owner);
  Graph<T> g;
  std::vector<std::vector<T>> rec, full;
  const int64_t steps = 8;  // eos = -1: never stops early
  const auto a = m.decode(g, batch(), steps, 1, -1, true, &rec);
  const auto b = m.decode(g, batch(), steps, 1, -1, false, &full);
  BOOST_TEST_REQUIRE(rec.size() == (size_t)steps);
  BOOST_TEST_REQUIRE(full.size() == (size_t)steps);
  const int64_t V = c.tgt_vocab, B = (int64_t)a.size();
  const int depth = (6 + (int)steps + 7) * (int)c.integer("layers") + 2;
  const int64_t n = c.integer("expand") * c.integer("d_model");
  std::vector<bool> live(B, true);
  int64_t compared = 0;
  double worst_ratio = 0;
  for (int64_t t = 0; t < steps; ++t)
    for (int64_t r = 0; r < B; ++r) {
      if (!live[r]) continue;
      const T *f = full[t].data() + r * V, *k = rec[t].data() + r * V;
      double top = -INFINITY, second = -INFINITY, scale = 0, worst = 0;
      for (int64_t v = 0; v < V; ++v) {
        scale = std::max(scale, double(std::fabs(f[v])));
        worst = std::max(worst, double(std::fabs(f[v] - k[v])));
        if (f[v] > top) second = top, top = f[v];
        else if (f[v] > second) second = f[v];
      }
      // float64: the same analysis with u = 2^-53 gives about 1e-14; 1e-12 leaves room for exp.
      const double tol = exact ? 1e-12 : attn_test::f32_network_bound(depth, n, scale);
      BOOST_TEST(worst <= tol, "step " << t << " row " << r << ": max |recurrent - full| = " << worst);
      worst_ratio = std::max(worst_ratio, worst / tol);
      if (top - second <= 2 * tol) {
        live[r] = false;
        continue;
      }
      BOOST_TEST(a[r][t] == b[r][t], "step " << t << " row " << r);
      ++compared;
    }
  BOOST_TEST(compared >= B * steps / 2, "too few tokens had a clear margin: " << compared);
  BOOST_TEST_MESSAGE((exact ? "float64" : "float32") << " " << c.to_json().dump() << ": worst |recurrent - full| / bound "
                                                     << worst_ratio << ", " << compared << " tokens compared");
}

}  // namespace

BOOST_AUTO_TEST_CASE(parameter_names_are_the_references) {
  std::set<std::string> want = {"embedding.weight", "norm_f.weight", "lm_head.weight", "layers.0.norm.weight"};
  for (const char* p : {"in_proj.weight", "conv1d.weight", "conv1d.bias", "x_proj.weight", "dt_proj.weight",
                        "dt_proj.bias", "A_log", "D", "out_proj.weight"})
    want.insert(std::string("layers.0.mixer.") + p);
  ModelConfig c = tiny_mamba();
  c.set("layers", 1);
  auto m = make_model<float>(c, 0);
  std::set<std::string> names;
  for (auto& [n, p] : params(*m)) names.insert(n);
  BOOST_TEST((names == want));
  auto p = params(*m);
  BOOST_TEST((p["layers.0.mixer.conv1d.weight"]->shape == Shape{16, 1, 3}));  // as nn.Conv1d's
  BOOST_TEST((p["layers.0.mixer.x_proj.weight"]->shape == Shape{1 + 8, 16}));  // dt_rank ceil(8/16) = 1
  BOOST_TEST((p["layers.0.mixer.A_log"]->shape == Shape{16, 4}));
  // Time-invariant and tied: B and C instead of x_proj and dt_proj.weight; no lm_head.
  auto lti = make_model<float>(c.set("ssm_lti", true).set("tie_output", true), 0);
  std::set<std::string> lti_names;
  for (auto& [n, q] : params(*lti)) lti_names.insert(n);
  for (const char* gone : {"layers.0.mixer.x_proj.weight", "layers.0.mixer.dt_proj.weight", "lm_head.weight"})
    want.erase(gone);
  want.insert({"layers.0.mixer.B", "layers.0.mixer.C"});
  BOOST_TEST((lti_names == want));
}

BOOST_AUTO_TEST_CASE(parameter_count_without_building_matches_the_model) {
  for (int v = 0; v < 8; ++v) {
    ModelConfig c = tiny_mamba(v & 1);
    c.set("tie_output", bool(v & 2)).set("layers", 1 + v / 2).set("dt_rank", v % 3).set("expand", 1 + v % 2);
    BOOST_TEST(count_parameters(c) == make_model<float>(c, 0)->num_parameters(), "variant " << v);
  }
  // The defaults: d_model 64, 2 layers, N 16, d_conv 4, expand 2, dt_rank 4, vocabulary 9.
  ModelConfig d = ModelConfig::defaults("mamba");
  d.src_vocab = d.tgt_vocab = 9;
  BOOST_TEST(make_model<float>(d, 0)->num_parameters() == 9 * 64 * 2 + 64 + 2 * (2 * 128 * 64 + 128 * 5 + 128 * 36 + 128 * 5 + 128 * 17 + 64 * 128 + 64));
}

// As mamba_simple.py and mixer_seq_simple.py's _init_weights (docs/models.md lists the lines).
BOOST_AUTO_TEST_CASE(initialisation_follows_the_reference) {
  ModelConfig c = ModelConfig::defaults("mamba");
  c.src_vocab = c.tgt_vocab = 40;
  c.set("layers", 4);
  auto m = make_model<float>(c, 3);
  auto p = params(*m);
  const int64_t D = 64, ED = 128, N = 16, R = 4;
  auto within = [](const Parameter<float>* q, double bound) {
    double lo = 0, hi = 0;
    for (float v : q->value) lo = std::min(lo, double(v)), hi = std::max(hi, double(v));
    return lo >= -bound && hi <= bound && hi > 0.8 * bound && lo < -0.8 * bound;  // fills the range
  };
  for (int l = 0; l < 4; ++l) {
    const std::string pre = "layers." + std::to_string(l) + ".mixer.";
    const auto* A = p[pre + "A_log"];
    for (int64_t i = 0; i < ED * N; ++i) BOOST_TEST(A->value[i] == float(std::log(double(i % N + 1))));
    for (float v : p[pre + "D"]->value) BOOST_TEST(v == 1.0f);
    double mean_log = 0;
    for (float b : p[pre + "dt_proj.bias"]->value) {
      const double dt = std::log1p(std::exp(double(b)));  // softplus
      BOOST_TEST(dt >= 1e-3 * (1 - 1e-5));
      BOOST_TEST(dt <= 1e-1 * (1 + 1e-5));
      mean_log += std::log(dt) / ED;
    }
    // log dt is uniform on [log 1e-3, log 1e-1]: mean -4.61, standard error 1.33 / sqrt(128) = 0.12.
    BOOST_TEST(std::fabs(mean_log - 0.5 * (std::log(1e-3) + std::log(1e-1))) < 0.5);
    BOOST_TEST(within(p[pre + "dt_proj.weight"], 1 / std::sqrt(double(R))));
    BOOST_TEST(within(p[pre + "in_proj.weight"], 1 / std::sqrt(double(D))));
    BOOST_TEST(within(p[pre + "x_proj.weight"], 1 / std::sqrt(double(ED))));
    BOOST_TEST(within(p[pre + "conv1d.weight"], 0.5));  // 1 / sqrt(d_conv)
    BOOST_TEST(within(p[pre + "conv1d.bias"], 0.5));
    BOOST_TEST(within(p[pre + "out_proj.weight"], 1 / std::sqrt(double(ED)) / std::sqrt(4.0)));  // / sqrt(n_layer)
    for (float v : p["layers." + std::to_string(l) + ".norm.weight"]->value) BOOST_TEST(v == 1.0f);
  }
  BOOST_TEST(within(p["lm_head.weight"], 1 / std::sqrt(double(D))));
  double ss = 0;
  const auto& e = p["embedding.weight"]->value;
  for (float v : e) ss += double(v) * v;
  BOOST_TEST(std::fabs(std::sqrt(ss / e.size()) - 0.02) < 0.002);  // N(0, 0.02^2), 2,560 draws: 1.4% s.e.
}

BOOST_AUTO_TEST_CASE(forward_reads_the_stream_and_padding_changes_no_real_position) {
  auto m = make_model<double>(tiny_mamba(), 2);
  Graph<double> g;
  SeqBatch b = batch();
  const std::vector<double> all = m->forward(g, b).values();
  BOOST_TEST(all.size() == size_t(4 * 8 * 9));
  const std::vector<int64_t> real = {8, 5, 8, 4};
  for (int64_t r = 0; r < b.batch; ++r) {
    SeqBatch one = b;
    one.batch = 1;
    one.len = real[r];
    one.tokens.assign(b.tokens.begin() + r * b.len, b.tokens.begin() + r * b.len + real[r]);
    const std::vector<double> alone = m->forward(g, one).values();
    for (int64_t i = 0; i < real[r] * 9; ++i)
      BOOST_TEST(std::fabs(alone[i] - all[r * b.len * 9 + i]) <= 1e-12, "row " << r << " entry " << i);
  }
  SeqBatch seq2seq = b;
  seq2seq.len = 0;
  seq2seq.tokens.clear();
  BOOST_CHECK_THROW(m->forward(g, seq2seq), Error);
}

BOOST_AUTO_TEST_CASE(recurrent_decoding_matches_full_recomputation) {
  // Time-invariant; and a width-1 convolution (no conv state) with N = 9, whose scan op runs
  // vectors and a remainder while the step's loops are scalar.
  for (const ModelConfig& c : {tiny_mamba(false), tiny_mamba(true), tiny_mamba(false).set("d_conv", 1).set("d_state", 9)}) {
    BOOST_TEST_CONTEXT(c.to_json().dump()) {
      check_recurrent_decoding<float>(c, false);
      check_recurrent_decoding<double>(c, true);
    }
  }
}

BOOST_AUTO_TEST_CASE(sampling_is_seeded_and_greedy_at_temperature_zero) {
  auto owner = make_model<double>(tiny_mamba(), 4);
  auto& m = as_mamba(owner);
  Graph<double> g;
  const std::vector<int> prompt = {3, 4, 5, 6, 1};
  Rng a(11), b(11), c(12);
  const std::vector<int> s = m.sample(g, prompt, 10, 2.0, 0, a);
  BOOST_TEST(s.size() == 10u);
  BOOST_TEST(s == m.sample(g, prompt, 10, 2.0, 0, b));
  BOOST_TEST(s != m.sample(g, prompt, 10, 2.0, 0, c));
  const std::vector<int> greedy = m.sample(g, prompt, 10, 0.0, 0, a);
  BOOST_TEST(greedy == m.sample(g, prompt, 10, 1.0, 1, a));  // top-1 is greedy at any temperature
  const std::vector<int> decoded = m.greedy_decode(g, streams({{3, 4, 5, 6}}, {{}}), 10, 1, 2)[0];
  BOOST_TEST(std::vector<int>(greedy.begin(), std::find(greedy.begin(), greedy.end(), 2)) == decoded);
  BOOST_CHECK_THROW(m.sample(g, prompt, 3, -1.0, 0, a), Error);
  BOOST_TEST(position_limit(tiny_mamba()) == 0);  // no table: any length
}

BOOST_AUTO_TEST_CASE(checkpoint_round_trip_gives_the_same_logits) {
  TempDir td;
  for (bool lti : {false, true}) {
    auto m = make_model<float>(tiny_mamba(lti).set("tie_output", lti), 3);
    const std::string path = td / (lti ? "lti.safetensors" : "s6.safetensors");
    save_model(path, *m, {{"vocab", "[]"}});
    auto back = load_model<float>(path);
    Graph<float> g1, g2;
    BOOST_TEST(m->forward(g1, batch()).values() == back->forward(g2, batch()).values(), boost::test_tools::per_element());
  }
}
