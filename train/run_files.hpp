// The files of one training run in its --out folder: config.json, metrics.jsonl and
// metrics.csv (a row per log or eval step), summary.json, the plots and the checkpoints.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "data/task.hpp"

namespace attn {

class RunFiles {
 public:
  explicit RunFiles(std::string dir) : dir_(std::move(dir)) {}
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  // Creates the folder for a new run. Throws ConfigError when it cannot be written or
  // already holds a run (config.json) and `overwrite` is false, so that nothing is lost by mistake.
  void create_new(bool overwrite);
  // Removes what create_new and the run wrote, and the folder if create_new made it: for a run
  // that fails before its first checkpoint, so that no half-made run is left behind.
  void remove_new() const;
  void write_json(const std::string& name, const nlohmann::json& j) const;  // atomic
  // Throws naming the file when the write fails (a full disk, say).
  void append_metrics(const nlohmann::json& row) const;
  // Drops the rows after `step` and any cut short (resuming from a checkpoint taken there).
  void truncate_metrics(int64_t step) const;
  // loss.png and accuracy.png from metrics.jsonl; a failure is reported, not fatal.
  void write_plots(const data::Chance& chance) const;

 private:
  std::string dir_;
  bool created_dir_ = false;
};

// Writes `text` to `path` through temp_path(path) and a rename, so that no half-written file is
// left; throws std::runtime_error naming the file when the write fails.
void write_text_atomic(const std::string& path, const std::string& text);
// `path`.tmp.<pid>: a name no other process writes at the same time.
std::string temp_path(const std::string& path);

// The columns of metrics.csv, in order.
extern const char* const kMetricsColumns[];

}  // namespace attn
