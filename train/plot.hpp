// Plots through gnuplot (Debian's gnuplot-nox, installed by .ci/setup.sh), written as PNG.
#pragma once
#include <cmath>
#include <string>
#include <vector>

namespace attn {

struct Series {
  std::string title;
  std::vector<double> x, y;
  std::vector<double> lo{}, hi{};  // optional: error bars from lo[i] to hi[i] (absolute, not half-widths)
  bool dashed = false;
  bool points = false;  // small dots, no line and no key entry: e.g. each seed beside the mean
  int color = 0;        // gnuplot line colour index; 0: the next one
};

// A tic mark at `x` with its own text: the values of a categorical axis, or chosen numeric ones.
struct Tic {
  double x;
  std::string label;
};

struct PlotSpec {
  std::string title, xlabel, ylabel;
  bool logy = false;
  bool logx = false;
  double ymin = NAN, ymax = NAN;
  std::string subtitle{};  // a second title line, e.g. what the error bars are
  std::vector<Tic> xtics{};  // empty: gnuplot's own; else exactly these
  double xmin = NAN, xmax = NAN;
  bool connect = true;  // false: points with their bars, no line between them (a categorical axis)
  bool keep_script = false;  // also keep the script and its data beside the PNG as <name>.gp, run in that folder
};

// The gnuplot commands and inline data plot_lines runs, without terminal and output lines.
std::string lines_script(const PlotSpec& spec, const std::vector<Series>& series);

// Writes `png` atomically (temporary file, then rename), and the script likewise if keep_script.
// Throws std::runtime_error when gnuplot is missing or fails.
void plot_lines(const std::string& png, const PlotSpec& spec, const std::vector<Series>& series);

// Heatmap of a [rows x cols] matrix with token labels on both axes.
void plot_heatmap(const std::string& png, const std::string& title, const std::vector<double>& m, int rows, int cols,
                  const std::vector<std::string>& row_labels, const std::vector<std::string>& col_labels);

// A table of numbers as a heatmap with each value printed in its cell: rows x cols, row-major,
// colour from `lo` to `hi`; NaN cells are left blank.
struct HeatTable {
  std::string title, xlabel, ylabel;
  std::vector<double> values;
  int rows = 0, cols = 0;
  std::vector<std::string> row_labels, col_labels;
  double lo = 0, hi = 1;
};
void plot_heat_table(const std::string& png, const HeatTable& t);

}  // namespace attn
