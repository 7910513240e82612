#define BOOST_TEST_MODULE registry
#include "tests/common.hpp"
#include "tests/cli_runner.hpp"

// The model-family registry: what `attnlab models` lists, the field declarations every flag and
// JSON key is derived from, configs written before the registry, and the rule that no family's
// name is compared outside its own files.
#include <filesystem>
#include <fstream>
#include <cmath>
#include <map>
#include <regex>
#include <set>

#include "autograd/shape.hpp"
#include "models/family.hpp"
#include "models/memory_estimate.hpp"
#include "train/errors.hpp"
#include "train/train_config.hpp"

using namespace attn;
using attn_test::attnlab;
using attn_test::contains;
namespace fs = std::filesystem;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Lines of `text` that compare a string with one of `names` (==, !=, compare()).
std::vector<std::string> comparisons(const std::string& text, const std::vector<std::string>& names) {
  std::vector<std::string> hits;
  for (const std::string& n : names) {
    const std::string q = "\"" + std::regex_replace(n, std::regex("[-]"), "\\-") + "\"";
    const std::regex cmp("(==|!=)\\s*" + q + "|" + q + "\\s*(==|!=)|compare\\(\\s*" + q);
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
      if (std::regex_search(line, cmp)) hits.push_back(line);
  }
  return hits;
}

bool is_family_file(const fs::path& p) {
  return p.parent_path().filename() == "models" && p.filename().string().rfind("family_", 0) == 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(models_json_lists_the_families_with_fields_and_capabilities) {
  const auto r = attnlab("models --json");
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  std::vector<std::string> names;
  for (const auto& f : j) names.push_back(f["name"]);
  BOOST_TEST((names == std::vector<std::string>{"transformer", "gpt", "lstm", "lstm-attn", "gru", "gru-attn", "rnn",
                                                "rnn-attn", "mamba"}));
  for (const auto& f : j) {
    BOOST_TEST_CONTEXT(f["name"]) {
      BOOST_TEST(!f["description"].get<std::string>().empty());
      BOOST_TEST(f["fields"].size() >= 3u);
      for (const auto& field : f["fields"])
        for (const char* k : {"name", "flag", "type", "default", "help"}) BOOST_TEST(field.contains(k), k);
      const auto& c = f["capabilities"];
      // gpt and mamba read streams only; the recurrent families without attention both layouts.
      const std::string name = f["name"];
      const bool both = name == "lstm" || name == "gru" || name == "rnn";
      BOOST_TEST(c["formats"] == (name == "gpt" || name == "mamba" ? nlohmann::json::array({"lm"})
                                  : both                           ? nlohmann::json::array({"seq2seq", "lm"})
                                                                   : nlohmann::json::array({"seq2seq"})));
      for (const char* k : {"decoding", "attention_maps", "bounded_positions"}) BOOST_TEST(c.contains(k), k);
    }
  }
  BOOST_TEST(j[0]["capabilities"]["decoding"] == "kv-cache");
  BOOST_TEST(j[0]["capabilities"]["bounded_positions"] == true);
  BOOST_TEST(j[0]["capabilities"]["attention_maps"].size() == 3u);
  BOOST_TEST(j[1]["capabilities"]["decoding"] == "kv-cache");
  BOOST_TEST((j[1]["capabilities"]["attention_maps"] ==
              nlohmann::json::parse(R"([{"name": "layers.N.self_attn", "queries": "stream", "keys": "stream",
                                         "causal": true}])")));
  BOOST_TEST(j[2]["capabilities"]["attention_maps"].empty());
  BOOST_TEST(j[3]["capabilities"]["attention_maps"][0]["keys"] == "source");
  for (int i : {4, 6}) BOOST_TEST(j[i]["capabilities"]["attention_maps"].empty());
  for (int i : {5, 7}) BOOST_TEST(j[i]["capabilities"]["attention_maps"][0]["keys"] == "source");
  BOOST_TEST(j[8]["capabilities"]["decoding"] == "recurrent-state");
  BOOST_TEST(j[8]["capabilities"]["attention_maps"].empty());
  const auto text = attnlab("models");
  BOOST_TEST(text.code == 0);
  BOOST_TEST(contains(text.out, "lstm-attn: "));
  BOOST_TEST(contains(text.out, "gru: "));
  BOOST_TEST(contains(text.out, "rnn-attn: "));
  BOOST_TEST(contains(text.out, "gpt: "));
  BOOST_TEST(contains(text.out, "mamba: "));
}

// The rule: a family's name is compared only in models/family_*.cpp. A new comparison anywhere
// else in the sources fails here.
BOOST_AUTO_TEST_CASE(no_model_type_is_compared_outside_its_family_files) {
  const std::vector<std::string> names = model_family_names();
  std::vector<std::string> found;
  int scanned = 0;
  for (const char* dir : {"autograd", "nn", "models", "train", "data", "bench"})
    for (const auto& e : fs::recursive_directory_iterator(fs::path(ATTNLAB_SOURCE_DIR) / dir)) {
      const fs::path& p = e.path();
      if (!e.is_regular_file() || (p.extension() != ".cpp" && p.extension() != ".hpp" && p.extension() != ".inl"))
        continue;
      ++scanned;
      if (is_family_file(p)) continue;
      for (const std::string& line : comparisons(attn_test::slurp(p.string()), names))
        found.push_back(p.string() + ": " + line);
    }
  BOOST_TEST(scanned > 50);
  for (const std::string& f : found) BOOST_ERROR("model type compared outside its family's files: " << f);
}

BOOST_AUTO_TEST_CASE(the_comparison_scan_finds_what_it_should) {
  const std::vector<std::string> names = {"transformer", "lstm-attn"};
  BOOST_TEST(comparisons("if (c.type == \"transformer\") {", names).size() == 1u);
  BOOST_TEST(comparisons("bool a = \"lstm-attn\" != t;", names).size() == 1u);
  BOOST_TEST(comparisons("if (!t.compare(\"lstm-attn\"))", names).size() == 1u);
  BOOST_TEST(comparisons("const char* d = \"transformer\";  // a default", names).empty());
  BOOST_TEST(comparisons("x == \"transformers\"", names).empty());
  BOOST_TEST(is_family_file("/x/models/family_gru.cpp"));
  BOOST_TEST(!is_family_file("/x/train/family_gru.cpp"));
}

BOOST_AUTO_TEST_CASE(every_family_builds_at_its_defaults_and_counts_its_parameters) {
  for (const ModelFamily* f : model_families()) {
    BOOST_TEST_CONTEXT(f->name) {
      ModelConfig c = ModelConfig::defaults(f->name);
      c.src_vocab = c.tgt_vocab = 7;
      f->fit_to_data(c, DataShape{7, 5, 4});
      BOOST_TEST_REQUIRE(error_of([&] { c.validate(); }) == "");
      auto m = make_model<float>(c, 1);
      BOOST_TEST(count_parameters(c) == m->num_parameters());
      BOOST_TEST(m->config.type == f->name);
      BOOST_TEST(ModelConfig::from_json(c.to_json()).to_json() == c.to_json());
      BOOST_TEST(estimate_training_memory(c, 4, 5, 5, 1, 2).total() > 0);
      std::vector<GradCase> cases;
      f->gradcheck_cases(cases);
      BOOST_TEST(!cases.empty());
    }
  }
}

// The state a decoder carries, at the defaults and 10 tokens of context, worked by hand from
// each model's definition: a KV cache is 2 x layers x d per token; an LSTM layer carries h and c;
// an -attn decoder also keeps the encoder's outputs; a Mamba block its ED x N state and the
// convolution's last K - 1 inputs.
BOOST_AUTO_TEST_CASE(every_family_states_the_floats_it_carries) {
  const std::map<std::string, double> want = {
      {"transformer", 2 * 2 * 64 * 10}, {"gpt", 2 * 2 * 64 * 10},   {"lstm", 2 * 128},
      {"lstm-attn", 2 * 128 + 128 * 10}, {"gru", 128},            {"gru-attn", 128 + 128 * 10},
      {"rnn", 128},                      {"rnn-attn", 128 + 128 * 10}, {"mamba", 2 * 128 * (16 + 4 - 1)}};
  for (const ModelFamily* f : model_families()) {
    BOOST_TEST_CONTEXT(f->name) {
      BOOST_TEST_REQUIRE(want.count(f->name) == 1u);  // a new family adds its line here
      ModelConfig c = ModelConfig::defaults(f->name);
      c.src_vocab = c.tgt_vocab = 7;
      f->fit_to_data(c, DataShape{7, 5, 4});
      BOOST_TEST(state_floats(c, 10) == want.at(f->name));
    }
  }
}

BOOST_AUTO_TEST_CASE(fields_check_types_and_ranges) {
  const FieldSpec heads = int_field("heads", 4, "Attention heads", 1);
  BOOST_TEST(contains(error_of([&] { heads.check(FieldValue(int64_t(0)), "--heads"); }), "--heads must be in [1, 2^31), got 0"));
  BOOST_TEST(contains(error_of([&] { heads.check(FieldValue(2.5), "--heads"); }), "must be a int"));
  BOOST_TEST(contains(error_of([&] { heads.from_json(nlohmann::json::parse("1e300")); }), "'heads' must be a int"));
  BOOST_TEST(contains(error_of([&] { heads.from_json(nlohmann::json(uint64_t(1) << 63)); }), "'heads' must be a int"));
  BOOST_TEST(std::get<int64_t>(heads.from_json(nlohmann::json(8))) == 8);
  const FieldSpec pos = choice_field("pos", "learned", {"learned", "sinusoidal"}, "Positions");
  BOOST_TEST(contains(error_of([&] { pos.check(FieldValue(std::string("rope")), "--pos"); }), "unknown value 'rope'"));
  const FieldSpec drop = real_field("dropout", 0.0, "Dropout", 0, 0.5);
  BOOST_TEST(contains(error_of([&] { drop.check(FieldValue(std::nan("")), "--dropout"); }), "--dropout must be in"));
  BOOST_TEST(describe_range(heads) == "[1, 2^31)");
  BOOST_TEST(describe_range(pos) == "learned | sinusoidal");
}

// Checkpoints and config.json files written before the registry held one flat config with every
// family's fields; they still load, taking the fields of their own family.
BOOST_AUTO_TEST_CASE(configs_written_before_the_registry_still_load) {
  const nlohmann::json flat = {{"type", "lstm-attn"}, {"src_vocab", 9},     {"tgt_vocab", 9},       {"d_model", 32},
                               {"heads", 2},          {"ff", 256},          {"enc_layers", 2},      {"dec_layers", 2},
                               {"dropout", 0.0},      {"norm_first", true}, {"activation", "relu"}, {"pos", "learned"},
                               {"max_len", 12},       {"share_embeddings", false}, {"tie_output", false},
                               {"hidden", 32},        {"layers", 1}};
  const ModelConfig c = ModelConfig::from_json(flat);
  // (forget_bias and chrono_init came later: their defaults, which leave the init unchanged)
  BOOST_TEST(c.to_json() == (nlohmann::json{{"type", "lstm-attn"}, {"src_vocab", 9}, {"tgt_vocab", 9}, {"hidden", 32},
                                            {"layers", 1}, {"dropout", 0.0}, {"heads", 2}, {"forget_bias", 0.0},
                                            {"chrono_init", 0}}));
  nlohmann::json bad = flat;
  bad["hiden"] = 3;
  BOOST_TEST(contains(error_of([&] { ModelConfig::from_json(bad); }), "unknown key 'hiden'"));
  // A run's config.json of the old kind: every family's fields, no config_version.
  nlohmann::json run = {{"model", "lstm"}, {"d_model", 64}, {"ff", 256}, {"hidden", 48}, {"steps", 10}};
  const TrainArgs a = TrainArgs::from_json(run);
  BOOST_TEST(a.model_fields.size() == 1u);
  BOOST_TEST(std::get<int64_t>(a.model_fields.at("hidden")) == 48);
  // A newer file must not carry another family's field: that would be ignored silently.
  run["config_version"] = 2;
  BOOST_TEST(contains(error_of([&] { TrainArgs::from_json(run); }), "'d_model' is not a setting of model 'lstm'"));
  run.erase("d_model");
  run.erase("ff");
  BOOST_TEST(TrainArgs::from_json(run).to_json() == TrainArgs::from_json(TrainArgs::from_json(run).to_json()).to_json());
}

// Checkpoints written by attnlab before the registry (tests/models/fixtures/README.md) load and
// evaluate to the numbers that version printed. Accuracies are counts over 200 examples and must
// match exactly; the loss is a float32 forward pass (about ten layers, reductions of at most 64
// terms: relative rounding below 10 * 64 * 2^-24 = 4e-5 on any kernels), so it gets 1e-4.
BOOST_AUTO_TEST_CASE(checkpoints_written_before_the_registry_evaluate_as_before) {
  const std::string dir = std::string(ATTNLAB_SOURCE_DIR) + "/tests/models/fixtures/";
  const nlohmann::json expected = nlohmann::json::parse(attn_test::slurp(dir + "pre_registry_eval.json"));
  for (const char* name : {"pre_registry_lstm_attn", "pre_registry_transformer"}) {
    BOOST_TEST_CONTEXT(name) {
      const auto r = attnlab(std::string("eval --checkpoint ") + dir + name + ".safetensors --eval-examples 200 --json");
      BOOST_TEST_REQUIRE(r.code == 0, r.err);
      const nlohmann::json got = nlohmann::json::parse(r.out), want = expected[name];
      for (const char* k : {"sequence_accuracy", "token_accuracy", "examples", "accuracy_by_distance", "data"})
        BOOST_TEST(got[k] == want[k], k << ": " << got[k] << " against " << want[k]);
      const double loss = got["loss"], want_loss = want["loss"];
      BOOST_TEST(std::fabs(loss - want_loss) <= 1e-4 * want_loss, loss << " against " << want_loss);
    }
  }
}

BOOST_AUTO_TEST_CASE(flags_that_do_not_apply_to_the_model_are_refused) {
  const auto r = attnlab("train --model lstm --ff 64 --dry-run");
  BOOST_TEST(r.code == 2);
  BOOST_TEST(contains(r.err, "--ff does not apply to --model lstm"), r.err);
  const auto f = attnlab("train --format lm --dry-run");
  BOOST_TEST(f.code == 2);
  BOOST_TEST(contains(f.err, "does not take --format lm"), f.err);
}
