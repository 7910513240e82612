#define BOOST_TEST_MODULE gpt
#include "tests/common.hpp"
#include "tests/float_bounds.hpp"

// The decoder-only Transformer (--model gpt, models/gpt.hpp): its parameters, the stream it
// reads, cached against full decoding, sampling, position limits (training runs:
// test_gpt_runs.cpp).
#include <cmath>
#include <set>

#include "models/checkpoint.hpp"
#include "models/family.hpp"
#include "models/gpt.hpp"
#include "models/memory_estimate.hpp"
#include "tests/cli_runner.hpp"

using namespace attn;
using attn_test::TempDir;

namespace {

const std::vector<const char*> all_pos = {"learned", "sinusoidal", "rope", "alibi", "none"};

ModelConfig tiny_gpt(const char* pos = "learned") {
  ModelConfig c = ModelConfig::defaults("gpt");
  c.src_vocab = c.tgt_vocab = 9;
  c.set("d_model", 8).set("heads", 2).set("ff", 12).set("layers", 2).set("max_len", 16).set("pos", pos);
  return c;
}

template <class T>
DecoderOnlyTransformer<T>& as_gpt(std::unique_ptr<Seq2SeqModel<T>>& m) {
  return dynamic_cast<DecoderOnlyTransformer<T>&>(*m);
}

// Rows `source SEP target` (SEP = 1), right-padded with 0, with the sources also laid out as a
// seq2seq batch (what decoding reads).
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

// Four rows, two of them with prompts of one length: decoding groups them.
SeqBatch batch() { return streams({{3, 4, 5, 6, 7}, {8, 3, 4}, {5, 5, 6, 7}, {6, 7, 8}}, {{3, 4}, {8}, {5, 5, 6}, {}}); }

// Cached and full decoding compute the same logits with different gemm shapes (one new row
// against the cache, or the whole prefix), so in float32 they agree only within the rounding
// bound of tests/float_bounds.hpp: the longest path has 2 * 2 sublayers (attention and
// feed-forward per block), the final norm and the head, depth 6; the longest reduction is
// max(d_model 8, ff 12, length 6 + 8 = 14) = 14 terms. As for the encoder-decoder
// (test_models.cpp), a token is compared only where the top-2 margin exceeds twice that bound,
// and a row no further than its first such tie, since later steps are fed the token chosen there.
template <class T>
void check_cached_decoding(const char* pos, bool exact_bound) {
  const ModelConfig c = tiny_gpt(pos);
  auto owner = make_model<T>(c, 7);
  auto& m = as_gpt(owner);
  m.eval();
  Graph<T> g;
  std::vector<std::vector<T>> cached, full;
  const int64_t steps = 8;  // eos = -1: never stops early, so every step's logits are compared
  const auto a = m.decode(g, batch(), steps, 1, -1, true, &cached);
  const auto b = m.decode(g, batch(), steps, 1, -1, false, &full);
  BOOST_TEST_REQUIRE(cached.size() == (size_t)steps);
  BOOST_TEST_REQUIRE(full.size() == (size_t)steps);
  const int64_t V = c.tgt_vocab, B = (int64_t)a.size();
  const int depth = 2 * (int)c.integer("layers") + 2;
  const int64_t n = std::max({c.integer("d_model"), c.integer("ff"), (int64_t)6 + steps});
  std::vector<bool> live(B, true);
  int64_t compared = 0;
  for (int64_t t = 0; t < steps; ++t)
    for (int64_t r = 0; r < B; ++r) {
      if (!live[r]) continue;
      const T* f = full[t].data() + r * V;
      const T* k = cached[t].data() + r * V;
      double top = -INFINITY, second = -INFINITY, scale = 0, worst = 0;
      for (int64_t v = 0; v < V; ++v) {
        scale = std::max(scale, double(std::fabs(f[v])));
        worst = std::max(worst, double(std::fabs(f[v] - k[v])));
        if (f[v] > top) second = top, top = f[v];
        else if (f[v] > second) second = f[v];
      }
      // float64: the same analysis with u = 2^-53 gives about 1e-14; 1e-12 leaves room for exp.
      const double tol = exact_bound ? 1e-12 : attn_test::f32_network_bound(depth, n, scale);
      BOOST_TEST(worst <= tol, pos << " step " << t << " row " << r << ": max |cached - full| = " << worst);
      if (top - second <= 2 * tol) {
        live[r] = false;
        continue;
      }
      BOOST_TEST(a[r][t] == b[r][t], pos << " step " << t << " row " << r);
      ++compared;
    }
  BOOST_TEST(compared >= B * steps / 2, pos << ": too few tokens had a clear margin: " << compared);
}

}  // namespace

BOOST_AUTO_TEST_CASE(parameter_names_are_the_references) {
  ModelConfig c = tiny_gpt();
  c.set("layers", 1);
  std::set<std::string> want = {"tok_emb.weight", "pos", "norm.weight", "norm.bias", "out.weight", "out.bias"};
  for (const char* p : {"self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                        "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
                        "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"})
    want.insert(std::string("layers.0.") + p);
  auto names = [](const ModelConfig& c) {
    std::set<std::string> s;
    for (auto& [n, p] : make_model<float>(c, 0)->named_parameters()) s.insert(n);
    return s;
  };
  BOOST_TEST((names(c) == want));
  want.erase("pos");
  want.erase("out.weight");
  BOOST_TEST((names(c.set("pos", "none").set("tie_output", true)) == want));
}

BOOST_AUTO_TEST_CASE(parameter_count_without_building_matches_the_model) {
  for (const char* pos : all_pos)
    for (int variant = 0; variant < 4; ++variant) {
      ModelConfig c = tiny_gpt(pos);
      c.set("tie_output", bool(variant & 1)).set("norm_first", variant != 2).set("layers", 1 + variant);
      BOOST_TEST_CONTEXT(pos << " variant " << variant) {
        BOOST_TEST(count_parameters(c) == make_model<float>(c, 0)->num_parameters());
      }
    }
}

BOOST_AUTO_TEST_CASE(forward_reads_the_stream_and_gives_logits_at_every_position) {
  auto m = make_model<float>(tiny_gpt(), 1);
  Graph<float> g;
  const SeqBatch b = batch();
  BOOST_TEST((m->forward(g, b).shape() == Shape{4, 8, 9}));
  SeqBatch seq2seq = b;
  seq2seq.len = 0;
  seq2seq.tokens.clear();
  try {
    m->forward(g, seq2seq);
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("one-stream") != std::string::npos, e.what());
  }
}

// Right padding changes no real position's logits (causality hides the pads), and neither does
// a key-padding mask over them.
BOOST_AUTO_TEST_CASE(padding_changes_no_real_position) {
  auto m = make_model<double>(tiny_gpt(), 2);
  Graph<double> g;
  SeqBatch b = batch();
  const std::vector<double> all = m->forward(g, b).values();
  b.tokens_pad.clear();
  for (int t : b.tokens) b.tokens_pad.push_back(t == 0);
  const std::vector<double> masked = m->forward(g, b).values();
  const int64_t L = b.len, V = 9;
  const std::vector<int64_t> real = {8, 5, 8, 4};
  for (int64_t r = 0; r < b.batch; ++r) {
    SeqBatch one = b;
    one.batch = 1;
    one.len = real[r];
    one.tokens.assign(b.tokens.begin() + r * L, b.tokens.begin() + r * L + real[r]);
    one.tokens_pad.clear();
    const std::vector<double> alone = m->forward(g, one).values();
    for (int64_t i = 0; i < real[r] * V; ++i) {
      BOOST_TEST(std::fabs(alone[i] - all[r * L * V + i]) <= 1e-12, "row " << r << " entry " << i);
      BOOST_TEST(std::fabs(alone[i] - masked[r * L * V + i]) <= 1e-12, "row " << r << " entry " << i);
    }
  }
}

BOOST_AUTO_TEST_CASE(cached_decoding_matches_full_recomputation) {
  for (const char* pos : all_pos) {
    check_cached_decoding<float>(pos, false);
    check_cached_decoding<double>(pos, true);
  }
}

// With the output weight zeroed the logits are the output bias whatever the input.
BOOST_AUTO_TEST_CASE(a_dominant_output_bias_decides_the_tokens) {
  auto m = make_model<float>(tiny_gpt(), 1);
  m->eval();
  Parameter<float>* bias = nullptr;
  for (auto& [name, p] : m->named_parameters()) {
    if (name == "out.weight" || name == "out.bias") std::fill(p->value.begin(), p->value.end(), 0.0f);
    if (name == "out.bias") bias = p;
  }
  BOOST_TEST_REQUIRE(bias);
  bias->value[5] = 1.0f;
  Graph<float> g;
  BOOST_TEST((m->greedy_decode(g, batch(), 6, 1, 2) == std::vector<std::vector<int>>(4, std::vector<int>(6, 5))));
  bias->value[2] = 2.0f;
  BOOST_TEST((m->greedy_decode(g, batch(), 6, 1, 2) == std::vector<std::vector<int>>(4)));
}

BOOST_AUTO_TEST_CASE(sampling_is_seeded_greedy_at_temperature_zero_and_keeps_to_top_k) {
  auto owner = make_model<double>(tiny_gpt(), 4);
  auto& m = as_gpt(owner);
  m.eval();
  Graph<double> g;
  const std::vector<int> prompt = {3, 4, 5, 6, 1};
  Rng a(11), b(11), c(12);
  const std::vector<int> s = m.sample(g, prompt, 10, 2.0, 0, a);
  BOOST_TEST(s.size() == 10u);
  BOOST_TEST(s == m.sample(g, prompt, 10, 2.0, 0, b));
  BOOST_TEST(s != m.sample(g, prompt, 10, 2.0, 0, c));
  const std::vector<int> greedy = m.sample(g, prompt, 10, 0.0, 0, a);
  BOOST_TEST(greedy == m.sample(g, prompt, 10, 1.0, 1, a));  // top-1 is greedy at any temperature
  SeqBatch one = streams({{3, 4, 5, 6}}, {{}});
  const std::vector<int> decoded = m.greedy_decode(g, one, 10, 1, 2)[0];
  std::vector<int> until_eos(greedy.begin(), std::find(greedy.begin(), greedy.end(), 2));
  BOOST_TEST(until_eos == decoded);
  // top_k 3: each token is among the 3 largest logits of its step.
  const std::vector<int> k3 = m.sample(g, prompt, 10, 5.0, 3, c);
  std::vector<int> prefix = prompt;
  for (int tok : k3) {
    NoGrad<double> ng(g);
    g.reset();
    const auto l = m.logits(g, prefix, 1, (int64_t)prefix.size()).values();
    std::vector<double> row(l.end() - 9, l.end());
    const double mine = row[tok];
    std::sort(row.begin(), row.end(), std::greater<double>());
    BOOST_TEST(mine >= row[2]);
    prefix.push_back(tok);
  }
  BOOST_CHECK_THROW(m.sample(g, prompt, 3, -1.0, 0, a), Error);
  auto s2s = make_model<double>(ModelConfig::defaults("lstm"), 1);
  try {
    s2s->sample(g, prompt, 3, 1.0, 0, a);
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()) == "lstm cannot sample: it is not a language model");
  }
}

BOOST_AUTO_TEST_CASE(learned_positions_refuse_a_stream_beyond_max_len) {
  ModelConfig c = tiny_gpt("learned");
  c.set("max_len", 5);
  auto m = make_model<float>(c, 0);
  Graph<float> g;
  try {
    m->forward(g, batch());  // streams of 8 > 5
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("max_len") != std::string::npos, e.what());
  }
  BOOST_CHECK_THROW(m->greedy_decode(g, batch(), 4, 1, 2), Error);  // a prompt of 6
  Rng rng(1);
  BOOST_TEST(position_limit(c) == 5);
  BOOST_CHECK_THROW(model_family("gpt").fit_to_data(c, DataShape{9, 5, 4}), Error);  // needs 10
  c.set("pos", "none");
  BOOST_TEST(position_limit(c) == 0);
  BOOST_CHECK_NO_THROW(model_family("gpt").fit_to_data(c, DataShape{9, 5, 4}));
  auto nope = make_model<float>(c, 0);
  BOOST_TEST((nope->forward(g, batch()).shape() == Shape{4, 8, 9}));
  BOOST_TEST(nope->sample(g, {3, 4, 1}, 10, 1.0, 0, rng).size() == 10u);
}

// With a table of W rows, sampling keeps going over the last W tokens, as nanoGPT's generate
// crops its context: each greedy token past the table is the argmax over the window before it.
BOOST_AUTO_TEST_CASE(sampling_beyond_a_position_table_slides_a_window) {
  ModelConfig c = tiny_gpt("learned");
  c.set("max_len", 5);
  auto owner = make_model<double>(c, 3);
  auto& m = as_gpt(owner);
  m.eval();
  Graph<double> g;
  Rng rng(1);
  const std::vector<int> prompt = {3, 4, 5, 6, 7, 8, 3};  // longer than the table: its last 5 count
  const std::vector<int> out = m.sample(g, prompt, 12, 0.0, 0, rng);
  BOOST_TEST(out.size() == 12u);
  std::vector<int> all = prompt;
  for (int tok : out) {
    NoGrad<double> ng(g);
    g.reset();
    const std::vector<int> window(all.end() - 5, all.end());
    const auto l = m.logits(g, window, 1, 5).values();
    BOOST_TEST(tok == int(std::max_element(l.end() - 9, l.end()) - (l.end() - 9)));
    all.push_back(tok);
  }
}

// rope, alibi and none draw the same weights (no table), so any difference in their logits comes
// from the positions inside attention; none of them has a position limit.
BOOST_AUTO_TEST_CASE(rope_and_alibi_act_inside_attention_without_a_table) {
  Graph<double> g;
  ModelConfig c = tiny_gpt("none");
  c.set("max_len", 4);  // shorter than the batch's streams: unused without a table
  auto nope = make_model<double>(c, 5);
  const std::vector<double> base = nope->forward(g, batch()).values();
  for (const char* pos : {"rope", "alibi"}) {
    BOOST_TEST_CONTEXT(pos) {
      c.set("pos", pos);
      BOOST_TEST(position_limit(c) == 0);
      auto m = make_model<double>(c, 5);
      BOOST_TEST(m->num_parameters() == nope->num_parameters());
      const std::vector<double> l = m->forward(g, batch()).values();
      double diff = 0;
      for (size_t i = 0; i < l.size(); ++i) diff = std::max(diff, std::fabs(l[i] - base[i]));
      BOOST_TEST(diff > 1e-3);
      // The first position has nothing to its left: rotation by angle 0 and a zero bias.
      for (int64_t r = 0; r < 4; ++r)
        for (int64_t v = 0; v < 9; ++v) BOOST_TEST(std::fabs(l[r * 8 * 9 + v] - base[r * 8 * 9 + v]) <= 1e-12);
    }
  }
  c.set("heads", 4).set("d_model", 12).set("pos", "rope");  // head width 3
  BOOST_CHECK_THROW(c.validate(), Error);
}

BOOST_AUTO_TEST_CASE(attention_maps_are_causal_per_layer) {
  auto m = make_model<double>(tiny_gpt(), 3);
  m->keep_attention(true);
  Graph<double> g;
  m->forward(g, batch());
  const auto maps = m->attention_maps();
  BOOST_TEST_REQUIRE(maps.size() == 2u);
  BOOST_TEST(maps[1].name == "layers.1.self_attn");
  BOOST_TEST_REQUIRE((maps[0].weights.shape() == Shape{4, 2, 8, 8}));
  const double* w = maps[0].weights.data();
  for (int64_t q = 0; q < 4 * 2 * 8; ++q) {
    double sum = 0;
    for (int64_t k = 0; k < 8; ++k) {
      sum += w[q * 8 + k];
      if (k > q % 8) BOOST_TEST(w[q * 8 + k] == 0.0);
    }
    BOOST_TEST(std::fabs(sum - 1) <= 1e-12);
  }
}

BOOST_AUTO_TEST_CASE(checkpoint_round_trip_gives_the_same_logits) {
  TempDir td;
  for (const char* pos : all_pos) {
    auto m = make_model<float>(tiny_gpt(pos).set("tie_output", true), 3);
    const std::string path = td / (std::string(pos) + ".safetensors");
    save_model(path, *m, {{"vocab", "[]"}});
    auto back = load_model<float>(path);
    Graph<float> g1, g2;
    BOOST_TEST(m->forward(g1, batch()).values() == back->forward(g2, batch()).values(), boost::test_tools::per_element());
  }
}
