// What `attnlab sweep`'s parts share: its arguments, the grid runner and the collect step.
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "train/cli/options.hpp"
#include "train/stats.hpp"
#include "train/train_config.hpp"

namespace attn::cli {

// A named family with fixed settings (sweep_variant.cpp), listed in --models like a family.
struct Variant {
  std::string name, family, definition;  // definition: "FAMILY[:FIELD=VALUE...]" as given
  std::vector<std::pair<std::string, std::string>> fields;  // field (JSON key), value as text
};

struct SweepArgs {
  TrainArgs train;
  std::string vary, models = fmt::format("{}", fmt::join(model_family_names(), ",")), out, shard = "1/1", collect;
  std::string model_lr;  // "transformer=0.001,lstm=0.003": a learning rate per model
  std::vector<std::string> variants;  // "NAME=FAMILY[:FIELD=VALUE...]"
  // Learning-rate tuning on validation (sweep_tune.cpp): the grid, the swept value it runs at
  // (default: the middle one) and its seeds; or the rates of an earlier tuning.json.
  std::string tune_lr, tune_at, lr_from;
  int seeds = 1, jobs = 1, tune_seeds = 2;
  bool plan = false;       // print the runs and a measured time estimate; run nothing
  bool tune_only = false;  // stop after tuning.json
  std::string emit;        // slurm | parallel: write the jobs, run nothing
  int emit_shards = 0;     // 0: one run per shard
  double max_hours = 0;    // refuse a longer estimate (0: no limit)
};

// The --variant texts, checked (a known family, its own fields, a new name); UsageError otherwise.
std::vector<Variant> parse_variants(const std::vector<std::string>& texts);
const Variant* find_variant(const std::vector<Variant>& variants, const std::string& name);
// What `model` of --models stands for: its variant's definition, or the family's name.
std::string model_definition(const std::vector<Variant>& variants, const std::string& model);

// One run of a grid: its resolved arguments and its folder name.
struct Run {
  std::string model, value;
  int seed;
  TrainArgs args;
  nlohmann::json key;  // result_config(args): what the folder's hash covers
  std::string hash, id;
};
// The run of `model` at `name`=`value` with `seed`, at learning rate `lr` if given. A run that
// skips test (a tuning run) is named by its rate instead of the value.
Run make_run(const SweepArgs& a, const std::string& model, const std::string& name, const std::string& value, int seed,
             std::optional<double> lr);

// The tuning grid: every model at every rate of --tune-lr and every tuning seed, at one value,
// with test never read. Empty without --tune-lr.
struct Tuning {
  std::vector<Run> grid;
  std::string at;  // the swept value it runs at
  std::vector<std::string> rates;
  std::map<std::string, std::string> definitions;  // model -> model_definition()
};
Tuning plan_tuning(const SweepArgs& a, const std::string& name, const std::vector<std::string>& values);
// Reads the finished tuning runs of DIR/tune, writes DIR/tuning.json and returns "model=lr,...":
// the highest mean best validation sequence accuracy, ties to the lower mean validation loss.
std::string choose_learning_rates(const std::string& dir, const Tuning& t);
// The chosen rates of an earlier tuning.json, as "model=lr,..."; every model must be there, and
// a variant must have the definition it was tuned with.
std::string read_tuning(const std::string& path, const std::vector<std::string>& models,
                        const std::vector<Variant>& variants);

// "a:b::c" -> {"a", "b", "", "c"}: every part kept.
std::vector<std::string> split_on(const std::string& s, char sep);
// "a, b,c" -> {"a", "b", "c"}: empty items and spaces dropped.
std::vector<std::string> split_list(const std::string& s);
// A swept name as it appears in plot file names: a compound axis "a:b" becomes "a-b", since a
// colon in a Markdown link reads as a URL scheme.
inline std::string plot_stem(std::string name) {
  std::replace(name.begin(), name.end(), ':', '-');
  return name;
}
inline std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  return fmt::format("{}", fmt::join(v, sep));
}

// One finished run as collect reads it.
struct Result {
  std::string model, value;
  int seed;
  std::string id;
  nlohmann::json s;  // its summary.json
};
// The finished runs of sweep folder `dir` (each checked against its folder's hash); `missing`
// counts those without a summary.json.
std::vector<Result> read_results(const std::string& dir, const nlohmann::json& sweep, int& missing);
// What a sweep's titles call its task: the task, or "tasks" when the task is itself swept.
inline std::string task_title(const nlohmann::json& sweep) {
  for (const std::string& part : split_on(sweep["vary"].get<std::string>(), ':'))
    if (part == "task") return "tasks";
  return sweep["task"].get<std::string>();
}
using RunsByValue = std::vector<std::vector<const Result*>>;  // value index -> its runs
// Each model's runs at each of `values` (throws UsageError for a run at another value).
std::map<std::string, RunsByValue> runs_by_model(const std::vector<std::string>& values, const std::vector<Result>& results);
// Test accuracy against test length (sweep_length.cpp) when the test split spans several
// lengths: the PNG names written into `dir` (none otherwise).
std::vector<std::string> plot_length_accuracy(const std::string& dir, const nlohmann::json& sweep,
                                              const std::vector<Result>& results);

// A cell's runs as the bootstrap resamples them (each run's test_per_example), when they all
// have per-example results (runs before they were recorded do not).
bool all_per_example(const std::vector<const Result*>& runs);
Cell sequence_cell(const std::vector<const Result*>& runs);
TokenCell token_cell(const std::vector<const Result*>& runs);
// The bootstrap's own seed, fixed so that a report is the same each time it is written.
constexpr uint64_t kStatsSeed = 20261202;

// --emit: the command as cluster jobs (sweep_emit.cpp), from this process's own arguments.
struct EmitSpec {
  std::string kind, out, what;  // slurm | parallel; the folder (scripts go to OUT/emit); "sweep ..."
  int shards = 1, jobs = 1, threads = 1;
  double bytes = 0;             // memory per shard task
  bool tunes = false;           // a tuning job first; the shards then take --lr-from lr_from_after_tuning
  std::string lr_from_after_tuning;
  std::vector<std::string> collect_args;  // the collect step's arguments (empty: the shards' with --collect)
};
int emit_jobs(const EmitSpec& e);
// Memory for one task that trains any of `runs`: their largest step estimate with a margin.
double task_memory_bytes(const std::vector<TrainArgs>& runs);
// Every run of the sweep's grid (rates as given; tuning is not planned here).
std::vector<Run> sweep_grid(const SweepArgs& a);

// Runs the grid (or only collects, with --collect); the exit code.
int run_sweep(const SweepArgs& a);
// Merges the finished runs of sweep folder `dir` into results.csv and plots, and report.md when
// `report` and every run has per-example results; 1 if any run is missing.
int collect(const std::string& dir, bool report = true);
// DIR/report.md (sweep_report.cpp); UsageError when a run lacks per-example results.
void write_report(const std::string& dir);
// OUT/report.md and a PNG per cell: token accuracy against state size across sweeps of one task
// at different widths (sweep_state.cpp).
void write_state_plots(const std::string& out, const std::vector<std::string>& dirs);
nlohmann::json read_sweep_json(const std::string& dir);

}  // namespace attn::cli
