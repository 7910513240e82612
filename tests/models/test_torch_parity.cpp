#define BOOST_TEST_MODULE torch_parity
#include "tests/common.hpp"
#include "tests/cli_runner.hpp"
#include "tests/float_bounds.hpp"

// Parity with PyTorch (Debian's python3-torch): the same weights, loaded from an attnlab
// checkpoint into a PyTorch twin (tests/torch/twin.py), the same inputs with causal and padding
// masks, in train mode with dropout 0. Logits, loss and every parameter gradient must agree:
// norm-wise relative error <= 1e-10 in float64, and within a derived rounding bound in float32.
#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "models/checkpoint.hpp"
#include "models/family.hpp"

using namespace attn;
namespace fs = std::filesystem;

namespace {

struct Outputs {
  std::map<std::string, std::vector<double>> t;  // logits, loss, grad.<name>
};

SeqBatch make_batch(Rng& rng, int64_t B, int64_t S, int64_t T, int64_t V, std::vector<int>& targets) {
  SeqBatch b;
  b.batch = B;
  b.src_len = S;
  b.tgt_len = T;
  for (int64_t i = 0; i < B; ++i) {
    const int64_t len = S - (i % 3);  // some sequences padded, none fully
    for (int64_t t = 0; t < S; ++t) {
      b.src.push_back(t < len ? 3 + int(rng.below(V - 3)) : 0);
      b.src_pad.push_back(t >= len);
    }
    const int64_t tl = T - (i % 2);
    for (int64_t t = 0; t < T; ++t) {
      b.tgt_in.push_back(t == 0 ? 1 : t < tl ? 3 + int(rng.below(V - 3)) : 0);
      b.tgt_pad.push_back(t >= tl);
      targets.push_back(t < tl ? 2 + int(rng.below(V - 2)) : 0);  // 0 = PAD, ignored
    }
  }
  return b;
}

// The same rows as one stream each (source, SEP, decoder input after its BOS), right-padded, with
// a key-padding mask over the pads and a label at every real position.
SeqBatch add_streams(SeqBatch b, Rng& rng, int64_t V, std::vector<int>& targets) {
  const std::vector<int> src_len = b.src_lengths();
  std::vector<std::vector<int>> rows;
  for (int64_t i = 0; i < b.batch; ++i) {
    std::vector<int> r(b.src.begin() + i * b.src_len, b.src.begin() + i * b.src_len + src_len[i]);
    r.push_back(1);
    for (int64_t t = 1; t < b.tgt_len && !b.tgt_pad[i * b.tgt_len + t]; ++t) r.push_back(b.tgt_in[i * b.tgt_len + t]);
    b.len = std::max(b.len, (int64_t)r.size());
    rows.push_back(r);
  }
  targets.clear();
  for (auto& r : rows) {
    for (int64_t t = 0; t < b.len; ++t) {
      const bool real = t < (int64_t)r.size();
      b.tokens.push_back(real ? r[t] : 0);
      b.tokens_pad.push_back(!real);
      targets.push_back(real ? 2 + int(rng.below(V - 2)) : 0);
    }
  }
  return b;
}

template <class T>
Outputs run_ours(Seq2SeqModel<T>& m, const SeqBatch& b, const std::vector<int>& targets, double smoothing) {
  Graph<T> g;
  m.zero_grad();
  Tensor<T> logits = m.forward(g, b);
  Tensor<T> loss = cross_entropy(logits, targets, 0, smoothing);
  g.backward(loss);
  Outputs o;
  auto as_double = [](const std::vector<T>& v) { return std::vector<double>(v.begin(), v.end()); };
  o.t["logits"] = as_double(logits.values());
  o.t["loss"] = {double(loss.item())};
  for (auto& [name, p] : m.named_parameters()) o.t["grad." + name] = as_double(p->grad);
  return o;
}

Outputs run_torch(const fs::path& dir, const std::string& ckpt, const SeqBatch& b, const std::vector<int>& targets,
                  double smoothing, const char* dtype) {
  const fs::path batch = dir / "batch.json", out = dir / fmt::format("torch_{}.safetensors", dtype);
  nlohmann::json j = {{"batch", b.batch},     {"src_len", b.src_len}, {"tgt_len", b.tgt_len},
                      {"src", b.src},         {"tgt_in", b.tgt_in},   {"src_pad", b.src_pad},
                      {"targets", targets},   {"ignore_index", 0},    {"label_smoothing", smoothing},
                      {"len", b.len},         {"tokens", b.tokens},   {"tokens_pad", b.tokens_pad}};
  std::ofstream(batch) << j.dump();
  const std::string cmd = fmt::format("/usr/bin/python3 {}/tests/torch/twin.py {} {} {} --dtype {}", ATTNLAB_SOURCE_DIR,
                                      ckpt, batch.string(), out.string(), dtype);
  const int rc = std::system(cmd.c_str());
  BOOST_TEST_REQUIRE(rc == 0, "the PyTorch twin failed (python3-torch installed?): " << cmd);
  Checkpoint ck = load_safetensors(out.string());
  Outputs o;
  for (const NamedTensor& t : ck.tensors) {
    std::vector<double> v(t.numel());
    read_tensor(ck, t.name, v.data(), v.size(), out.string());
    o.t[t.name] = v;
  }
  return o;
}

using attn_test::normwise;

void check_parity(const ModelConfig& c, double smoothing) {
  attn_test::TempDir fx;
  const int64_t B = 4, S = 6, T = 5;
  Rng rng(42);
  std::vector<int> targets;
  const bool stream = c.resolved_format() == "lm";
  const bool ssm = c.type == "mamba";
  SeqBatch b = make_batch(rng, B, S, T, c.src_vocab, targets);
  if (stream) b = add_streams(b, rng, c.src_vocab, targets);
  auto m64 = make_model<double>(c, 3);
  const std::string ckpt = (fx.dir / "model.safetensors").string();
  save_model(ckpt, *m64);

  // float64: the authoritative comparison.
  const Outputs ours = run_ours(*m64, b, targets, smoothing);
  const Outputs theirs = run_torch(fx.dir, ckpt, b, targets, smoothing, "f64");
  BOOST_TEST(ours.t.size() == theirs.t.size());
  double worst = 0;
  for (auto& [name, v] : theirs.t)
    if (ours.t.count(name) && ours.t.at(name).size() == v.size()) worst = std::max(worst, normwise(ours.t.at(name), v));
  const std::string label = c.to_json().dump();
  BOOST_TEST_MESSAGE(label << ": worst float64 norm-wise relative error " << worst
                            << " over " << theirs.t.size() << " tensors");
  for (auto& [name, v] : theirs.t) {
    BOOST_TEST_CONTEXT(label << " f64 " << name) {
      BOOST_TEST_REQUIRE(ours.t.count(name) == 1u);
      BOOST_TEST_REQUIRE(ours.t.at(name).size() == v.size());
      BOOST_TEST(normwise(ours.t.at(name), v) <= 1e-10);
    }
  }

  // float32: a check of the training precision, from the same checkpoint, within the rounding
  // bound of tests/float_bounds.hpp. The longest path has `depth` sublayers (a Transformer's
  // attention, feed-forward and norm blocks, or an LSTM's time steps times layers); gradients run
  // that path forward and back, twice the depth. n is the longest reduction.
  // A recurrent model's steps: source and target, or the stream. Mamba's scan is a recurrence
  // too: one rounding per position on top of each block's norm, in_proj, conv, x_proj, dt_proj,
  // gate and out_proj.
  const bool recurrent = c.fields.count("hidden") == 1;
  const int64_t steps = stream ? b.len : S + T, rows = stream ? B * b.len : B * T;
  const int depth = recurrent ? int(steps) * (int)c.integer("layers") + 4
                    : ssm     ? (int(b.len) + 7) * (int)c.integer("layers") + 2
                    : stream  ? 2 * (int)c.integer("layers") + 2
                              : 2 * (int)c.integer("enc_layers") + 3 * (int)c.integer("dec_layers") + 3;
  // (an LSTM's gate pre-activation sums input and hidden: 2 * hidden terms)
  const int64_t n = recurrent ? std::max({2 * c.integer("hidden"), steps, rows})
                    : ssm     ? std::max({c.integer("expand") * c.integer("d_model"), b.len, B * b.len})
                    : stream  ? std::max({c.integer("d_model"), c.integer("ff"), b.len, B * b.len})
                              : std::max({c.integer("d_model"), c.integer("ff"), S, T, B * T});
  auto m32 = load_model<float>(ckpt);
  const Outputs o32 = run_ours(*m32, b, targets, smoothing);
  const Outputs t32 = run_torch(fx.dir, ckpt, b, targets, smoothing, "f32");
  for (auto& [name, v] : t32.t) {
    BOOST_TEST_CONTEXT(label << " f32 " << name) {
      const std::vector<double>& a = o32.t.at(name);
      const bool value = name == "logits" || name == "loss";
      double scale = 0, worst = 0;
      for (size_t i = 0; i < v.size(); ++i) {
        scale = std::max(scale, std::fabs(v[i]));
        worst = std::max(worst, std::fabs(a[i] - v[i]));
      }
      const double tol = attn_test::f32_network_bound(value ? depth : 2 * depth, n, scale);
      BOOST_TEST(worst <= tol, "max |ours - torch| = " << worst << " > bound " << tol);
    }
  }
}

ModelConfig transformer(bool norm_first) {
  ModelConfig c = ModelConfig::defaults("transformer");
  c.src_vocab = c.tgt_vocab = 11;
  c.set("d_model", 8).set("heads", 2).set("ff", 16).set("enc_layers", 2).set("dec_layers", 2).set("max_len", 7);
  c.set("norm_first", norm_first);
  return c;
}

ModelConfig recurrent(const std::string& type, int hidden, int layers) {
  ModelConfig c = ModelConfig::defaults(type);
  c.src_vocab = c.tgt_vocab = 11;
  c.set("hidden", hidden).set("layers", layers);
  if (c.fields.count("heads")) c.set("heads", 2);  // the -attn families
  return c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(transformer_pre_ln_matches_pytorch) { check_parity(transformer(true), 0.0); }
BOOST_AUTO_TEST_CASE(transformer_post_ln_matches_pytorch) { check_parity(transformer(false), 0.1); }
// RoPE and ALiBi in the encoder's and decoder's self-attention, never in cross-attention.
BOOST_AUTO_TEST_CASE(transformer_rope_and_alibi_match_pytorch) {
  check_parity(transformer(true).set("pos", "rope").set("rope_base", 100.0), 0.0);
  check_parity(transformer(false).set("pos", "alibi"), 0.1);
}

// gpt against reference/torch_gpt_step.py's CausalLM (tests/torch/twin.py), on right-padded
// streams with a key-padding mask: the reference layout, then each other position encoding with
// the other layer options (RoPE through a written-out attention, ALiBi as a float mask).
ModelConfig gpt(const char* pos) {
  ModelConfig c = ModelConfig::defaults("gpt");
  c.src_vocab = c.tgt_vocab = 11;
  c.set("d_model", 8).set("heads", 2).set("ff", 16).set("layers", 2).set("max_len", 11).set("pos", pos);
  return c;
}

BOOST_AUTO_TEST_CASE(gpt_matches_pytorch) {
  check_parity(gpt("learned"), 0.0);
  check_parity(gpt("sinusoidal").set("norm_first", false).set("activation", "relu").set("tie_output", true), 0.1);
  check_parity(gpt("none"), 0.0);
  check_parity(gpt("rope").set("rope_base", 100.0), 0.0);
  check_parity(gpt("alibi").set("tie_output", true), 0.1);
}

// mamba against tests/torch/mamba_twin.py (the sequential scan in plain torch): selective, with
// dt_rank auto (1); then time-invariant (--ssm-lti), tied, with a wider dt_rank unused by it.
ModelConfig mamba() {
  ModelConfig c = ModelConfig::defaults("mamba");
  c.src_vocab = c.tgt_vocab = 11;
  c.set("d_model", 8).set("layers", 2).set("d_state", 4).set("d_conv", 3).set("expand", 2);
  return c;
}

BOOST_AUTO_TEST_CASE(mamba_matches_pytorch) {
  check_parity(mamba(), 0.0);
  check_parity(mamba().set("d_conv", 4).set("dt_rank", 3).set("d_state", 9), 0.1);  // vectors and a remainder
  check_parity(mamba().set("ssm_lti", true).set("tie_output", true), 0.1);
}

BOOST_AUTO_TEST_CASE(lstm_matches_pytorch) {
  check_parity(recurrent("lstm", 6, 2), 0.0);
}

BOOST_AUTO_TEST_CASE(lstm_attention_matches_pytorch) {
  check_parity(recurrent("lstm-attn", 6, 1), 0.0);
}

// GRU and Elman RNN against nn.GRU and nn.RNN: two layers without attention, one with it.
BOOST_AUTO_TEST_CASE(gru_matches_pytorch) { check_parity(recurrent("gru", 6, 2), 0.0); }
BOOST_AUTO_TEST_CASE(gru_attention_matches_pytorch) { check_parity(recurrent("gru-attn", 6, 1), 0.1); }
BOOST_AUTO_TEST_CASE(rnn_matches_pytorch) { check_parity(recurrent("rnn", 6, 2), 0.0); }
BOOST_AUTO_TEST_CASE(rnn_attention_matches_pytorch) { check_parity(recurrent("rnn-attn", 6, 1), 0.1); }

// The one-stream recurrent language models (format lm) against the cell over the stream.
BOOST_AUTO_TEST_CASE(recurrent_language_models_match_pytorch) {
  for (const char* kind : {"lstm", "gru", "rnn"}) {
    ModelConfig c = recurrent(kind, 6, 2);
    c.format = "lm";
    check_parity(c, 0.1);
  }
}

BOOST_AUTO_TEST_CASE(reference_parameter_counts) {
  // The reference's S, M and L shapes (torch_train_step.py): 240,912, 948,752 and 5,608,464.
  struct S {
    int64_t d, ff;
    int heads, layers;
    int64_t len, count;
  };
  for (const S& s : {S{64, 256, 4, 2, 64, 240912}, S{128, 512, 8, 2, 128, 948752}, S{256, 1024, 8, 3, 256, 5608464}}) {
    ModelConfig c = ModelConfig::defaults("transformer");
    c.src_vocab = c.tgt_vocab = 16;
    c.set("d_model", FieldValue(s.d)).set("ff", FieldValue(s.ff)).set("heads", s.heads);
    c.set("enc_layers", s.layers).set("dec_layers", s.layers).set("max_len", FieldValue(s.len));
    BOOST_TEST(make_model<float>(c, 0)->num_parameters() == s.count);
  }
}
