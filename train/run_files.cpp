#include "train/run_files.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "models/fault.hpp"

#include "train/errors.hpp"
#include "train/plot.hpp"

namespace attn {

namespace fs = std::filesystem;

const char* const kMetricsColumns[] = {"step", "loss", "lr", "grad_norm", "steps_per_s", "elapsed_s",
                                       "val_loss", "val_token_accuracy", "val_sequence_accuracy", nullptr};

namespace {
const char* const kRunFiles[] = {"config.json", "metrics.jsonl", "metrics.csv", "summary.json", "last.safetensors",
                                 "best.safetensors", "state.safetensors", "loss.png", "accuracy.png", nullptr};

void write_csv_header(std::ostream& csv) {
  for (int i = 0; kMetricsColumns[i]; ++i) csv << (i ? "," : "") << kMetricsColumns[i];
  csv << "\n";
}

void write_csv_row(std::ostream& csv, const nlohmann::json& row) {
  for (int i = 0; kMetricsColumns[i]; ++i) {
    csv << (i ? "," : "");
    if (row.contains(kMetricsColumns[i])) csv << row[kMetricsColumns[i]].dump();
  }
  csv << "\n";
}

// Appends `text` and flushes; a fault point between its two halves stands for a write cut short.
void append_checked(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::app);
  const size_t half = text.size() / 2;
  f.write(text.data(), (std::streamsize)half).flush();
  if (fault_point("metrics.append")) f.setstate(std::ios::badbit);
  f.write(text.data() + half, (std::streamsize)(text.size() - half)).flush();
  if (!f) throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(errno ? errno : EIO)));
}
}  // namespace

// A temporary name this process alone writes: the shards of one sweep write its shared files
// (sweep.json) at the same time, and a shared name would let one rename the other's half-file.
std::string temp_path(const std::string& path) { return fmt::format("{}.tmp.{}", path, (long)getpid()); }

void write_text_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = temp_path(path);
  {
    std::ofstream f(tmp);
    f << text;
    f.flush();
    if (!f) {
      const int e = errno ? errno : EIO;
      fs::remove(tmp);
      throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(e)));
    }
  }
  fs::rename(tmp, path);
}

void RunFiles::create_new(bool overwrite) {
  std::error_code ec;
  created_dir_ = !fs::exists(dir_);
  if (fs::exists(path("config.json"))) {
    if (!overwrite)
      throw ConfigError(fmt::format(
          "--out {} already holds a run; pass --resume {} to continue it, --overwrite to replace it, or another --out", dir_, dir_));
    for (int i = 0; kRunFiles[i]; ++i) fs::remove(path(kRunFiles[i]), ec);
  }
  fs::create_directories(dir_, ec);
  if (ec) throw ConfigError(fmt::format("--out {}: cannot create the folder: {}", dir_, ec.message()));
  if (access(dir_.c_str(), W_OK) != 0) throw ConfigError(fmt::format("--out {}: the folder is not writable", dir_));
  fs::remove(path("metrics.jsonl"), ec);
  std::ofstream csv(path("metrics.csv"));
  write_csv_header(csv);
  if (!csv) throw std::runtime_error(fmt::format("cannot write {}", path("metrics.csv")));
}

void RunFiles::remove_new() const {
  std::error_code ec;
  for (int i = 0; kRunFiles[i]; ++i) fs::remove(path(kRunFiles[i]), ec);
  for (const char* name : {"config.json", "summary.json"}) fs::remove(temp_path(path(name)), ec);
  if (created_dir_) fs::remove(dir_, ec);  // only if now empty
}

void RunFiles::write_json(const std::string& name, const nlohmann::json& j) const {
  const std::string tmp = temp_path(path(name));
  {
    std::ofstream f(tmp);
    f << j.dump(2) << "\n";
    f.flush();
    if (!f || fault_point("json.write")) {
      const int e = errno ? errno : EIO;
      fs::remove(tmp);
      throw std::runtime_error(fmt::format("cannot write {}: {}", path(name), std::strerror(e)));
    }
  }
  fs::rename(tmp, path(name));
}

void RunFiles::append_metrics(const nlohmann::json& row) const {
  append_checked(path("metrics.jsonl"), row.dump() + "\n");
  std::ostringstream csv;
  write_csv_row(csv, row);
  append_checked(path("metrics.csv"), csv.str());
}

// metrics.jsonl is the record; metrics.csv is rebuilt from it. A row cut short by a kill can only
// be the last one, and it is dropped with the others past `step`.
void RunFiles::truncate_metrics(int64_t step) const {
  std::ifstream in(path("metrics.jsonl"));
  std::string line, kept;
  std::ostringstream csv;
  write_csv_header(csv);
  while (std::getline(in, line)) {
    nlohmann::json row;
    try {
      row = nlohmann::json::parse(line);
      if (row.at("step").get<int64_t>() > step) continue;
    } catch (const std::exception&) {
      continue;
    }
    kept += line + "\n";
    write_csv_row(csv, row);
  }
  in.close();
  for (const auto& [name, text] : {std::pair<std::string, std::string>{"metrics.jsonl", kept}, {"metrics.csv", csv.str()}}) {
    const std::string tmp = temp_path(path(name));
    std::ofstream(tmp) << text;
    fs::rename(tmp, path(name));
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
