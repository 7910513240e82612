#include "train/plot.hpp"

#include "train/run_files.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace attn {

namespace {

// A gnuplot string literal (file names).
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Text for enhanced mode, where _ would start a subscript (not yet quoted).
std::string enhanced(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '_' || c == '^' || c == '@' || c == '&' || c == '{' || c == '}') out += "\\";
    out += c;
  }
  return out;
}

// A label in enhanced text mode.
std::string label(const std::string& s) { return quote(enhanced(s)); }

// The title, and the subtitle on a second line ("\n" is a newline in a double-quoted string).
std::string title_text(const PlotSpec& spec) {
  std::string t = quote(enhanced(spec.title));
  if (spec.subtitle.empty()) return t;
  t.pop_back();
  return t + "\\n" + quote(enhanced(spec.subtitle)).substr(1);
}

std::string range(double lo, double hi) {
  auto end = [](double v) { return std::isnan(v) ? std::string("*") : fmt::format("{}", v); };
  return fmt::format("[{}:{}]", end(lo), end(hi));
}

std::string axes(const PlotSpec& spec) {
  std::string s = fmt::format("set title {}\nset xlabel {}\nset ylabel {}\nset grid\nset key outside right\n",
                              title_text(spec), label(spec.xlabel), label(spec.ylabel));
  if (spec.logy) s += "set logscale y\n";
  if (spec.logx) s += "set logscale x 2\n";
  if (!std::isnan(spec.ymin) || !std::isnan(spec.ymax)) s += "set yrange " + range(spec.ymin, spec.ymax) + "\n";
  if (!std::isnan(spec.xmin) || !std::isnan(spec.xmax)) s += "set xrange " + range(spec.xmin, spec.xmax) + "\n";
  if (!spec.xtics.empty()) {
    s += "set xtics (";
    for (size_t i = 0; i < spec.xtics.size(); ++i)
      s += fmt::format("{}{} {}", i ? ", " : "", label(spec.xtics[i].label), spec.xtics[i].x);
    s += ")\n";
  }
  return s;
}

std::string terminal(const std::string& output) {
  return fmt::format("set terminal pngcairo size 900,600 enhanced font 'Sans,10'\nset output {}\n", quote(output));
}

void run_gnuplot(const std::string& script, const std::string& png) {
  const std::string tmp = png + ".tmp.png";
  const std::string script_path = png + ".gp";
  std::ofstream(script_path) << terminal(tmp) << script;
  const std::string err_path = png + ".err";
  const int rc = std::system(fmt::format("gnuplot {} 2>{}", quote(script_path), quote(err_path)).c_str());
  std::ifstream err_in(err_path);
  std::string line, last;
  while (std::getline(err_in, line))
    if (!line.empty()) last = line;
  std::filesystem::remove(err_path);
  if (rc != 0 || !std::filesystem::exists(tmp) || std::filesystem::file_size(tmp) == 0) {
    std::filesystem::remove(tmp);
    throw std::runtime_error(fmt::format("plot {}: gnuplot failed: {} (script kept in {})", png,
                                         last.empty() ? "is gnuplot installed? run .ci/setup.sh" : last, script_path));
  }
  std::filesystem::remove(script_path);
  std::filesystem::rename(tmp, png);
}

}  // namespace

std::string lines_script(const PlotSpec& spec, const std::vector<Series>& series) {
  std::string plots, data;
  for (const Series& se : series) {
    if (se.x.empty()) continue;
    const bool bars = !se.lo.empty() && !se.points;
    const std::string color = se.color > 0 ? fmt::format(" lc {}", se.color) : "";
    if (se.points)
      plots += fmt::format("{}'-' using 1:2 with points pt 7 ps 0.5{} notitle", plots.empty() ? "plot " : ", ", color);
    else
      plots += fmt::format("{}'-' using 1:2{} with {} title {}{}{}", plots.empty() ? "plot " : ", ", bars ? ":3:4" : "",
                           bars ? (spec.connect ? "yerrorlines" : "yerrorbars") : "lines", label(se.title),
                           se.dashed ? " dashtype 2 lw 2" : " lw 2", color);
    for (size_t i = 0; i < se.x.size(); ++i)
      data += bars ? fmt::format("{} {} {} {}\n", se.x[i], se.y[i], se.lo[i], se.hi[i]) : fmt::format("{} {}\n", se.x[i], se.y[i]);
    data += "e\n";
  }
  if (plots.empty()) return "";
  return axes(spec) + plots + "\n" + data;
}

void plot_lines(const std::string& png, const PlotSpec& spec, const std::vector<Series>& series) {
  const std::string script = lines_script(spec, series);
  if (script.empty()) throw std::runtime_error(fmt::format("plot {}: no data to plot", png));
  run_gnuplot(script, png);
  if (spec.keep_script) {
    const std::string stem = png.size() > 4 && png.compare(png.size() - 4, 4, ".png") == 0 ? png.substr(0, png.size() - 4) : png;
    // Output by file name alone: `gnuplot NAME.gp` in the PNG's folder draws it again.
    write_text_atomic(stem + ".gp", terminal(std::filesystem::path(png).filename().string()) + script);
  }
}

void plot_heatmap(const std::string& png, const std::string& title, const std::vector<double>& m, int rows, int cols,
                  const std::vector<std::string>& row_labels, const std::vector<std::string>& col_labels) {
  std::string s = fmt::format("set title {}\nset xlabel 'key'\nset ylabel 'query'\nunset key\nset yrange [] reverse\n"
                              "set palette rgbformulae 34,35,36\nset cbrange [0:1]\nset xtics rotate by 90 font ',8'\n"
                              "set ytics font ',8'\n",
                              label(title));
  std::string xt = "set xtics (", yt = "set ytics (";
  for (int c = 0; c < cols; ++c) xt += fmt::format("{}{} {}", c ? ", " : "", label(c < (int)col_labels.size() ? col_labels[c] : "?"), c);
  for (int r = 0; r < rows; ++r) yt += fmt::format("{}{} {}", r ? ", " : "", label(r < (int)row_labels.size() ? row_labels[r] : "?"), r);
  s += xt + ")\n" + yt + ")\n";
  s += "plot '-' matrix with image\n";
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) s += fmt::format("{}{}", c ? " " : "", m[(size_t)r * cols + c]);
    s += "\n";
  }
  s += "e\n";
  run_gnuplot(s, png);
}

void plot_heat_table(const std::string& png, const HeatTable& t) {
  if (t.rows <= 0 || t.cols <= 0 || t.values.size() != (size_t)t.rows * t.cols)
    throw std::runtime_error(fmt::format("plot {}: a {} x {} table needs {} values, not {}", png, t.rows, t.cols,
                                         t.rows * t.cols, t.values.size()));
  std::string s = fmt::format("set title {}\nset xlabel {}\nset ylabel {}\nunset key\nset yrange [{}:-0.5]\n"
                              "set xrange [-0.5:{}]\nset palette defined (0 'white', 1 '#e08020')\nset cbrange [{}:{}]\n"
                              "set xtics font ',9'\nset ytics font ',9'\n",
                              label(t.title), label(t.xlabel), label(t.ylabel), t.rows - 0.5, t.cols - 0.5, t.lo,
                              t.hi > t.lo ? t.hi : t.lo + 1);
  std::string xt = "set xtics (", yt = "set ytics (";
  for (int c = 0; c < t.cols; ++c) xt += fmt::format("{}{} {}", c ? ", " : "", label(c < (int)t.col_labels.size() ? t.col_labels[c] : "?"), c);
  for (int r = 0; r < t.rows; ++r) yt += fmt::format("{}{} {}", r ? ", " : "", label(r < (int)t.row_labels.size() ? t.row_labels[r] : "?"), r);
  s += xt + ")\n" + yt + ")\n";
  // Every cell goes to the image, an empty one as NaN (left blank): an image with cells missing
  // is not a full grid, and gnuplot would stretch its neighbours over the gap.
  std::string image, labels;
  for (int r = 0; r < t.rows; ++r)
    for (int c = 0; c < t.cols; ++c) {
      const double v = t.values[(size_t)r * t.cols + c];
      image += std::isfinite(v) ? fmt::format("{} {} {}\n", c, r, v) : fmt::format("{} {} NaN\n", c, r);
      if (std::isfinite(v)) labels += fmt::format("{} {} {:.3g}\n", c, r, v);
    }
  s += "plot '-' using 1:2:3 with image, '-' using 1:2:3 with labels font ',9'\n" + image + "e\n" + labels + "e\n";
  run_gnuplot(s, png);
}

}  // namespace attn
