#define BOOST_TEST_MODULE models
#include "tests/common.hpp"
#include "tests/cli_runner.hpp"

#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "models/checkpoint.hpp"
#include "models/transformer.hpp"

using namespace attn;
using attn_test::TempDir;
namespace fs = std::filesystem;

namespace {

ModelConfig tiny(const std::string& type = "transformer") {
  ModelConfig c;
  c.type = type;
  c.src_vocab = c.tgt_vocab = 9;
  c.d_model = 8;
  c.heads = 2;
  c.ff = 12;
  c.enc_layers = c.dec_layers = 2;
  c.max_len = 12;
  c.hidden = 8;
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

template <class T>
void check_cached_decoding(double tol) {
  Seq2SeqTransformer<T> m(tiny(), 7);
  m.eval();
  Graph<T> g;
  std::vector<std::vector<T>> cached, full;
  // eos = -1: never stops early, so every step's logits are compared.
  const auto a = m.decode_cached(g, batch(), 8, 1, -1, &cached);
  const auto b = greedy_decode_full(m, g, batch(), 8, 1, -1, &full);
  BOOST_TEST(a == b);
  BOOST_TEST_REQUIRE(cached.size() == full.size());
  double worst = 0;
  for (size_t t = 0; t < cached.size(); ++t)
    for (size_t i = 0; i < cached[t].size(); ++i) worst = std::max(worst, double(std::fabs(cached[t][i] - full[t][i])));
  BOOST_TEST(worst <= tol, "max |cached - full| = " << worst);
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
  check_cached_decoding<float>(1e-6);
  check_cached_decoding<double>(1e-12);
}

BOOST_AUTO_TEST_CASE(positions_beyond_the_table_are_an_error) {
  ModelConfig c = tiny();
  c.max_len = 4;
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
