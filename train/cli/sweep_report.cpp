// `attnlab report DIR`: a sweep folder as a self-contained report.md. The protocol (grid, budget,
// seeds, tuning), each cell with a bootstrap interval over seeds and every seed's value, D50 per
// model, and paired comparisons with Holm's correction, all read from the folder's own files.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include "train/cli/cli.hpp"
#include "train/cli/sweep.hpp"
#include "train/run_files.hpp"

namespace attn::cli {

namespace {

using Cells = std::map<std::string, std::map<std::string, std::vector<const Result*>>>;  // model -> value -> runs

std::string pct(double x) { return fmt::format("{:.3f}", x); }
std::string interval(const Interval& i) { return fmt::format("[{:.3f}, {:.3f}]", i.lo, i.hi); }

// The first evaluation step with validation sequence accuracy >= 0.99, or "> steps".
std::string steps_to_criterion(const std::string& dir, const Result& r) {
  std::ifstream in(dir + "/runs/" + r.id + "/metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("val_sequence_accuracy") && j["val_sequence_accuracy"].get<double>() >= 0.99)
      return std::to_string(j["step"].get<int64_t>());
  }
  return fmt::format("> {}", r.s.at("steps").get<int64_t>());
}

std::string protocol(const nlohmann::json& sweep, const std::vector<Result>& results, const std::string& dir) {
  const nlohmann::json& s = results.front().s;
  std::ifstream cfg_in(dir + "/runs/" + results.front().id + "/config.json");
  const nlohmann::json cfg = nlohmann::json::parse(cfg_in, nullptr, false);
  std::string t = "## Protocol\n\n";
  const std::string task = task_title(sweep);
  t += task == "tasks" ? fmt::format("- Tasks and settings swept as `{}` over {}.\n", sweep["vary"].get<std::string>(),
                                     join(sweep["values"].get<std::vector<std::string>>()))
                       : fmt::format("- Task `{}`; `{}` swept over {}.\n", task, sweep["vary"].get<std::string>(),
                                     join(sweep["values"].get<std::vector<std::string>>()));
  // The fixed settings beside the swept one, and those of the test split alone (length generalisation).
  auto listed = [&](const char* key) {
    std::vector<std::string> v;
    if (cfg.is_object() && cfg.contains(key)) v = cfg[key].get<std::vector<std::string>>();
    return v;
  };
  if (!listed("task_opt").empty()) t += fmt::format("- Task settings of the first run: `{}`.\n", join(listed("task_opt"), "`, `"));
  if (!listed("test_task_opt").empty())
    t += fmt::format("- The test split alone: `{}` (validation keeps the training settings).\n", join(listed("test_task_opt"), "`, `"));
  const auto models = sweep["models"].get<std::vector<std::string>>();
  t += fmt::format("- Models: {}. Seeds per cell: {} (from seed {}).\n", join(models), sweep["seeds"].get<int>(),
                   sweep["runs"].at(0)["seed"].get<int>());
  if (sweep.contains("variants")) {
    for (const auto& [name, definition] : sweep["variants"].items())  // those the sweep trains
      if (std::find(models.begin(), models.end(), name) != models.end())
        t += fmt::format("- `{}` is `{}`.\n", name, definition.get<std::string>());
  }
  if (cfg.is_object())
    t += fmt::format("- Budget: {} steps of batch {} ({} training examples) for every model; {} validation and test "
                     "examples.\n", cfg.value("steps", 0), cfg.value("batch", 0), cfg.value("steps", 0) * cfg.value("batch", 0),
                     cfg.value("eval_examples", 0));
  t += "- The test uses the checkpoint with the highest validation sequence accuracy (ties to the lower validation "
       "loss). Steps to criterion: the first evaluation with validation sequence accuracy >= 0.99.\n";
  std::ifstream tin(dir + "/tuning.json");
  if (tin) {
    const nlohmann::json tj = nlohmann::json::parse(tin);
    t += fmt::format("- Learning rates tuned on validation at {} = {} over {{{}}} ({}), test never read "
                     "([tuning.json](tuning.json)):\n\n| model | lr | mean best val seq acc | mean best val loss |\n|---|---|---|---|\n",
                     sweep["vary"].get<std::string>(), tj["at"].get<std::string>(), join(tj["rates"].get<std::vector<std::string>>()),
                     tj["selection"].get<std::string>());
    for (const auto& [m, v] : tj["models"].items()) {
      const auto& trials = v["trials"];
      const bool edge = v["chosen_lr"] == trials.front()["lr"] || v["chosen_lr"] == trials.back()["lr"];
      for (const auto& row : trials)
        t += fmt::format("| {} | {}{} | {:.4f} | {:.4f} |\n", m, row["lr"].get<double>(),
                         row["lr"] != v["chosen_lr"] ? "" : edge ? " (chosen, at the grid's edge)" : " (chosen)",
                         row["val_sequence_accuracy"].get<double>(), row["val_loss"].get<double>());
    }
    t += "\n";
  } else {
    t += fmt::format("- Learning rates given, not tuned here: {}.\n", sweep.value("model_lr", fmt::format("{}", s.at("lr").get<double>())));
  }
  t += fmt::format("- Intervals: 95% bootstrap over seeds and, within each seed, test sequences ({} resamples, seed {}).\n",
                   2000, kStatsSeed);
  return t + "\n";
}

// Each model's size: parameters and the floats its decoder carries per step (state_floats in
// models/family.hpp), as ranges over its runs, since both can change with the swept value.
std::string size_table(const std::vector<Result>& results) {
  std::map<std::string, std::pair<std::set<double>, std::set<double>>> sizes;
  for (const Result& r : results) {
    sizes[r.model].first.insert(r.s.at("params").get<double>());
    if (r.s.contains("state_floats")) sizes[r.model].second.insert(r.s["state_floats"].get<double>());
  }
  auto range = [](const std::set<double>& v) {
    if (v.empty()) return std::string("(not recorded)");
    return *v.begin() == *v.rbegin() ? fmt::format("{:.0f}", *v.begin()) : fmt::format("{:.0f} to {:.0f}", *v.begin(), *v.rbegin());
  };
  std::string t = "Model sizes:\n\n| model | parameters | state floats (carried per step, at the longest test sequence) |\n|---|---|---|\n";
  for (const auto& [model, ps] : sizes) t += fmt::format("| {} | {} | {} |\n", model, range(ps.first), range(ps.second));
  return t + "\n";
}

std::string cell_table(const std::string& dir, const nlohmann::json& sweep, const Cells& cells) {
  std::string t = fmt::format("## Test accuracy per cell\n\n| model | {} | seeds | sequence acc [95% CI] | each seed | "
                              "token acc [95% CI] | steps to 0.99 (each seed) |\n|---|---|---|---|---|---|---|\n",
                              sweep["vary"].get<std::string>());
  for (const auto& [model, by_value] : cells)
    for (const std::string& v : sweep["values"].get<std::vector<std::string>>()) {
      if (!by_value.count(v)) continue;
      const auto& runs = by_value.at(v);
      std::vector<std::string> each, steps;
      for (const Result* r : runs) {
        each.push_back(pct(r->s.at("test_sequence_accuracy").get<double>()));
        steps.push_back(steps_to_criterion(dir, *r));
      }
      const Cell seq = sequence_cell(runs);
      const TokenCell tok = token_cell(runs);
      t += fmt::format("| {} | {} | {} | {} {} | {} | {} {} | {} |\n", model, v, runs.size(), pct(mean_accuracy(seq)),
                       interval(bootstrap_over_seeds(seq, kStatsSeed)), join(each), pct(mean_accuracy(tok)),
                       interval(bootstrap_over_seeds(tok, kStatsSeed)), join(steps));
    }
  return t + "\n";
}

std::string d50_text(const D50& d, const std::vector<double>& x) {
  if (d.kind == D50::AboveMax) return fmt::format("> {}", x.back());
  if (d.kind == D50::BelowMin) return fmt::format("< {}", x.front());
  return fmt::format("{:.1f}", d.value);
}

std::string bound_text(double v, const std::vector<double>& x) {
  if (std::isinf(v)) return v > 0 ? fmt::format("> {}", x.back()) : fmt::format("< {}", x.front());
  return fmt::format("{:.1f}", v);
}

std::string d50_table(const nlohmann::json& sweep, const Cells& cells) {
  std::vector<double> x;
  for (const std::string& v : sweep["values"].get<std::vector<std::string>>()) {
    char* end = nullptr;
    x.push_back(std::strtod(v.c_str(), &end));
    if (*end != '\0' || !(x.back() > 0)) return "";  // D50 needs positive numeric distances
  }
  std::string t = "## D50: where test sequence accuracy falls below 0.5\n\nLinear in log distance between grid points; "
                  "the interval resamples seeds (shared across distances) and sequences.\n\n"
                  "| model | D50 | 95% CI | resamples never below | resamples below at the first |\n|---|---|---|---|---|\n";
  for (const auto& [model, by_value] : cells) {
    std::vector<Cell> per_distance;
    std::vector<double> acc;
    for (const std::string& v : sweep["values"].get<std::vector<std::string>>()) {
      if (!by_value.count(v)) return t + fmt::format("| {} | (a value has no runs) | | | |\n\n", model);
      per_distance.push_back(sequence_cell(by_value.at(v)));
      acc.push_back(mean_accuracy(per_distance.back()));
    }
    const size_t seeds = per_distance.front().size();
    if (std::any_of(per_distance.begin(), per_distance.end(), [&](const Cell& c) { return c.size() != seeds; })) {
      t += fmt::format("| {} | {} | (seeds differ between distances) | | |\n", model, d50_text(d50(x, acc), x));
      continue;
    }
    const D50Interval ci = d50_interval(x, per_distance, kStatsSeed);
    t += fmt::format("| {} | {} | [{}, {}] | {:.2f} | {:.2f} |\n", model, d50_text(d50(x, acc), x), bound_text(ci.ci.lo, x),
                     bound_text(ci.ci.hi, x), ci.above_max, ci.below_min);
  }
  return t + "\n";
}

// Every pair of models at every value, on the same seeds and test examples.
std::string paired_table(const nlohmann::json& sweep, const Cells& cells) {
  struct Row {
    std::string value, a, b;
    double diff, p;
  };
  std::vector<Row> rows;
  for (auto ia = cells.begin(); ia != cells.end(); ++ia)
    for (auto ib = std::next(ia); ib != cells.end(); ++ib)
      for (const std::string& v : sweep["values"].get<std::vector<std::string>>()) {
        if (!ia->second.count(v) || !ib->second.count(v)) continue;
        const Cell a = sequence_cell(ia->second.at(v)), b = sequence_cell(ib->second.at(v));
        if (a.size() != b.size()) continue;
        bool same = true;  // seed s of both, hence the same test examples
        for (size_t s = 0; s < a.size(); ++s)
          same = same && a[s].size() == b[s].size() && ia->second.at(v)[s]->seed == ib->second.at(v)[s]->seed;
        if (!same) continue;
        rows.push_back({v, ia->first, ib->first, mean_accuracy(a) - mean_accuracy(b), paired_bootstrap_p(a, b, kStatsSeed)});
      }
  if (rows.empty()) return "";
  std::vector<double> p;
  for (const Row& r : rows) p.push_back(r.p);
  const std::vector<double> adjusted = holm(p);
  std::string t = fmt::format("## Paired comparisons of test sequence accuracy\n\nPaired bootstrap over seeds and test "
                              "sequences (the same seeds and examples for both models), two-sided; Holm's correction "
                              "across the {} rows of this table.\n\n| {} | A | B | A - B | p | Holm p |\n|---|---|---|---|---|---|\n",
                              rows.size(), sweep["vary"].get<std::string>());
  for (size_t i = 0; i < rows.size(); ++i)
    t += fmt::format("| {} | {} | {} | {:+.3f} | {:.4f} | {:.4f} |\n", rows[i].value, rows[i].a, rows[i].b, rows[i].diff,
                     rows[i].p, adjusted[i]);
  return t + "\n";
}

// DIR/anchor.json, written by whoever defines the study before its results are read: {"anchor", "expected"}
// and, after it, {"verdict": "reproduced|partly|not", "why"}.
std::string anchor_section(const std::string& dir) {
  std::ifstream in(dir + "/anchor.json");
  if (!in) return "";
  const nlohmann::json a = nlohmann::json::parse(in, nullptr, false);
  if (!a.is_object()) throw UsageError(fmt::format("{}/anchor.json: not a JSON object", dir));
  std::string t = "## Against the literature\n\n";
  if (a.contains("anchor")) t += fmt::format("- Published anchor: {}\n", a["anchor"].get<std::string>());
  if (a.contains("expected")) t += fmt::format("- Expected, written before the results were read: {}\n", a["expected"].get<std::string>());
  if (a.contains("verdict")) {
    const std::string v = a["verdict"];
    if (v != "reproduced" && v != "partly" && v != "not")
      throw UsageError(fmt::format("{}/anchor.json: verdict '{}' is not reproduced, partly or not", dir, v));
    t += fmt::format("- Verdict: **{}**. {}\n", v, a.value("why", ""));
  }
  return t + "\n";
}

// The length plots collect wrote (sweep_length.cpp), in the swept values' order.
std::vector<std::string> length_plot_names(const std::string& dir, const nlohmann::json& sweep) {
  std::vector<std::string> names;
  if (std::ifstream(dir + "/length_accuracy.png")) names.push_back("length_accuracy.png");
  for (const std::string v : sweep["values"]) {
    const std::string n = fmt::format("length_accuracy_{}.png", plot_stem(v));
    if (std::ifstream(dir + "/" + n)) names.push_back(n);
  }
  return names;
}

}  // namespace

void write_report(const std::string& dir) {
  const nlohmann::json sweep = read_sweep_json(dir);
  int missing = 0;
  const std::vector<Result> results = read_results(dir, sweep, missing);
  if (results.empty()) throw UsageError(fmt::format("report: {} has no finished runs", dir));
  Cells cells;
  bool per_example = true;
  for (const Result& r : results) {
    cells[r.model][r.value].push_back(&r);
    per_example = per_example && r.s.contains("test_per_example");
  }
  if (!per_example)
    throw UsageError(fmt::format("report: {} has runs without per-example results (written before they were "
                                 "recorded); run them again", dir));
  const std::string name = sweep["vary"];
  std::string md = fmt::format("# {}: test accuracy against {}\n\nWritten by `attnlab report` from this folder's "
                               "sweep.json and runs/*/summary.json: {} runs, {} missing. Every run is a row of "
                               "[results.csv](results.csv).\n\n", task_title(sweep), name, results.size(), missing);
  md += protocol(sweep, results, dir) + size_table(results);
  const std::string stem = plot_stem(name);
  md += fmt::format("![test sequence accuracy](accuracy_vs_{0}.png)\n\n![test token accuracy](token_accuracy_vs_{0}.png)\n\n", stem);
  if (std::ifstream(fmt::format("{}/dependent_loss_vs_{}.png", dir, stem)))
    md += fmt::format("![test loss on the dependent labels, against a uniform guess](dependent_loss_vs_{}.png)\n\n", stem);
  for (const std::string& png : length_plot_names(dir, sweep))
    md += fmt::format("![test accuracy against test length]({})\n\n", png);
  md += cell_table(dir, sweep, cells) + d50_table(sweep, cells) + paired_table(sweep, cells) + anchor_section(dir);
  write_text_atomic(dir + "/report.md", md);
}

void add_report_command(CLI::App& app, int& exit_code) {
  auto dir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("report", "Write DIR/report.md from a sweep folder: protocol, per-cell bootstrap "
                                           "intervals, D50, paired tests (docs/study.md)");
  cmd->add_option("dir", *dir, "A sweep folder (one of a study's task folders)")->required();
  cmd->callback([dir, &exit_code] {
    const int missing = collect(*dir, false);
    write_report(*dir);
    fmt::print("wrote {}/report.md\n", *dir);
    exit_code = missing;
  });
}

}  // namespace attn::cli
