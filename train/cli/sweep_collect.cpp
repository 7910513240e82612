// `attnlab sweep --collect`: a sweep folder's finished runs into results.csv and accuracy plots.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>

#include "train/cli/cli.hpp"
#include "train/cli/sweep.hpp"
#include "train/plot.hpp"
#include "train/run_files.hpp"
#include "train/sweep_key.hpp"

namespace attn::cli {

namespace {

double num(const nlohmann::json& s, const char* key) { return s.at(key).get<double>(); }

// The columns of results.csv after model, NAME and seed, each read from a run's summary.json.
struct Column {
  const char* name;
  std::function<std::string(const Result&)> get;
};

std::vector<Column> result_columns(const std::string& vary) {
  auto field = [](const char* key) { return [key](const Result& r) { return fmt::format("{}", num(r.s, key)); }; };
  auto ci = [](const char* key, int i) { return [key, i](const Result& r) { return fmt::format("{}", r.s.at(key).at(i).get<double>()); }; };
  auto integer = [](const char* key) { return [key](const Result& r) { return fmt::format("{}", r.s.at(key).get<int64_t>()); }; };
  std::vector<Column> cols = {
      {"test_sequence_accuracy", field("test_sequence_accuracy")},
      {"seq_ci_lo", ci("test_sequence_accuracy_ci", 0)},
      {"seq_ci_hi", ci("test_sequence_accuracy_ci", 1)},
      {"test_token_accuracy", field("test_token_accuracy")},
      {"tok_ci_lo", ci("test_token_accuracy_ci", 0)},
      {"tok_ci_hi", ci("test_token_accuracy_ci", 1)},
      {"chance_sequence", field("test_chance_sequence")},
      {"chance_token", field("test_chance_token")},
      {"test_dependent_loss", [](const Result& r) { return r.s.contains("test_dependent_loss") ? fmt::format("{}", num(r.s, "test_dependent_loss")) : std::string(); }},
      {"params", integer("params")},
      // At the longest test sequence; runs from before it was recorded leave it empty.
      {"state_floats", [](const Result& r) { return r.s.contains("state_floats") ? fmt::format("{}", num(r.s, "state_floats")) : std::string(); }},
      {"lr", field("lr")},
      {"steps", integer("steps")},
      {"best_step", integer("best_step")},
      {"seconds", [](const Result& r) { return fmt::format("{:.1f}", num(r.s, "wall_seconds")); }},
      {"run", [](const Result& r) { return "runs/" + r.id; }},
  };
  // The swept setting already has its column: --vary lr must not write lr twice.
  if (vary == "lr") cols.erase(std::find_if(cols.begin(), cols.end(), [](const Column& c) { return c.name == std::string("lr"); }));
  return cols;
}

void write_results_csv(const std::string& dir, const std::string& vary, const std::vector<Result>& results) {
  const std::vector<Column> cols = result_columns(vary);
  std::string text = "model," + vary + ",seed";
  for (const Column& c : cols) text += std::string(",") + c.name;
  text += "\n";
  for (const Result& r : results) {
    text += fmt::format("{},{},{}", r.model, r.value, r.seed);
    for (const Column& c : cols) text += "," + c.get(r);
    text += "\n";
  }
  write_text_atomic(dir + "/results.csv", text);
}

// The x axis of the plots: numeric values where they are, on a log scale when all are positive;
// otherwise the values as categories at 0, 1, ... with their text as tic labels.
struct Axis {
  std::vector<double> x;  // position of each value
  PlotSpec spec;
};

bool parse_number(const std::string& s, double& out) {
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && std::isfinite(out);
}

Axis value_axis(const std::vector<std::string>& values) {
  Axis a;
  bool numeric = true;
  for (const std::string& v : values) {
    double x = 0;
    numeric = numeric && parse_number(v, x);
    a.x.push_back(x);
  }
  if (!numeric)
    for (size_t i = 0; i < values.size(); ++i) a.x[i] = (double)i;
  for (size_t i = 0; i < values.size(); ++i) a.spec.xtics.push_back({a.x[i], values[i]});
  const auto [lo, hi] = std::minmax_element(a.x.begin(), a.x.end());
  if (!numeric) {
    a.spec.connect = false;  // a line between categories would suggest values between them
    a.spec.xmin = -0.5;
    a.spec.xmax = values.size() - 0.5;
  } else if (*lo > 0) {
    a.spec.logx = true;
    a.spec.xmin = *lo / 1.25;
    a.spec.xmax = *hi * 1.25;
  } else {
    const double m = *hi > *lo ? (*hi - *lo) * 0.05 : 0.5;
    a.spec.xmin = *lo - m;
    a.spec.xmax = *hi + m;
  }
  return a;
}

// "3" or "2-3": how many of something each point has.
std::string count_range(const std::vector<size_t>& counts) {
  const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
  return *lo == *hi ? std::to_string(*lo) : fmt::format("{}-{}", *lo, *hi);
}

// What the error bars of a plot are. Runs with per-example results get a 95% bootstrap interval
// over seeds and, within each, test sequences, with each seed drawn as a dot; older runs keep
// the lowest-to-highest seed range, or with one seed its own Wilson interval.
std::string bars_meaning(const std::string& which, bool bootstrap, const std::vector<Result>& results,
                         const std::vector<size_t>& runs_per_point) {
  const std::string seeds = count_range(runs_per_point);
  if (bootstrap)
    return fmt::format("points: mean over {} seeds (dots: each seed); bars: 95% bootstrap over seeds and test sequences",
                       seeds);
  if (*std::max_element(runs_per_point.begin(), runs_per_point.end()) > 1)
    return fmt::format("points: mean over {} seeds; bars: lowest to highest of those seeds", seeds);
  std::vector<size_t> examples;
  for (const Result& r : results) examples.push_back(r.s.at("test_examples").get<size_t>());
  return which == "sequence" ? fmt::format("bars: 95% Wilson interval over {} test examples", count_range(examples))
                             : fmt::format("bars: 95% Wilson interval over the test tokens of {} examples", count_range(examples));
}

}  // namespace

std::map<std::string, RunsByValue> runs_by_model(const std::vector<std::string>& values, const std::vector<Result>& results) {
  std::map<std::string, RunsByValue> by_model;
  for (const Result& r : results) {
    RunsByValue& per_value = by_model[r.model];
    per_value.resize(values.size());
    const size_t i = std::find(values.begin(), values.end(), r.value) - values.begin();
    if (i == values.size()) throw UsageError(fmt::format("sweep.json: run {} has value '{}', not one of \"values\"", r.id, r.value));
    per_value[i].push_back(&r);
  }
  return by_model;
}

namespace {

// One model's points: the mean of `which` accuracy over its runs at each value, with bars as
// bars_meaning says, and each seed as a dot in `dots`. `dx` shifts the points so that models do
// not hide each other on a categorical axis.
Series model_series(const std::string& model, const RunsByValue& per_value, const Axis& axis, const std::string& which,
                    double dx, std::vector<size_t>& runs_per_point, Series& dots) {
  const std::string acc = "test_" + which + "_accuracy";
  Series line{model, {}, {}, {}, {}};
  for (size_t i = 0; i < per_value.size(); ++i) {
    const auto& runs = per_value[i];
    if (runs.empty()) continue;
    std::vector<double> v;
    for (const Result* r : runs) v.push_back(num(r->s, acc.c_str()));
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    Interval bar{*lo, *hi};
    if (all_per_example(runs))
      bar = which == "sequence" ? bootstrap_over_seeds(sequence_cell(runs), kStatsSeed)
                                : bootstrap_over_seeds(token_cell(runs), kStatsSeed);
    else if (runs.size() == 1)
      bar = {runs[0]->s.at(acc + "_ci").at(0).get<double>(), runs[0]->s.at(acc + "_ci").at(1).get<double>()};
    line.x.push_back(axis.x[i] + dx);
    line.y.push_back(std::accumulate(v.begin(), v.end(), 0.0) / v.size());
    line.lo.push_back(bar.lo);
    line.hi.push_back(bar.hi);
    for (double y : v) {
      dots.x.push_back(axis.x[i] + dx);
      dots.y.push_back(y);
    }
    runs_per_point.push_back(runs.size());
  }
  return line;
}

// A reference level (summary key `key`, the same for every run at a value) at each value that
// has a run, as a dashed line: the chance level, or the memoryless loss.
Series reference_series(const std::string& title, const std::string& key, const std::vector<std::string>& values,
                        const std::vector<Result>& results, const Axis& axis) {
  std::map<size_t, double> level;
  for (const Result& r : results)
    if (r.s.contains(key)) level[std::find(values.begin(), values.end(), r.value) - values.begin()] = num(r.s, key.c_str());
  Series c{title, {}, {}, {}, {}};
  for (const auto& [i, y] : level) {
    c.x.push_back(axis.x[i]);
    c.y.push_back(y);
  }
  c.dashed = true;
  return c;
}

}  // namespace

bool all_per_example(const std::vector<const Result*>& runs) {
  return std::all_of(runs.begin(), runs.end(), [](const Result* r) { return r->s.contains("test_per_example"); });
}

Cell sequence_cell(const std::vector<const Result*>& runs) {
  Cell cell;
  for (const Result* r : runs) {
    SeedRun run;
    for (char c : r->s.at("test_per_example").at("sequence_correct").get<std::string>()) run.push_back(c == '1');
    cell.push_back(std::move(run));
  }
  return cell;
}

TokenCell token_cell(const std::vector<const Result*>& runs) {
  TokenCell cell;
  for (const Result* r : runs) {
    const auto& pe = r->s.at("test_per_example");
    const std::vector<int> right = pe.at("tokens_correct"), tokens = pe.at("tokens");
    TokenRun run;
    for (size_t i = 0; i < tokens.size(); ++i) run.push_back({right.at(i), tokens[i]});
    cell.push_back(std::move(run));
  }
  return cell;
}

namespace {

// Accuracy (and its bars) against the swept value: one line per model, chance dashed.
void plot_accuracy(const std::string& png, const std::string& which, const nlohmann::json& sweep,
                   const std::vector<Result>& results) {
  const std::vector<std::string> values = sweep["values"];
  const int seeds = sweep["seeds"];
  Axis axis = value_axis(values);
  const auto by_model = runs_by_model(values, results);
  std::vector<Series> lines, seed_dots;
  std::vector<size_t> runs_per_point;
  double dx = axis.spec.connect ? 0.0 : -0.04 * (by_model.size() - 1);
  bool bootstrap = true;
  for (const auto& [model, per_value] : by_model) {
    Series dots;
    dots.points = true;
    dots.color = (int)lines.size() + 1;
    lines.push_back(model_series(model, per_value, axis, which, dx, runs_per_point, dots));
    lines.back().color = dots.color;
    seed_dots.push_back(dots);
    for (const auto& runs : per_value) bootstrap = bootstrap && (runs.empty() || all_per_example(runs));
    if (!axis.spec.connect) dx += 0.08;
  }
  if (seeds > 1) lines.insert(lines.end(), seed_dots.begin(), seed_dots.end());
  lines.push_back(reference_series("chance", "test_chance_" + which, values, results, axis));
  PlotSpec& spec = axis.spec;
  spec.title = fmt::format("{}: test {} accuracy", task_title(sweep), which);
  spec.subtitle = bars_meaning(which, bootstrap, results, runs_per_point);
  spec.xlabel = sweep["vary"].get<std::string>();
  spec.ylabel = which + " accuracy";
  spec.ymin = 0;
  spec.ymax = 1.02;
  spec.keep_script = true;
  plot_lines(png, spec, lines);
}

// The test loss over the labels that depend on the input (test_dependent_loss), against the
// swept value: each model's mean over seeds and each seed, and the memoryless baseline, the
// entropy of those labels (test_memoryless_loss: on copy memory log 8 per symbol; Arjovsky et
// al.'s per-position 10 log 8 / (T + 20) averages it over all T + 20 positions).
void plot_dependent_loss(const std::string& png, const nlohmann::json& sweep, const std::vector<Result>& results) {
  const std::vector<std::string> values = sweep["values"];
  Axis axis = value_axis(values);
  std::vector<Series> lines, dots;
  for (const auto& [model, per_value] : runs_by_model(values, results)) {
    Series line{model, {}, {}, {}, {}}, seeds;
    seeds.points = true;
    line.color = seeds.color = (int)lines.size() + 1;
    for (size_t i = 0; i < per_value.size(); ++i) {
      double sum = 0;
      for (const Result* r : per_value[i]) {
        sum += num(r->s, "test_dependent_loss");
        seeds.x.push_back(axis.x[i]);
        seeds.y.push_back(num(r->s, "test_dependent_loss"));
      }
      if (per_value[i].empty()) continue;
      line.x.push_back(axis.x[i]);
      line.y.push_back(sum / (double)per_value[i].size());
    }
    lines.push_back(line);
    dots.push_back(seeds);
  }
  lines.insert(lines.end(), dots.begin(), dots.end());
  const Series memoryless = reference_series("memoryless (the labels' entropy)", "test_memoryless_loss", values, results, axis);
  if (!memoryless.x.empty()) lines.push_back(memoryless);
  PlotSpec& spec = axis.spec;
  spec.title = fmt::format("{}: test loss on the labels that depend on the input", task_title(sweep));
  spec.subtitle = "lines: mean over seeds; dots: each seed";
  spec.xlabel = sweep["vary"].get<std::string>();
  spec.ylabel = "loss per dependent label (nats)";
  spec.ymin = 0;
  plot_lines(png, spec, lines);
}

// The run's folder must hold the config its name stands for (unless sweep.json predates hashes).
void check_run_config(const std::string& dir, const nlohmann::json& r) {
  if (!r.contains("config_hash")) return;
  const std::string folder = dir + "/runs/" + r["id"].get<std::string>();
  std::ifstream in(folder + "/config.json");
  nlohmann::json stored;
  try {
    stored = result_config(TrainArgs::from_json(nlohmann::json::parse(in)));
  } catch (const std::exception& e) {
    throw UsageError(fmt::format("{}/config.json: cannot be read as a run's config: {}", folder, e.what()));
  }
  if (config_hash(stored) != r["config_hash"].get<std::string>())
    throw UsageError(fmt::format("{}: its config.json does not match the hash in its name (edited by hand?); "
                                 "remove the folder and run the sweep again",
                                 folder));
}

}  // namespace

std::vector<Result> read_results(const std::string& dir, const nlohmann::json& sweep, int& missing) {
  std::vector<Result> results;
  missing = 0;
  for (const auto& r : sweep["runs"]) {
    const std::string id = r["id"];
    std::ifstream sf(dir + "/runs/" + id + "/summary.json");
    if (!sf) {
      ++missing;
      continue;
    }
    check_run_config(dir, r);
    results.push_back({r["model"], r["value"], r["seed"], id, nlohmann::json::parse(sf)});
  }
  return results;
}

nlohmann::json read_sweep_json(const std::string& dir) {
  std::ifstream in(dir + "/sweep.json");
  if (!in) throw UsageError(fmt::format("{}: no sweep.json (not a sweep folder)", dir));
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw UsageError(fmt::format("{}/sweep.json: not JSON ({})", dir, e.what()));
  }
}

int collect(const std::string& dir, bool report) {
  const nlohmann::json sweep = read_sweep_json(dir);
  const std::string name = sweep["vary"], stem = plot_stem(name);
  int missing = 0;
  const std::vector<Result> results = read_results(dir, sweep, missing);
  write_results_csv(dir, name, results);
  if (!results.empty()) {
    plot_accuracy(fmt::format("{}/accuracy_vs_{}.png", dir, stem), "sequence", sweep, results);
    plot_accuracy(fmt::format("{}/token_accuracy_vs_{}.png", dir, stem), "token", sweep, results);
    if (std::all_of(results.begin(), results.end(), [](const Result& r) { return r.s.contains("test_dependent_loss"); }))
      plot_dependent_loss(fmt::format("{}/dependent_loss_vs_{}.png", dir, stem), sweep, results);
    plot_length_accuracy(dir, sweep, results);
  }
  const bool reportable = report && !results.empty() &&
                          std::all_of(results.begin(), results.end(), [](const Result& r) { return r.s.contains("test_per_example"); });
  if (reportable) write_report(dir);
  fmt::print("collected {} runs ({} missing) into {}/results.csv and {}/accuracy_vs_{}.png{}\n", results.size(), missing, dir,
             dir, stem, reportable ? fmt::format(", and {}/report.md", dir) : "");
  return missing ? 1 : 0;
}

}  // namespace attn::cli
