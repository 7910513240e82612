#include "train/run_files.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "train/cli.hpp"
#include "train/plot.hpp"

namespace attn {

namespace fs = std::filesystem;

const char* const kMetricsColumns[] = {"step", "loss", "lr", "grad_norm", "steps_per_s", "elapsed_s",
                                       "val_loss", "val_token_accuracy", "val_sequence_accuracy", nullptr};

void RunFiles::create_new(bool overwrite) {
  std::error_code ec;
  if (fs::exists(path("config.json"))) {
    if (!overwrite)
      throw cli::UsageError(fmt::format(
          "--out {} already holds a run; pass --resume {} to continue it, --overwrite to replace it, or another --out", dir_, dir_));
    for (const char* f : {"config.json", "metrics.jsonl", "metrics.csv", "summary.json", "last.safetensors",
                          "best.safetensors", "state.safetensors", "loss.png", "accuracy.png"})
      fs::remove(path(f), ec);
  }
  fs::create_directories(dir_, ec);
  if (ec) throw cli::UsageError(fmt::format("--out {}: cannot create the folder: {}", dir_, ec.message()));
  if (access(dir_.c_str(), W_OK) != 0) throw cli::UsageError(fmt::format("--out {}: the folder is not writable", dir_));
  fs::remove(path("metrics.jsonl"), ec);
  std::ofstream csv(path("metrics.csv"));
  for (int i = 0; kMetricsColumns[i]; ++i) csv << (i ? "," : "") << kMetricsColumns[i];
  csv << "\n";
}

void RunFiles::write_json(const std::string& name, const nlohmann::json& j) const {
  const std::string tmp = path(name + ".tmp");
  {
    std::ofstream f(tmp);
    f << j.dump(2) << "\n";
    if (!f) throw std::runtime_error(fmt::format("cannot write {}", tmp));
  }
  fs::rename(tmp, path(name));
}

void RunFiles::append_metrics(const nlohmann::json& row) const {
  std::ofstream(path("metrics.jsonl"), std::ios::app) << row.dump() << "\n";
  std::ofstream csv(path("metrics.csv"), std::ios::app);
  for (int i = 0; kMetricsColumns[i]; ++i) {
    csv << (i ? "," : "");
    if (row.contains(kMetricsColumns[i])) csv << row[kMetricsColumns[i]].dump();
  }
  csv << "\n";
}

void RunFiles::truncate_metrics(int64_t step) const {
  for (const char* name : {"metrics.jsonl", "metrics.csv"}) {
    std::ifstream in(path(name));
    std::string line, kept;
    bool header = std::string(name) == "metrics.csv";
    while (std::getline(in, line)) {
      if (header) {
        kept += line + "\n";
        header = false;
        continue;
      }
      const int64_t s = std::string(name) == "metrics.csv" ? std::stoll(line.substr(0, line.find(',')))
                                                           : nlohmann::json::parse(line).at("step").get<int64_t>();
      if (s <= step) kept += line + "\n";
    }
    std::ofstream(path(name)) << kept;
  }
}

void RunFiles::write_plots(const data::Chance& chance) const {
  Series loss{"train loss", {}, {}, {}}, vloss{"validation loss (teacher-forced)", {}, {}, {}};
  Series seq{"validation sequence accuracy", {}, {}, {}}, tok{"validation token accuracy", {}, {}, {}};
  std::ifstream in(path("metrics.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    const double s = j["step"].get<double>();
    loss.x.push_back(s);
    loss.y.push_back(j["loss"].get<double>());
    if (j.contains("val_loss")) {
      vloss.x.push_back(s);
      vloss.y.push_back(j["val_loss"].get<double>());
      seq.x.push_back(s);
      seq.y.push_back(j["val_sequence_accuracy"].get<double>());
      tok.x.push_back(s);
      tok.y.push_back(j["val_token_accuracy"].get<double>());
    }
  }
  try {
    plot_lines(path("loss.png"), {"Loss", "step", "cross-entropy", true}, {loss, vloss});
    Series ct{"chance (token)", seq.x, std::vector<double>(seq.x.size(), chance.token), {}};
    Series cs{"chance (sequence)", seq.x, std::vector<double>(seq.x.size(), chance.sequence), {}};
    ct.dashed = cs.dashed = true;
    plot_lines(path("accuracy.png"), {"Validation accuracy (greedy decoding)", "step", "accuracy", false, false, 0, 1.02},
               {seq, tok, ct, cs});
  } catch (const std::exception& e) {
    fmt::print(stderr, "warning: {}\n", e.what());
  }
}

}  // namespace attn
