#include "train/train_config.hpp"

#include <fmt/format.h>

#include "models/json_get.hpp"
#include "models/memory_estimate.hpp"

#include "train/cli/cli.hpp"

namespace attn {

using cli::UsageError;

void add_train_options(CLI::App& c, TrainArgs& a) {
  c.add_option("--task", a.task, "Task to learn (see `attnlab tasks`)")->capture_default_str()->group("Data");
  c.add_option("--task-opt", a.task_opts, "Task knob NAME=VALUE (repeatable)")->group("Data");
  c.add_option("--test-task-opt", a.test_task_opts, "Knob for the test split only, e.g. a longer delay")->group("Data");
  c.add_option("--data-dir", a.data_dir, "Your own data: DIR/{train,valid,test}.tsv instead of a task")->group("Data");
  c.add_option("--model", a.model, "transformer | lstm | lstm-attn")->capture_default_str()->group("Model");
  c.add_option("--d-model", a.d_model, "Transformer width (also lstm-attn's attention width = --hidden)")->capture_default_str()->group("Model");
  c.add_option("--heads", a.heads, "Attention heads")->capture_default_str()->group("Model");
  c.add_option("--ff", a.ff, "Feed-forward width")->capture_default_str()->group("Model");
  c.add_option("--enc-layers", a.enc_layers, "Encoder layers")->capture_default_str()->group("Model");
  c.add_option("--dec-layers", a.dec_layers, "Decoder layers")->capture_default_str()->group("Model");
  c.add_option("--dropout", a.dropout, "Dropout probability")->capture_default_str()->group("Model");
  c.add_flag("--norm-first,!--post-norm", a.norm_first, "Pre-LN (default) or post-LN layers")->group("Model");
  c.add_option("--pos", a.pos, "Positions: learned | sinusoidal")->capture_default_str()->group("Model");
  c.add_option("--activation", a.activation, "Feed-forward activation: relu | gelu")->capture_default_str()->group("Model");
  c.add_option("--hidden", a.hidden, "LSTM hidden size")->capture_default_str()->group("Model");
  c.add_option("--layers", a.layers, "LSTM layers")->capture_default_str()->group("Model");
  c.add_option("--max-len", a.max_len, "Rows of the position table (0: the data's longest sequence)")->capture_default_str()->group("Model");
  c.add_option("--optimizer", a.optimizer, "adam | adamw | sgd")->capture_default_str()->group("Optimiser");
  c.add_option("--lr", a.lr, "Peak learning rate")->capture_default_str()->group("Optimiser");
  c.add_option("--weight-decay", a.weight_decay, "Weight decay")->capture_default_str()->group("Optimiser");
  c.add_option("--betas", a.betas, "Adam betas (two values)")->expected(2)->capture_default_str()->group("Optimiser");
  c.add_option("--momentum", a.momentum, "SGD momentum")->capture_default_str()->group("Optimiser");
  c.add_option("--schedule", a.schedule, "constant | warmup-cosine | noam")->capture_default_str()->group("Optimiser");
  c.add_option("--lr-warmup", a.lr_warmup, "Warmup steps")->capture_default_str()->group("Optimiser");
  c.add_option("--clip-norm", a.clip_norm, "Clip the gradient norm to this (0: off)")->capture_default_str()->group("Training");
  c.add_option("--label-smoothing", a.label_smoothing, "Label smoothing")->capture_default_str()->group("Training");
  c.add_option("--batch", a.batch, "Examples per step")->capture_default_str()->group("Training");
  c.add_option("--steps", a.steps, "Training steps")->capture_default_str()->group("Training");
  c.add_option("--eval-every", a.eval_every, "Evaluate on validation every N steps")->capture_default_str()->group("Training");
  c.add_option("--log-every", a.log_every, "Log training loss every N steps")->capture_default_str()->group("Training");
  c.add_option("--eval-examples", a.eval_examples, "Validation and test examples")->capture_default_str()->group("Training");
  c.add_option("--target-accuracy", a.target_accuracy, "Stop once validation sequence accuracy reaches this (0: never)")->capture_default_str()->group("Training");
  c.add_option("--seed", a.seed, "Seed for data, initialisation and dropout")->capture_default_str()->group("Training");
  c.add_option("--threads", a.threads, "Threads (OpenMP and BLAS)")->capture_default_str()->group("Training");
  c.add_flag("--detect-anomaly", a.detect_anomaly, "Name the first op that produces NaN or Inf (slow)")->group("Training");
  c.add_option("--max-memory", a.max_memory,
               "Refuse a run whose estimated step memory exceeds this (e.g. 8G); default: what the machine has")
      ->group("Training");
  c.add_flag("--quiet", a.quiet, "No progress output")->group("Training");
}

nlohmann::json TrainArgs::to_json() const {
  return {{"task", task}, {"task_opt", task_opts}, {"test_task_opt", test_task_opts}, {"data_dir", data_dir},
          {"model", model}, {"d_model", d_model}, {"heads", heads}, {"ff", ff}, {"enc_layers", enc_layers},
          {"dec_layers", dec_layers}, {"dropout", dropout}, {"norm_first", norm_first}, {"pos", pos},
          {"activation", activation}, {"hidden", hidden}, {"layers", layers}, {"max_len", max_len},
          {"optimizer", optimizer}, {"lr", lr}, {"weight_decay", weight_decay}, {"betas", betas},
          {"momentum", momentum}, {"schedule", schedule}, {"lr_warmup", lr_warmup}, {"clip_norm", clip_norm},
          {"label_smoothing", label_smoothing}, {"batch", batch}, {"steps", steps}, {"eval_every", eval_every},
          {"log_every", log_every}, {"eval_examples", eval_examples}, {"target_accuracy", target_accuracy},
          {"seed", seed}, {"threads", threads}, {"detect_anomaly", detect_anomaly},
          {"max_memory", max_memory}};
}

TrainArgs TrainArgs::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw UsageError("config: not a JSON object");
  TrainArgs a;
  const nlohmann::json known = a.to_json();
  try {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& k = it.key();
      if (k == "resolved" || k == "attnlab_version" || k == "machine") continue;  // for readers, not read back
      if (!known.contains(k)) throw UsageError(fmt::format("config: unknown key '{}'", k));
    }
#define GET(key, field) json_get(j, key, a.field);
    GET("task", task) GET("task_opt", task_opts) GET("test_task_opt", test_task_opts) GET("data_dir", data_dir)
    GET("model", model) GET("d_model", d_model) GET("heads", heads) GET("ff", ff) GET("enc_layers", enc_layers)
    GET("dec_layers", dec_layers) GET("dropout", dropout) GET("norm_first", norm_first) GET("pos", pos)
    GET("activation", activation) GET("hidden", hidden) GET("layers", layers) GET("max_len", max_len)
    GET("optimizer", optimizer) GET("lr", lr) GET("weight_decay", weight_decay) GET("betas", betas)
    GET("momentum", momentum) GET("schedule", schedule) GET("lr_warmup", lr_warmup) GET("clip_norm", clip_norm)
    GET("label_smoothing", label_smoothing) GET("batch", batch) GET("steps", steps) GET("eval_every", eval_every)
    GET("log_every", log_every) GET("eval_examples", eval_examples) GET("target_accuracy", target_accuracy)
    GET("seed", seed) GET("threads", threads) GET("detect_anomaly", detect_anomaly) GET("max_memory", max_memory)
#undef GET
  } catch (const nlohmann::json::exception& e) {
    throw UsageError(fmt::format("config: {}", e.what()));
  } catch (const std::invalid_argument& e) {
    throw UsageError(fmt::format("config: {}", e.what()));
  }
  return a;
}

void TrainArgs::validate() const {
  auto need = [](bool ok, const std::string& m) {
    if (!ok) throw UsageError(m);
  };
  need(batch > 0, fmt::format("--batch must be positive, got {}", batch));
  need(steps > 0, fmt::format("--steps must be positive, got {}", steps));
  need(eval_every > 0, fmt::format("--eval-every must be positive, got {}", eval_every));
  need(log_every > 0, fmt::format("--log-every must be positive, got {}", log_every));
  need(eval_examples > 0, fmt::format("--eval-examples must be positive, got {}", eval_examples));
  need(threads > 0 && threads <= 256, fmt::format("--threads must be in 1..256, got {}", threads));
  if (!max_memory.empty()) {
    try {
      parse_bytes(max_memory);
    } catch (const std::invalid_argument& e) {
      throw UsageError(fmt::format("--max-memory: {}", e.what()));
    }
  }
  need(clip_norm >= 0, fmt::format("--clip-norm must be >= 0, got {}", clip_norm));
  need(label_smoothing >= 0 && label_smoothing < 1, fmt::format("--label-smoothing must be in [0, 1), got {}", label_smoothing));
  need(target_accuracy >= 0 && target_accuracy <= 1, fmt::format("--target-accuracy must be in [0, 1], got {}", target_accuracy));
  need(max_len >= 0, fmt::format("--max-len must be >= 0, got {}", max_len));
  need(betas.size() == 2, "--betas takes two values");
  for (auto [v, name] : {std::pair{d_model, "--d-model"}, {ff, "--ff"}, {hidden, "--hidden"}})
    need(v > 0, fmt::format("{} must be positive, got {}", name, v));
  for (auto [v, name] : {std::pair{heads, "--heads"}, {dec_layers, "--dec-layers"}, {layers, "--layers"}})
    need(v > 0, fmt::format("{} must be positive, got {}", name, v));
  need(enc_layers >= 0, fmt::format("--enc-layers must be >= 0, got {}", enc_layers));
  try {
    optim_config().validate();
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
}

data::DataConfig TrainArgs::data_config() const {
  try {
    if (!data_dir.empty()) {
      if (!task_opts.empty() || !test_task_opts.empty()) throw UsageError("--task-opt applies to tasks, not to --data-dir");
      auto c = data::file_config(data_dir, seed);
      return c;
    }
    return data::task_config(task, data::parse_task_options(task_opts), data::parse_task_options(test_task_opts), seed,
                             (size_t)eval_examples, (size_t)eval_examples);
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    throw UsageError(e.what());
  }
}

ModelConfig TrainArgs::model_config(const data::Dataset& ds) const {
  return model_config(DataShape{(size_t)ds.vocab().size(), ds.max_src_len(), ds.max_tgt_len()});
}

ModelConfig TrainArgs::model_config(const DataShape& ds) const {
  ModelConfig c;
  c.type = model;
  c.src_vocab = c.tgt_vocab = (int64_t)ds.vocab;
  c.d_model = model == "lstm-attn" ? hidden : d_model;
  c.heads = heads;
  c.ff = ff;
  c.enc_layers = enc_layers;
  c.dec_layers = dec_layers;
  c.dropout = dropout;
  c.norm_first = norm_first;
  c.pos = pos;
  c.activation = activation;
  c.hidden = hidden;
  c.layers = layers;
  const int64_t need = (int64_t)std::max(ds.max_src_len, ds.max_tgt_len + 1);
  c.max_len = max_len > 0 ? max_len : need;
  try {
    c.validate();
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  if (c.max_len < need)
    throw UsageError(fmt::format("--max-len {} is shorter than the data's longest sequence ({})", c.max_len, need));
  return c;
}

OptimConfig TrainArgs::optim_config() const {
  OptimConfig o;
  o.name = optimizer;
  o.lr = lr;
  o.weight_decay = weight_decay;
  if (betas.size() == 2) {
    o.beta1 = betas[0];
    o.beta2 = betas[1];
  }
  o.momentum = momentum;
  o.schedule = schedule;
  o.warmup = lr_warmup;
  return o;
}

}  // namespace attn
