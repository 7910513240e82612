#include "train/probe_hook.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "models/family.hpp"
#include "train/plot.hpp"
#include "train/probe.hpp"
#include "train/run_files.hpp"

namespace attn {

namespace {

constexpr size_t kExamples = 16;       // validation examples probed
constexpr int64_t kPositions = 32;     // label positions, one backward each
constexpr int64_t kRepeat = 32;        // n of the repeated random tokens
constexpr uint64_t kRepeatSeed = 1;

void append(const std::string& path, const std::string& header, const std::string& rows) {
  const bool fresh = !std::filesystem::exists(path);
  std::ofstream out(path, std::ios::app);
  if (fresh) out << header;
  out << rows;
  if (!out) throw Error(fmt::format("probe: cannot write {}", path));
}

// The rows of a CSV this hook wrote, after its header, split at commas.
std::vector<std::vector<std::string>> csv_rows(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string s; std::getline(ss, s, ',');) f.push_back(s);
    rows.push_back(std::move(f));
  }
  return rows;
}

// (key column's value) -> (x, y) rows of a CSV, one series per key; y <= 0 is left out (a log axis).
std::map<std::string, Series> series_by(const std::string& path, size_t key, size_t x, size_t y) {
  std::map<std::string, Series> out;
  for (const auto& f : csv_rows(path)) {
    const double yv = std::stod(f.at(y));
    if (yv <= 0) continue;
    Series& s = out[f.at(key)];
    s.x.push_back(std::stod(f.at(x)));
    s.y.push_back(yv);
  }
  return out;
}

// The series titled prefix + key, keys that are numbers in numeric order.
std::vector<Series> titled(std::map<std::string, Series> m, const std::string& prefix) {
  std::vector<std::pair<std::string, Series>> v(m.begin(), m.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.first.size() != b.first.size() ? a.first.size() < b.first.size() : a.first < b.first;
  });
  std::vector<Series> out;
  for (auto& [k, s] : v) {
    s.title = prefix + k;
    out.push_back(s);
  }
  return out;
}

}  // namespace

ProbeRecorder::ProbeRecorder(Seq2SeqModel<float>& model, const data::Dataset& ds, int64_t every, std::string dir)
    : model_(model),
      batch_(ds.batch(ds.eval_examples(data::Split::Valid, kExamples), false)),
      every_(every),
      dir_(std::move(dir)),
      attention_(!model_family(model.config.type).caps.attention.empty()),
      vocab_((int)std::min(model.config.src_vocab, model.config.tgt_vocab)) {
  std::filesystem::create_directories(dir_);
}

bool ProbeRecorder::before_step(LoopContext& c) {
  if (!started_) {  // a resumed run drops what an earlier session recorded after its checkpoint
    started_ = true;
    drop_rows_after(c.state.step);
  }
  if (c.state.step == 0) record(0);
  return false;
}

void ProbeRecorder::drop_rows_after(int64_t step) const {
  for (const char* name : {"gradflow.csv", "gradflow_state.csv", "attention.csv"}) {
    const std::string path = dir_ + "/" + name;
    if (!std::filesystem::exists(path)) continue;
    std::ifstream in(path);
    std::string header, line, kept;
    std::getline(in, header);
    while (std::getline(in, line))
      if (std::stoll(line.substr(0, line.find(','))) <= step) kept += line + "\n";
    write_text_atomic(path, header + "\n" + kept);
  }
}

void ProbeRecorder::after_step(LoopContext& c) {
  if (c.state.step % every_ == 0) record(c.state.step);
}

void ProbeRecorder::record(int64_t step) {
  const GradFlow f = bin_gradients(label_gradients(model_, batch_, kPositions));
  std::string rows, state_rows;
  for (size_t d = 0; d < f.saliency.size(); ++d)
    if (f.saliency_count[d]) rows += fmt::format("{},{},{},{}\n", step, d, f.saliency[d], f.saliency_count[d]);
  append(dir_ + "/gradflow.csv", "step,distance,saliency,labels\n", rows);
  for (size_t l = 0; l < f.state_raw.size(); ++l)
    for (size_t k = 0; k < f.state_raw[l].size(); ++k)
      state_rows += fmt::format("{},{},{},{},{},{}\n", step, l, k, f.state_raw[l][k],
                                k < f.state_relative[l].size() ? f.state_relative[l][k] : 0.0, f.state_count[l][k]);
  if (!state_rows.empty()) append(dir_ + "/gradflow_state.csv", "step,layer,lag,grad_norm,relative,labels\n", state_rows);
  if (attention_) {
    std::vector<HeadStats> stats = attention_stats(model_, batch_);
    const int64_t limit = position_limit(model_.config), n = limit > 0 ? std::min(kRepeat, limit / 2) : kRepeat;
    if (n >= 3)  // else the table is too short for two copies with an induction offset of their own
      repeat_scores(model_, repeated_random_tokens((int64_t)kExamples, n, data::Vocab::NUM_SPECIAL, vocab_, kRepeatSeed),
                    (int64_t)kExamples, n, stats);
    std::string a;
    for (const HeadStats& s : stats)
      a += fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", step, s.layer, s.head, s.mean_distance, s.entropy, s.confidence,
                       s.source_mass, s.source_labels, s.previous_token, s.induction, s.module);
    append(dir_ + "/attention.csv",
           "step,layer,head,mean_distance,entropy,confidence,source_mass,source_labels,previous_token,induction,module\n", a);
  }
  try {  // a plot that fails is a warning, never the end of the run
    plot();
  } catch (const std::exception& e) {
    fmt::print(stderr, "warning: probes: {}\n", e.what());
  }
}

void ProbeRecorder::plot() const {
  PlotSpec spec;
  spec.title = "input saliency by distance over training (one line per step)";
  spec.xlabel = "distance from input p to label j (positions; encoder-decoder: p to the source's end)";
  spec.ylabel = "fraction of the label's input gradient";
  spec.logy = true;
  plot_lines(dir_ + "/gradflow.png", spec, titled(series_by(dir_ + "/gradflow.csv", 0, 1, 2), "step "));
  if (attention_) {
    std::map<std::string, Series> heads;  // one line per (layer, head)
    for (const auto& f : csv_rows(dir_ + "/attention.csv")) {
      if (std::stod(f.at(6)) < 0) continue;  // no label with a source
      Series& s = heads[f.size() > 10 ? fmt::format("{} head {}", f.at(10), f.at(2)) : fmt::format("layer {} head {}", f.at(1), f.at(2))];
      s.x.push_back(std::stod(f.at(0)));
      s.y.push_back(std::stod(f.at(6)));
    }
    if (!heads.empty()) {
      PlotSpec a;
      a.title = "attention on the true source token over training";
      a.xlabel = "step";
      a.ylabel = "mean weight on the source";
      a.ymin = 0;
      a.ymax = 1;
      plot_lines(dir_ + "/attention_source_mass.png", a, titled(heads, ""));
    }
  }
}

}  // namespace attn
