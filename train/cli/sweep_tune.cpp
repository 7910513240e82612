// `attnlab sweep --tune-lr`: each model's learning rate chosen on validation, at one value of the
// swept knob, before the grid runs. Tuning runs never read the test split (--skip-test); the
// grid's runs then read it once, in their final evaluation.
#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "train/cli/cli.hpp"
#include "train/cli/sweep.hpp"
#include "train/run_files.hpp"

namespace attn::cli {

namespace {

double parse_rate(const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  if (used != text.size() || !(v > 0)) throw UsageError(fmt::format("sweep: --tune-lr '{}' is not a positive rate", text));
  return v;
}

struct Score {
  double accuracy = 0, loss = 0;  // means over the tuning seeds
  std::vector<std::string> runs;
};

Score score(const std::string& dir, const Tuning& t, const std::string& model, const std::string& rate) {
  Score s;
  for (const Run& r : t.grid) {
    if (r.model != model || r.args.lr != parse_rate(rate)) continue;
    const std::string path = dir + "/tune/" + r.id + "/summary.json";
    std::ifstream in(path);
    if (!in) throw UsageError(fmt::format("sweep: {} is missing: the tuning run did not finish", path));
    const nlohmann::json j = nlohmann::json::parse(in);
    if (j.contains("test_sequence_accuracy") || j.value("test_split_reads", 0) != 0)
      throw UsageError(fmt::format("sweep: {} read the test split; a tuning run must not", path));
    s.accuracy += j.at("best_val_sequence_accuracy").get<double>();
    s.loss += j.at("best_val_loss").get<double>();
    s.runs.push_back("tune/" + r.id);
  }
  s.accuracy /= (double)s.runs.size();
  s.loss /= (double)s.runs.size();
  return s;
}

}  // namespace

Tuning plan_tuning(const SweepArgs& a, const std::string& name, const std::vector<std::string>& values) {
  Tuning t;
  if (a.tune_lr.empty()) {
    if (a.tune_only) throw UsageError("sweep: --tune-only needs --tune-lr");
    return t;
  }
  if (!a.model_lr.empty() || !a.lr_from.empty() || name == "lr")
    throw UsageError("sweep: --tune-lr chooses the learning rate; it takes neither --model-lr, --lr-from nor --vary lr");
  if (a.tune_seeds < 1) throw UsageError("sweep: --tune-seeds must be positive");
  t.rates = split_list(a.tune_lr);
  if (t.rates.size() < 2) throw UsageError("sweep: --tune-lr needs at least two rates");
  std::sort(t.rates.begin(), t.rates.end(), [](const std::string& x, const std::string& y) { return parse_rate(x) < parse_rate(y); });
  if (std::adjacent_find(t.rates.begin(), t.rates.end(), [](const std::string& x, const std::string& y) {
        return parse_rate(x) == parse_rate(y);
      }) != t.rates.end())
    throw UsageError(fmt::format("sweep: --tune-lr {} lists a rate twice", a.tune_lr));
  t.at = a.tune_at.empty() ? values[(values.size() - 1) / 2] : a.tune_at;
  if (std::find(values.begin(), values.end(), t.at) == values.end())
    throw UsageError(fmt::format("sweep: --tune-at {} is not one of the swept values", t.at));
  SweepArgs tuning = a;
  tuning.train.skip_test = true;
  const std::vector<Variant> variants = parse_variants(a.variants);
  for (const std::string& m : split_list(a.models)) {
    t.definitions[m] = model_definition(variants, m);
    for (const std::string& rate : t.rates)
      for (int s = 0; s < a.tune_seeds; ++s)
        t.grid.push_back(make_run(tuning, m, name, t.at, (int)a.train.seed + s, parse_rate(rate)));
  }
  return t;
}

std::string choose_learning_rates(const std::string& dir, const Tuning& t) {
  nlohmann::json out = {{"rates", t.rates}, {"at", t.at}, {"selection", "highest mean best validation sequence accuracy; "
                                                                        "ties to the lower mean best validation loss"},
                        {"models", nlohmann::json::object()}};
  std::vector<std::string> chosen;
  std::vector<std::string> models;
  for (const Run& r : t.grid)
    if (std::find(models.begin(), models.end(), r.model) == models.end()) models.push_back(r.model);
  for (const std::string& m : models) {
    nlohmann::json rows = nlohmann::json::array();
    std::string best;
    Score best_score;
    for (const std::string& rate : t.rates) {
      const Score s = score(dir, t, m, rate);
      rows.push_back({{"lr", parse_rate(rate)}, {"val_sequence_accuracy", s.accuracy}, {"val_loss", s.loss}, {"runs", s.runs}});
      if (best.empty() || s.accuracy > best_score.accuracy ||
          (s.accuracy == best_score.accuracy && s.loss < best_score.loss)) {
        best = rate;
        best_score = s;
      }
    }
    out["models"][m] = {{"chosen_lr", parse_rate(best)}, {"definition", t.definitions.at(m)}, {"trials", rows}};
    chosen.push_back(m + "=" + best);
    fmt::print(stderr, "tune: {} lr {} (mean best validation sequence accuracy {:.4f}, loss {:.4f})\n", m, best,
               best_score.accuracy, best_score.loss);
  }
  RunFiles(dir).write_json("tuning.json", out);
  return join(chosen, ",");
}

std::string read_tuning(const std::string& path, const std::vector<std::string>& models,
                        const std::vector<Variant>& variants) {
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("sweep: --lr-from {}: cannot be read", path));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw UsageError(fmt::format("sweep: --lr-from {}: not JSON ({})", path, e.what()));
  }
  std::vector<std::string> chosen;
  for (const std::string& m : models) {
    if (!j.contains("models") || !j["models"].contains(m) || !j["models"][m].contains("chosen_lr"))
      throw UsageError(fmt::format("sweep: --lr-from {}: no tuned rate for model {}", path, m));
    const nlohmann::json& entry = j["models"][m];
    // Files from before variants existed name families only, whose definition is the name.
    const std::string tuned = entry.contains("definition") ? entry["definition"].get<std::string>() : m;
    if (tuned != model_definition(variants, m))
      throw UsageError(fmt::format("sweep: --lr-from {}: {} was tuned as '{}', not '{}'", path, m, tuned,
                                   model_definition(variants, m)));
    chosen.push_back(fmt::format("{}={}", m, entry["chosen_lr"].get<double>()));
  }
  return join(chosen, ",");
}

}  // namespace attn::cli
