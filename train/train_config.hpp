// Everything `attnlab train` takes, as flags or as a JSON file (--config; flags override it).
// config.json in a run's folder is this, fully resolved, so `--config DIR/config.json` reruns it.
//
// Each run setting is declared once, in ATTN_RUN_FIELDS: its type, name, default, help, valid
// range and --help group. The struct's members, their flags (train/cli/options.cpp), JSON both
// ways and validation are derived from it. The model's own settings are declared by its family
// (models/family_*.cpp) and held, as given, in `model_fields`.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "models/config.hpp"
#include "models/family.hpp"
#include "train/optim.hpp"

namespace attn {

using TextList = std::vector<std::string>;
using RealList = std::vector<double>;

// X(C++ type, member, spec): the spec's name is the member's, as a string.
#define ATTN_RUN_FIELDS(X)                                                                                         \
  X(std::string, task, text_field("task", "copy-memory", "Task to learn (see `attnlab tasks`)").in("Data"))       \
  X(TextList, task_opt, text_list_field("task_opt", "Task knob NAME=VALUE (repeatable)").in("Data"))              \
  X(TextList, test_task_opt,                                                                                      \
    text_list_field("test_task_opt", "Knob for the test split only, e.g. a longer delay").in("Data"))             \
  X(std::string, data_dir,                                                                                        \
    text_field("data_dir", "", "Your own data: DIR/{train,valid,test}.tsv instead of a task").in("Data"))         \
  X(std::string, data_text,                                                                                       \
    text_field("data_text", "", "A text file to model character by character (format lm; last 10% held out)")     \
        .in("Data"))                                                                                              \
  X(int64_t, block, int_field("block", 64, "--data-text: tokens per training window", 1, 1 << 20).in("Data"))     \
  X(std::string, text_tokens,                                                                                     \
    choice_field("text_tokens", "chars", {"chars", "words"}, "--data-text: characters, or whitespace-separated words") \
        .in("Data"))                                                                                              \
  X(std::string, format,                                                                                          \
    choice_field("format", "auto", {"auto", "seq2seq", "lm"},                                                     \
                 "Batch layout: seq2seq, or lm (one stream: source SEP target EOS); auto: the model's own")        \
        .in("Data"))                                                                                              \
  X(std::string, loss_on,                                                                                         \
    choice_field("loss_on", "target", {"target", "all"}, "Format lm: train on the target only, or on the source too") \
        .in("Data"))                                                                                              \
  X(std::string, model, model_field())                                                                            \
  X(std::string, optimizer,                                                                                       \
    choice_field("optimizer", "adam", {"adam", "adamw", "sgd"}, "Optimiser").in("Optimiser"))                     \
  X(double, lr, real_field("lr", 1e-3, "Peak learning rate", 1e-30, 1e30).in("Optimiser"))                        \
  X(double, weight_decay, real_field("weight_decay", 0.0, "Weight decay", 0.0, 1e30).in("Optimiser"))             \
  X(RealList, betas,                                                                                              \
    real_list_field("betas", {0.9, 0.999}, "Adam betas (two values)").range(0, 0.999999).exactly(2).in("Optimiser")) \
  X(double, momentum, real_field("momentum", 0.9, "SGD momentum", 0.0, 0.999999).in("Optimiser"))                 \
  X(std::string, schedule,                                                                                        \
    choice_field("schedule", "constant", {"constant", "warmup-cosine", "noam"}, "Learning-rate schedule")         \
        .in("Optimiser"))                                                                                         \
  X(int64_t, lr_warmup, int_field("lr_warmup", 0, "Warmup steps").in("Optimiser"))                                \
  X(double, lr_min, real_field("lr_min", 0.0, "warmup-cosine: the rate it decays to", 0.0, 1e30).in("Optimiser")) \
  X(double, clip_norm, real_field("clip_norm", 1.0, "Clip the gradient norm to this (0: off)", 0, 1e30).in("Training")) \
  X(double, label_smoothing, real_field("label_smoothing", 0.0, "Label smoothing", 0, 0.999999).in("Training"))   \
  X(int64_t, batch, int_field("batch", 64, "Examples per optimiser step", 1).in("Training"))                       \
  X(int64_t, accumulate,                                                                                          \
    int_field("accumulate", 1, "Split each step's batch into K micro-batches run one after another", 1)           \
        .in("Training"))                                                                                          \
  X(int64_t, steps, int_field("steps", 2000, "Training steps (on --resume: extends the run)", 1).in("Training").extends()) \
  X(int64_t, eval_every,                                                                                          \
    int_field("eval_every", 250, "Evaluate on validation every N steps", 1).in("Training").extends())             \
  X(int64_t, log_every, int_field("log_every", 50, "Log training loss every N steps", 1).in("Training").extends()) \
  X(int64_t, probe_every,                                                                                         \
    int_field("probe_every", 0, "Record the gradient-flow and attention probes every N steps, and at step 0, in "  \
              "probes/ (docs/probes.md; format lm; 0: off)", 0)                                                   \
        .in("Training").extends())                                                                                \
  X(int64_t, eval_examples,                                                                                       \
    int_field("eval_examples", 1000, "Validation and test examples", 1).in("Training").extends())                 \
  X(double, target_accuracy,                                                                                      \
    real_field("target_accuracy", 0.0, "Stop once validation sequence accuracy reaches this (0: never)", 0, 1)    \
        .in("Training").extends())                                                                                \
  X(int64_t, seed,                                                                                                \
    int_field("seed", 1, "Seed for data, initialisation and dropout", 0, INT64_MAX).in("Training"))               \
  X(int64_t, threads, int_field("threads", 2, "Threads (OpenMP and BLAS)", 1, 256).in("Training").extends())      \
  X(bool, skip_test,                                                                                              \
    bool_field("skip_test", false, "Never read the test split (tuning runs: selection sees validation only)")     \
        .in("Training"))                                                                                          \
  X(bool, detect_anomaly,                                                                                         \
    bool_field("detect_anomaly", false, "Name the first op that produces NaN or Inf (slow)").in("Training").extends()) \
  X(std::string, max_memory,                                                                                      \
    text_field("max_memory", "",                                                                                  \
               "Refuse a run whose estimated step memory exceeds this (e.g. 8G); default: what the machine has")  \
        .in("Training").extends())                                                                                \
  X(bool, quiet, bool_field("quiet", false, "No progress output").in("Training").extends().unsaved())

// The --model field: its choices are the registered families.
FieldSpec model_field();

struct TrainArgs {
#define ATTN_DECLARE_MEMBER(type, member, spec) type member = std::get<type>((spec).default_value);
  ATTN_RUN_FIELDS(ATTN_DECLARE_MEMBER)
#undef ATTN_DECLARE_MEMBER
  // The model family's fields, as given (flags or file); the family's defaults fill the rest.
  FieldValues model_fields;

  // The run fields' declarations, in order.
  static const std::vector<FieldSpec>& specs();
  FieldValue get(const std::string& name) const;
  void set(const std::string& name, const FieldValue& v);

  // The saved run fields and the chosen family's fields, defaults filled in.
  nlohmann::json to_json() const;
  // Reads the keys of to_json(); unknown keys are an error (typos must not pass silently). A
  // config.json written before the family registry has every family's fields; those the chosen
  // family lacks are ignored there, and an error in a newer file.
  static TrainArgs from_json(const nlohmann::json& j);
  // The keys of `j` that from_json reads, in order; throws ConfigError for an unknown one.
  static std::vector<std::string> keys_to_read(const nlohmann::json& j);
  // Checks values and builds the configs; throws ConfigError naming the problem.
  data::DataConfig data_config() const;
  // --format resolved: the model family's first format when "auto".
  std::string resolved_format() const;
  ModelConfig model_config(const data::Dataset& ds) const;
  ModelConfig model_config(const DataShape& ds) const;
  OptimConfig optim_config() const;
  void validate() const;
};

}  // namespace attn
