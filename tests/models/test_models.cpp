#define BOOST_TEST_MODULE models
#include "tests/common.hpp"
#include "tests/cli_runner.hpp"
#include "tests/float_bounds.hpp"

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "models/checkpoint.hpp"
#include "models/memory_estimate.hpp"
#include "models/transformer.hpp"

using namespace attn;
using attn_test::TempDir;
namespace fs = std::filesystem;

namespace {

ModelConfig tiny(const std::string& type = "transformer") {
  ModelConfig c = ModelConfig::defaults(type);
  c.src_vocab = c.tgt_vocab = 9;
  if (type == "transformer")
    c.set("d_model", 8).set("heads", 2).set("ff", 12).set("enc_layers", 2).set("dec_layers", 2).set("max_len", 12);
  else
    c.set("hidden", 8);
  if (type == "lstm-attn") c.set("heads", 2);
  return c;
}

SeqBatch batch() {
  SeqBatch b;
  b.batch = 3;
  b.src_len = 5;
  b.tgt_len = 4;
  b.src = {3, 4, 5, 6, 7, 8, 3, 4, 0, 0, 5, 5, 6, 7, 0};
  b.src_pad = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1};
  b.tgt_in = {1, 3, 4, 5, 1, 8, 3, 0, 1, 5, 5, 6};
  b.tgt_pad = {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
  return b;
}

// Cached and full decoding compute the same logits with different gemm shapes, so in float32
// they agree only within a rounding bound (tests/float_bounds.hpp): the tiny model's longest path
// has 13 sublayers (2x2 encoder, 2x3 decoder, 2 final norms, the head) and its longest reduction
// is max(d_model 8, ff 12, length 8) = 12 terms. A token is compared only where the top-2 logit
// margin exceeds twice that bound (a tie within rounding may go either way), and a row no further
// than its first such tie, since later steps are fed the token chosen there.
template <class T>
void check_cached_decoding(bool exact_bound) {
  const ModelConfig c = tiny();
  auto owner = make_model<T>(c, 7);
  auto& m = dynamic_cast<Seq2SeqTransformer<T>&>(*owner);
  m.eval();
  Graph<T> g;
  std::vector<std::vector<T>> cached, full;
  // eos = -1: never stops early, so every step's logits are compared.
  const auto a = m.decode_cached(g, batch(), 8, 1, -1, &cached);
  const auto b = greedy_decode_full(m, g, batch(), 8, 1, -1, &full);
  BOOST_TEST_REQUIRE(cached.size() == full.size());
  BOOST_TEST_REQUIRE(a.size() == b.size());
  const int64_t V = c.tgt_vocab, B = (int64_t)a.size();
  const int depth = 2 * (int)c.integer("enc_layers") + 3 * (int)c.integer("dec_layers") + 3;
  const int64_t n = std::max({c.integer("d_model"), c.integer("ff"), (int64_t)8});
  std::vector<bool> live(B, true);
  int64_t compared_tokens = 0;
  for (size_t t = 0; t < full.size(); ++t)
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
      // float64: the same analysis with u = 2^-53 is about 1e-14 here; 1e-12 leaves room for exp.
      const double tol = exact_bound ? 1e-12 : attn_test::f32_network_bound(depth, n, scale);
      BOOST_TEST(worst <= tol, "step " << t << " row " << r << ": max |cached - full| = " << worst << " > " << tol);
      if (top - second <= 2 * tol) {
        live[r] = false;
        continue;
      }
      BOOST_TEST_REQUIRE(t < a[r].size());
      BOOST_TEST(a[r][t] == b[r][t], "step " << t << " row " << r << ": cached token " << a[r][t] << ", full " << b[r][t]);
      ++compared_tokens;
    }
  BOOST_TEST(compared_tokens >= B * (int64_t)full.size() / 2, "too few tokens had a clear margin: " << compared_tokens);
}

}  // namespace

BOOST_AUTO_TEST_CASE(parameter_names_follow_pytorch) {
  auto m = make_model<float>(tiny(), 0);
  std::set<std::string> names;
  for (auto& [n, p] : m->named_parameters()) names.insert(n);
  for (const char* must : {"encoder.layers.0.self_attn.in_proj_weight", "encoder.layers.1.linear2.bias",
                           "decoder.layers.0.multihead_attn.out_proj.weight", "decoder.layers.1.norm3.bias",
                           "encoder.norm.weight", "decoder.norm.bias", "src_emb.weight", "tgt_emb.weight", "pos",
                           "out.weight", "out.bias"})
    BOOST_TEST_CONTEXT(must) { BOOST_TEST(names.count(must) == 1u); }
  auto l = make_model<float>(tiny("lstm-attn"), 0);
  names.clear();
  for (auto& [n, p] : l->named_parameters()) names.insert(n);
  for (const char* must : {"encoder.weight_ih_l0", "decoder.bias_hh_l0", "attn.in_proj_weight", "out.bias"})
    BOOST_TEST_CONTEXT(must) { BOOST_TEST(names.count(must) == 1u); }
}

BOOST_AUTO_TEST_CASE(cached_decoding_matches_full_recomputation) {
  check_cached_decoding<float>(false);
  check_cached_decoding<double>(true);
}

BOOST_AUTO_TEST_CASE(positions_beyond_the_table_are_an_error) {
  ModelConfig c = tiny();
  c.set("max_len", 4);
  auto m = make_model<float>(c, 0);
  Graph<float> g;
  try {
    m->forward(g, batch());  // source length 5 > 4
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("max_len") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(all_models_decode) {
  for (const char* type : {"transformer", "lstm", "lstm-attn"}) {
    auto m = make_model<float>(tiny(type), 1);
    Graph<float> g;
    auto out = m->greedy_decode(g, batch(), 6, 1, 2);
    BOOST_TEST(out.size() == 3u);
    for (auto& seq : out) BOOST_TEST(seq.size() <= 6u);
  }
}

BOOST_AUTO_TEST_CASE(checkpoint_round_trip_gives_the_same_logits) {
  TempDir td;
  for (const char* type : {"transformer", "lstm", "lstm-attn"}) {
    auto m = make_model<float>(tiny(type), 3);
    const std::string path = (td.dir / (std::string(type) + ".safetensors")).string();
    save_model(path, *m, {{"vocab", "[]"}});
    auto back = load_model<float>(path);
    BOOST_TEST(back->config.to_json() == m->config.to_json());
    Graph<float> g1, g2;
    BOOST_TEST(m->forward(g1, batch()).values() == back->forward(g2, batch()).values(), boost::test_tools::per_element());
  }
}

// Each damaged checkpoint gives a CheckpointError that names the problem, never a crash.
BOOST_AUTO_TEST_CASE(damaged_checkpoints_are_rejected_clearly) {
  TempDir td;
  auto m = make_model<float>(tiny(), 3);
  const std::string good = (td.dir / "good.safetensors").string();
  save_model(good, *m);
  const Checkpoint ck = load_safetensors(good);
  auto expect_error = [&](const Checkpoint& bad, const std::string& needle) {
    const std::string path = (td.dir / "bad.safetensors").string();
    save_safetensors(path, bad);
    try {
      load_model<float>(path);
      BOOST_FAIL("no error for " << needle);
    } catch (const CheckpointError& e) {
      BOOST_TEST(std::string(e.what()).find(needle) != std::string::npos, e.what());
    }
  };
  Checkpoint missing = ck;
  missing.tensors.erase(missing.tensors.begin() + 2);
  expect_error(missing, ck.tensors[2].name);
  Checkpoint extra = ck;
  const float z[2] = {0, 0};
  extra.add("decoder.layers.9.bogus", z, {2});
  expect_error(extra, "decoder.layers.9.bogus");
  Checkpoint wrong = ck;
  NamedTensor& t = wrong.tensors[0];
  t.shape = {t.numel()};  // same bytes, wrong shape
  expect_error(wrong, t.name);
  Checkpoint no_config = ck;
  no_config.metadata.erase("model");
  expect_error(no_config, "model config");
  Checkpoint bad_config = ck;
  bad_config.metadata["model"] = R"({"type": "transformer", "d_model": 6, "heads": 4})";
  expect_error(bad_config, "divisible");
  // Truncated and corrupted files.
  std::ifstream in(good, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string path = (td.dir / "cut.safetensors").string();
  for (size_t cut : {size_t(4), size_t(20), bytes.size() / 2, bytes.size() - 1}) {
    std::ofstream(path, std::ios::binary) << bytes.substr(0, cut);
    BOOST_CHECK_THROW(load_model<float>(path), CheckpointError);
  }
  std::string corrupt = bytes;
  corrupt[12] = '\x01';
  std::ofstream(path, std::ios::binary) << corrupt;
  BOOST_CHECK_THROW(load_model<float>(path), CheckpointError);
}

// A steady-state training step allocates no tensor buffer: values, gradients and saved
// activations all come from the graph's arena, which stops growing after the first steps.
BOOST_AUTO_TEST_CASE(steady_state_step_allocates_no_tensor_buffers) {
  for (const char* type : {"transformer", "lstm-attn"}) {
    auto m = make_model<float>(tiny(type), 2);
    Graph<float> g;
    const std::vector<int> targets = {3, 4, 5, 2, 8, 3, 2, 0, 5, 5, 6, 2};
    size_t allocations = 0, capacity = 0;
    for (int step = 0; step < 6; ++step) {
      m->zero_grad();
      g.reset();
      g.backward(cross_entropy(m->forward(g, batch()), targets, 0));
      if (step == 2) {
        allocations = g.arena().heap_allocations();
        capacity = g.arena().capacity();
      }
    }
    BOOST_TEST_CONTEXT(type) {
      BOOST_TEST(g.arena().heap_allocations() == allocations);
      BOOST_TEST(g.arena().capacity() == capacity);
    }
  }
}

// The memory estimate counts parameters without building the model; it must count them right.
BOOST_AUTO_TEST_CASE(parameter_count_without_building_matches_the_model) {
  for (const char* type : {"transformer", "lstm", "lstm-attn"})
    for (int variant = 0; variant < 4; ++variant) {
      ModelConfig c = tiny(type);
      if (std::string(type) == "transformer") {
        c.set("pos", variant & 1 ? "sinusoidal" : "learned").set("share_embeddings", bool(variant & 2));
        c.set("tie_output", variant == 3).set("enc_layers", 1 + variant);
      } else {
        c.set("layers", 1 + variant % 2);
      }
      BOOST_TEST_CONTEXT(type << " variant " << variant) {
        BOOST_TEST(count_parameters(c) == make_model<float>(c, 0)->num_parameters());
      }
    }
}
