// Everything `attnlab train` takes, as flags or as a JSON file (--config; flags override it).
// config.json in a run's folder is this, fully resolved, so `--config DIR/config.json` reruns it.
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "models/config.hpp"
#include "train/optim.hpp"

namespace attn {

// What a model's config needs from the data: vocabulary size and the longest sequences.
struct DataShape {
  size_t vocab = 0, max_src_len = 0, max_tgt_len = 0;  // tgt without BOS/EOS
};

struct TrainArgs {
  // data
  std::string task = "copy-memory";
  std::vector<std::string> task_opts, test_task_opts;  // NAME=VALUE
  std::string data_dir;
  // model
  std::string model = "transformer";
  int64_t d_model = 64;
  int heads = 4;
  int64_t ff = 256;
  int enc_layers = 2, dec_layers = 2;
  double dropout = 0.0;
  bool norm_first = true;
  std::string pos = "learned";
  std::string activation = "relu";
  int64_t hidden = 128;
  int layers = 1;
  int64_t max_len = 0;  // 0: the longest sequence the data can produce
  // optimiser
  std::string optimizer = "adam";
  double lr = 1e-3, weight_decay = 0.0;
  std::vector<double> betas = {0.9, 0.999};
  double momentum = 0.9;
  std::string schedule = "constant";
  int64_t lr_warmup = 0;
  // loop
  double clip_norm = 1.0;
  double label_smoothing = 0.0;
  int batch = 64;
  int64_t steps = 2000;
  int64_t eval_every = 250;
  int64_t log_every = 50;
  int64_t eval_examples = 1000;
  double target_accuracy = 0.0;  // > 0: stop once validation sequence accuracy reaches it
  uint64_t seed = 1;
  int threads = 2;
  bool detect_anomaly = false;
  std::string max_memory;  // "" : what the machine has (models/memory_estimate.hpp)
  bool quiet = false;

  nlohmann::json to_json() const;
  // Reads the keys of to_json(); unknown keys are an error (typos must not pass silently).
  static TrainArgs from_json(const nlohmann::json& j);
  // Checks values and builds the configs; throws cli::UsageError naming the problem.
  data::DataConfig data_config() const;
  ModelConfig model_config(const data::Dataset& ds) const;
  ModelConfig model_config(const DataShape& ds) const;
  OptimConfig optim_config() const;
  void validate() const;
};

// Adds the flags of TrainArgs to `cmd`, bound to `a`.
void add_train_options(CLI::App& cmd, TrainArgs& a);

}  // namespace attn
