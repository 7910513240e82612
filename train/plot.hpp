// Plots through gnuplot (Debian's gnuplot-nox, installed by .ci/setup.sh), written as PNG.
#pragma once
#include <cmath>
#include <string>
#include <vector>

namespace attn {

struct Series {
  std::string title;
  std::vector<double> x, y;
  std::vector<double> err;  // optional: error bars (half-widths)
  bool dashed = false;
};

struct PlotSpec {
  std::string title, xlabel, ylabel;
  bool logy = false;
  bool logx = false;
  double ymin = NAN, ymax = NAN;
};

// Writes `png` atomically (temporary file, then rename). Throws std::runtime_error when gnuplot
// is missing or fails.
void plot_lines(const std::string& png, const PlotSpec& spec, const std::vector<Series>& series);

// Heatmap of a [rows x cols] matrix with token labels on both axes.
void plot_heatmap(const std::string& png, const std::string& title, const std::vector<double>& m, int rows, int cols,
                  const std::vector<std::string>& row_labels, const std::vector<std::string>& col_labels);

}  // namespace attn
