// `attnlab state-plot`: accuracy against state size across sweeps of one task that differ in
// width (Zoology's Figure 2: each model family a line through its widths, one panel per cell).
// A variant's line is its name without the width suffix (-d64, -h128).
#include <fmt/core.h>

#include <filesystem>
#include <algorithm>
#include <cmath>
#include <map>
#include <regex>

#include "train/cli/cli.hpp"
#include "train/cli/sweep.hpp"
#include "train/plot.hpp"
#include "train/run_files.hpp"
#include "train/stats.hpp"

namespace attn::cli {

namespace {

constexpr uint64_t kBootstrapSeed = 20261203;

struct StatePoint {
  double state = 0, params = 0, acc = 0;
  Interval ci;
  std::string model;
  size_t seeds = 0;
};

std::string family_of(const std::string& model) {
  return std::regex_replace(model, std::regex("-[dh][0-9]+$"), "");
}

// cell value -> family -> points (one per width), from every sweep folder in `dirs`.
using Points = std::map<std::string, std::map<std::string, std::vector<StatePoint>>>;

// `order`: the cells in the sweeps' order (the first sweep's, then any new ones).
Points read_points(const std::vector<std::string>& dirs, std::string& task, std::vector<std::string>& order) {
  Points points;
  for (const std::string& dir : dirs) {
    const nlohmann::json sweep = read_sweep_json(dir);
    for (const std::string v : sweep["values"])
      if (std::find(order.begin(), order.end(), v) == order.end()) order.push_back(v);
    if (task.empty()) task = sweep["task"];
    if (sweep["task"] != task)
      throw UsageError(fmt::format("state-plot: {} is a sweep of {}, not of {}", dir, sweep["task"].get<std::string>(), task));
    int missing = 0;
    const std::vector<Result> results = read_results(dir, sweep, missing);
    std::map<std::pair<std::string, std::string>, std::vector<const Result*>> cells;
    for (const Result& r : results) {
      if (!r.s.contains("state_floats") || !r.s.contains("test_per_example"))
        throw UsageError(fmt::format("state-plot: {}/runs/{} has no state_floats or per-example results", dir, r.id));
      cells[{r.value, r.model}].push_back(&r);
    }
    for (const auto& [key, runs] : cells) {
      StatePoint p;
      p.model = key.second;
      p.state = runs[0]->s.at("state_floats").get<double>();
      p.params = runs[0]->s.at("params").get<double>();
      const TokenCell cell = token_cell(runs);
      p.acc = mean_accuracy(cell);
      p.ci = bootstrap_over_seeds(cell, kBootstrapSeed);
      p.seeds = runs.size();
      points[key.first][family_of(key.second)].push_back(p);
    }
  }
  for (auto& [value, families] : points)
    for (auto& [family, pts] : families)
      std::sort(pts.begin(), pts.end(), [](const StatePoint& a, const StatePoint& b) { return a.state < b.state; });
  return points;
}

void plot_cell(const std::string& png, const std::string& task, const std::string& value,
               const std::map<std::string, std::vector<StatePoint>>& families) {
  std::vector<Series> lines;
  double lo = INFINITY, hi = 0;
  for (const auto& [family, pts] : families) {
    Series s{family, {}, {}, {}, {}};
    for (const StatePoint& p : pts) {
      s.x.push_back(p.state);
      lo = std::min(lo, p.state);
      hi = std::max(hi, p.state);
      s.y.push_back(p.acc);
      s.lo.push_back(p.ci.lo);
      s.hi.push_back(p.ci.hi);
    }
    lines.push_back(s);
  }
  PlotSpec spec;
  spec.title = fmt::format("{} at {}: test token accuracy against state size", task, value);
  spec.subtitle = "bars: 95% bootstrap over seeds and test sequences; each line one family through its widths";
  spec.xlabel = "state floats carried per step (at the longest test sequence)";
  spec.ylabel = "token accuracy";
  spec.logx = true;
  spec.xmin = lo / 2;  // room for the end points' bars
  spec.xmax = hi * 2;
  spec.ymin = 0;
  spec.ymax = 1.02;
  plot_lines(png, spec, lines);
}

std::string points_table(const Points& points, const std::vector<std::string>& order) {
  std::string t = "| cell | model | seeds | parameters | state floats | token acc [95% CI] |\n|---|---|---|---|---|---|\n";
  for (const std::string& value : order) {
    if (!points.count(value)) continue;
    for (const auto& [family, pts] : points.at(value))
      for (const StatePoint& p : pts)
        t += fmt::format("| {} | {} | {} | {:.0f} | {:.0f} | {:.3f} [{:.3f}, {:.3f}] |\n", value, p.model, p.seeds,
                         p.params, p.state, p.acc, p.ci.lo, p.ci.hi);
  }
  return t;
}

}  // namespace

void write_state_plots(const std::string& out, const std::vector<std::string>& dirs) {
  std::string task;
  std::vector<std::string> order;
  const Points points = read_points(dirs, task, order);
  if (points.empty()) throw UsageError("state-plot: the sweeps have no finished runs");
  std::filesystem::create_directories(out);
  std::string md = fmt::format("# {}: token accuracy against state size\n\nWritten by `attnlab state-plot` from {}. "
                               "Intervals: 95% bootstrap over seeds and test sequences (2000 resamples, seed {}).\n\n",
                               task, join(dirs), kBootstrapSeed);
  for (const std::string& value : order) {
    if (!points.count(value)) continue;
    const auto& families = points.at(value);
    const std::string png = fmt::format("token_accuracy_vs_state_{}.png", plot_stem(value));
    plot_cell(out + "/" + png, task, value, families);
    md += fmt::format("![{} at {}]({})\n\n", task, value, png);
  }
  write_text_atomic(out + "/report.md", md + points_table(points, order));
}

void add_state_plot_command(CLI::App& app, int& exit_code) {
  auto out = std::make_shared<std::string>();
  auto dirs = std::make_shared<std::vector<std::string>>();
  auto* cmd = app.add_subcommand("state-plot", "Token accuracy against state size across sweeps of one task at "
                                               "different widths (Zoology Fig. 2): OUT/report.md and a PNG per cell");
  cmd->add_option("--out", *out, "Folder for report.md and the plots")->required();
  cmd->add_option("dirs", *dirs, "Sweep folders of one task (for example E2's at d_model 64 and 128)")->required();
  cmd->callback([out, dirs, &exit_code] {
    write_state_plots(*out, *dirs);
    fmt::print("wrote {}/report.md\n", *out);
    exit_code = 0;
  });
}

}  // namespace attn::cli
