// Test accuracy against test length (length generalisation, Delétang et al. 2023; Ruoss et al.
// 2023), from each run's test_accuracy_by_length: written when the test split spans several
// source lengths. Lengths are pooled into bins of equal width; a bin's accuracy is its correct
// sequences over its sequences, over every seed.
#include <fmt/core.h>

#include <map>

#include "train/cli/cli.hpp"
#include "train/cli/sweep.hpp"
#include "train/plot.hpp"

namespace attn::cli {

namespace {

constexpr int kBins = 8;

struct LengthCounts {
  double correct = 0, examples = 0;
};

// length -> counts over `runs`.
std::map<int, LengthCounts> by_length(const std::vector<const Result*>& runs) {
  std::map<int, LengthCounts> m;
  for (const Result* r : runs) {
    if (!r->s.contains("test_accuracy_by_length")) continue;
    for (const auto& [len, c] : r->s["test_accuracy_by_length"].items()) {
      const double n = c.at("examples").get<double>();
      m[std::stoi(len)].correct += c.at("sequence_accuracy").get<double>() * n;
      m[std::stoi(len)].examples += n;
    }
  }
  return m;
}

Series binned(const std::string& title, const std::map<int, LengthCounts>& m, int lo, int hi) {
  const double width = std::max(1.0, double(hi - lo + 1) / kBins);
  std::vector<LengthCounts> bins(kBins);
  for (const auto& [len, c] : m) {
    const int b = std::min(kBins - 1, int((len - lo) / width));
    bins[b].correct += c.correct;
    bins[b].examples += c.examples;
  }
  Series s{title, {}, {}, {}, {}};
  for (int b = 0; b < kBins; ++b)
    if (bins[b].examples > 0) {
      s.x.push_back(lo + (b + 0.5) * width - 0.5);
      s.y.push_back(bins[b].correct / bins[b].examples);
    }
  return s;
}

void plot(const std::string& png, const std::string& title, const std::vector<Series>& lines) {
  PlotSpec spec;
  spec.title = title;
  spec.subtitle = fmt::format("test sequences pooled over seeds into {} length bins", kBins);
  spec.xlabel = "test source length";
  spec.ylabel = "sequence accuracy";
  spec.ymin = 0;
  spec.ymax = 1.02;
  plot_lines(png, spec, lines);
}

}  // namespace

std::vector<std::string> plot_length_accuracy(const std::string& dir, const nlohmann::json& sweep,
                                              const std::vector<Result>& results) {
  int lo = INT32_MAX, hi = 0;
  for (const Result& r : results)
    if (r.s.contains("test_accuracy_by_length"))
      for (const auto& [len, c] : r.s["test_accuracy_by_length"].items()) lo = std::min(lo, std::stoi(len)), hi = std::max(hi, std::stoi(len));
  if (hi - lo + 1 < 3) return {};  // fewer than three test lengths: no curve to draw
  const std::vector<std::string> values = sweep["values"];
  const auto by_model = runs_by_model(values, results);
  const std::string task = task_title(sweep), vary = sweep["vary"];
  std::vector<std::string> written;
  if (by_model.size() == 1) {  // one model: a line per swept value
    std::vector<Series> lines;
    for (size_t i = 0; i < values.size(); ++i)
      lines.push_back(binned(fmt::format("{} {}", vary, values[i]), by_length(by_model.begin()->second[i]), lo, hi));
    written.push_back("length_accuracy.png");
    plot(dir + "/" + written.back(), fmt::format("{}, {}: test accuracy against test length", task, by_model.begin()->first), lines);
    return written;
  }
  for (size_t i = 0; i < values.size(); ++i) {  // a plot per swept value, a line per model
    std::vector<Series> lines;
    for (const auto& [model, per_value] : by_model) lines.push_back(binned(model, by_length(per_value[i]), lo, hi));
    written.push_back(fmt::format("length_accuracy_{}.png", plot_stem(values[i])));
    plot(dir + "/" + written.back(), fmt::format("{}, {} {}: test accuracy against test length", task, vary, values[i]), lines);
  }
  return written;
}

}  // namespace attn::cli
