#define BOOST_TEST_MODULE probe_cli
#include "tests/common.hpp"

// `attnlab probe` from the command line: the files each probe writes, and one clear error with
// no output for what it cannot probe (known answers: test_probes.cpp).
#include <fmt/core.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "tests/cli_runner.hpp"

using attn_test::attnlab;
using attn_test::slurp;
using attn_test::TempDir;
namespace fs = std::filesystem;

namespace {

const char* kData = "--task copy-memory --task-opt delay=4 --format lm --steps 10 --eval-every 10 --threads 1";

// A tiny trained checkpoint of `model` (extra model flags in `flags`), under t.
std::string train(const TempDir& t, const std::string& name, const std::string& flags) {
  const auto r = attnlab(fmt::format("train {} {} --out '{}'", flags, kData, t / name));
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  return t / (name + "/best.safetensors");
}

size_t lines(const std::string& path) {
  std::istringstream in(slurp(path));
  size_t n = 0;
  for (std::string l; std::getline(in, l);) ++n;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(each_probe_writes_its_csv_and_plots) {
  TempDir t;
  const std::string gpt = train(t, "gpt", "--model gpt --d-model 16 --heads 2 --layers 2 --ff 32");
  const std::string lstm = train(t, "lstm", "--model lstm --hidden 16");
  auto r = attnlab(fmt::format("probe gradflow --checkpoint '{1}' --checkpoint '{2}' --init '--model gru --hidden 8 {0}' "
                               "--init '--model rnn --hidden 8 {0}' --init '--model mamba --d-model 8 {0}' --examples 4 --out '{3}'",
                               kData, gpt, lstm, t / "g"));
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  for (const char* f : {"gradflow.csv", "gradflow.png", "gradflow_source.csv", "gradflow_state.csv", "gradflow_state.png"})
    BOOST_TEST(fs::file_size(t / fmt::format("g/{}", f)) > 0u, f);
  BOOST_TEST(lines(t / "g/gradflow_source.csv") == 6u);  // header and five models
  for (const char* m : {"gru at init,", "rnn at init,", "mamba at init,"})
    BOOST_TEST(slurp(t / "g/gradflow.csv").find(m) != std::string::npos, m);
  const std::string state = slurp(t / "g/gradflow_state.csv");  // the recurrences, not gpt or mamba
  BOOST_TEST(state.find("lstm,") != std::string::npos);
  BOOST_TEST(state.find("rnn at init,") != std::string::npos);
  BOOST_TEST(state.find("mamba") == std::string::npos);
  r = attnlab(fmt::format("probe attention --checkpoint '{}' --examples 4 --out '{}'", gpt, t / "a"));
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  BOOST_TEST(lines(t / "a/attention.csv") == 5u);  // header and 2 layers x 2 heads
  for (const char* s : {"mean_distance", "entropy", "confidence", "source_mass", "previous_token", "induction"})
    BOOST_TEST(fs::file_size(t / fmt::format("a/attention_{}.png", s)) > 0u, s);
  r = attnlab(fmt::format("probe ablate --checkpoint '{}' --examples 20 --out '{}'", gpt, t / "b"));
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  BOOST_TEST(lines(t / "b/ablate.csv") == 6u);  // header, intact, 4 heads
  BOOST_TEST(fs::file_size(t / "b/ablate.png") > 0u);
}

BOOST_AUTO_TEST_CASE(what_a_probe_cannot_read_is_one_error_and_no_output) {
  TempDir t;
  const std::string lstm = train(t, "lstm", "--model lstm --hidden 8");
  struct Case {
    std::string args, says;
  };
  const std::vector<Case> cases = {
      {fmt::format("attention --checkpoint '{}'", lstm), "no attention heads"},
      {fmt::format("ablate --checkpoint '{}'", lstm), "no attention heads"},
      {"gradflow", "give --checkpoint or --init"},
      {fmt::format("gradflow --checkpoint '{}'", t / "missing.safetensors"), "does not exist"},
      {"gradflow --init '--model lstm --no-such-flag 3'", "--no-such-flag"},
      {fmt::format("gradflow --checkpoint '{}' --examples 0", lstm), "--examples must be positive"},
  };
  for (const Case& c : cases) {
    const auto r = attnlab(fmt::format("probe {} --out '{}'", c.args, t / "out"));
    BOOST_TEST(r.code == 2, c.args);
    BOOST_TEST(r.err.find(c.says) != std::string::npos, c.args << ": " << r.err);
    BOOST_TEST(!fs::exists(t / "out"), c.args);
  }
}

namespace {

// Column `name` of each CSV row whose first cell starts with `module`.
std::vector<double> column(const std::string& csv, const std::string& module, const std::string& name) {
  std::istringstream in(csv);
  std::string line, cell;
  std::getline(in, line);
  std::istringstream head(line);
  size_t at = 0;
  for (size_t i = 0; std::getline(head, cell, ','); ++i)
    if (cell == name) at = i;
  std::vector<double> out;
  while (std::getline(in, line)) {
    if (line.rfind(module, 0) != 0) continue;
    std::istringstream row(line);
    for (size_t i = 0; std::getline(row, cell, ','); ++i)
      if (i == at) out.push_back(std::stod(cell));
  }
  return out;
}

}  // namespace

// Encoder-decoders: gradient flow over the source (distances from the source's end, so none is
// 0), the encoder's states for a recurrent one, attention statistics per declared site, and
// ablation of every head.
BOOST_AUTO_TEST_CASE(the_probes_read_encoder_decoders) {
  TempDir t;
  const auto tr = attnlab(fmt::format("train --model transformer --d-model 8 --heads 2 --ff 16 --enc-layers 1 --dec-layers 1 --task copy "
                                      "--steps 5 --eval-every 5 --threads 1 --out '{}'", t / "s2s"));
  BOOST_TEST_REQUIRE(tr.code == 0, tr.err);
  auto r = attnlab(fmt::format("probe gradflow --checkpoint '{}' --init '--model gru-attn --hidden 8 --task copy' --examples 4 --out '{}'",
                               t / "s2s/best.safetensors", t / "g"));
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  const std::string grad = slurp(t / "g/gradflow.csv");
  BOOST_TEST(grad.find("s2s,1,") != std::string::npos, grad);
  BOOST_TEST(grad.find("s2s,0,") == std::string::npos, grad);
  BOOST_TEST(grad.find("gru-attn at init,1,") != std::string::npos, grad);
  const std::string state = slurp(t / "g/gradflow_state.csv");  // the GRU's encoder, not the transformer
  BOOST_TEST(state.find("gru-attn at init,0,1,") != std::string::npos, state);
  BOOST_TEST(state.find("s2s") == std::string::npos, state);
  for (double v : column(slurp(t / "g/gradflow_source.csv"), "s2s", "labels")) BOOST_TEST(v > 0);
  r = attnlab(fmt::format("probe attention --checkpoint '{}' --examples 8 --repeat-length 4 --out '{}'", t / "s2s/best.safetensors", t / "a"));
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  const std::string att = slurp(t / "a/attention.csv");
  BOOST_TEST(lines(t / "a/attention.csv") == 7u, att);  // header, 3 modules x 2 heads
  // Copy's labels each have a source token: cross-attention has mass on it, self-attention none;
  // the repeat scores are of self-attention only.
  for (double v : column(att, "decoder.layers.0.multihead_attn", "source_labels")) BOOST_TEST(v > 0);
  for (double v : column(att, "decoder.layers.0.multihead_attn", "previous_token")) BOOST_TEST(v == -1);
  for (const char* m : {"encoder.layers.0.self_attn", "decoder.layers.0.self_attn"}) {
    for (double v : column(att, m, "source_labels")) BOOST_TEST(v == 0, m);
    for (double v : column(att, m, "previous_token")) BOOST_TEST((v >= 0 && v <= 1), m);
    for (double v : column(att, m, "induction")) BOOST_TEST((v >= 0 && v <= 1), m);
  }
  // Ablation evaluates any model: the encoder's, the decoder's and the cross-attention heads.
  const auto ab = attnlab(fmt::format("probe ablate --checkpoint '{}' --examples 20 --out '{}'", t / "s2s/best.safetensors", t / "ab"));
  BOOST_TEST_REQUIRE(ab.code == 0, ab.err);
  const std::string csv = slurp(t / "ab/ablate.csv");
  for (const char* m : {"encoder.layers.0.self_attn,", "decoder.layers.0.self_attn,", "decoder.layers.0.multihead_attn,"})
    BOOST_TEST(csv.find(m) != std::string::npos, m);
  BOOST_TEST(lines(t / "ab/ablate.csv") == 8u);  // header, intact, 3 modules x 2 heads
}

// The probes read the model in eval mode and draw from their own generator: a run records them
// at step 0 and every N steps without changing its training.
BOOST_AUTO_TEST_CASE(train_probe_every_records_over_training_and_changes_nothing) {
  TempDir t;
  const std::string flags = "--model gpt --d-model 16 --heads 2 --layers 2 --ff 32 --task copy-memory --task-opt delay=4 "
                            "--format lm --steps 20 --eval-every 10 --threads 1";
  auto r = attnlab(fmt::format("train {} --probe-every 10 --out '{}'", flags, t / "p"));
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  r = attnlab(fmt::format("train {} --out '{}'", flags, t / "q"));
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  BOOST_TEST(attn_test::metrics_without_timings(t / "p") == attn_test::metrics_without_timings(t / "q"));
  std::set<std::string> steps;
  std::istringstream in(slurp(t / "p/probes/attention.csv"));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) steps.insert(line.substr(0, line.find(',')));
  BOOST_TEST((steps == std::set<std::string>{"0", "10", "20"}));
  for (const char* f : {"gradflow.csv", "gradflow.png", "attention_source_mass.png"})
    BOOST_TEST(fs::file_size(t / fmt::format("p/probes/{}", f)) > 0u, f);
  // Resumed and extended: the steps so far stay once each, the new ones are added.
  r = attnlab(fmt::format("train --resume '{}' --steps 30", t / "p"));
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  std::multiset<std::string> again;
  std::istringstream in2(slurp(t / "p/probes/gradflow.csv"));
  std::getline(in2, line);
  while (std::getline(in2, line))
    if (line.substr(line.find(',') + 1, 2) == "0,") again.insert(line.substr(0, line.find(',')));  // distance 0: one row per step
  BOOST_TEST((again == std::multiset<std::string>{"0", "10", "20", "30"}));
  // An encoder-decoder records them too.
  r = attnlab(fmt::format("train --model transformer --d-model 8 --heads 2 --ff 16 --task copy --probe-every 5 --steps 5 "
                          "--eval-every 5 --threads 1 --out '{}'", t / "s"));
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  for (const char* f : {"gradflow.csv", "attention.csv", "attention_source_mass.png"})
    BOOST_TEST(fs::file_size(t / fmt::format("s/probes/{}", f)) > 0u, f);
}
