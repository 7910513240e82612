// `attnlab train`: one training run (see train/run.hpp).
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <csignal>
#include <fstream>

#include "train/cli/cli.hpp"
#include "train/cli/options.hpp"
#include "train/distributed.hpp"
#include "train/errors.hpp"
#include "train/run.hpp"

namespace attn::cli {

namespace {

nlohmann::json read_json_file(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("{} {}: cannot read the file", what, path));
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw UsageError(fmt::format("{} {}: not valid JSON: {}", what, path, e.what()));
  }
}

struct TrainCommand {
  TrainArgs args;
  RunOptions run;
  std::string resume, config;
  std::vector<BoundFlag> flags;
};

void add_run_options(CLI::App& c, TrainCommand& t) {
  c.add_option("--out", t.run.out, "Folder for the run's files")->group("Run");
  c.add_option("--config", t.config, "Read settings from this JSON file (a run's config.json works); flags override it")
      ->group("Run");
  c.add_option("--resume", t.resume,
               "Continue the run in this folder from its last checkpoint; --steps and evaluation settings may change")
      ->group("Run");
  c.add_flag("--dry-run", t.run.dry_run, "Print the resolved config and parameter count; write nothing")->group("Run");
  c.add_flag("--overwrite", t.run.overwrite, "Replace a run already in --out")->group("Run");
}

// `base` with the flags given on the command line on top. (CLI11 2.1 reads config files for the
// main app only, not for a subcommand, so the file is read here; argv is never parsed twice.)
TrainArgs with_given_flags(TrainArgs base, const TrainCommand& t) {
  for (const BoundFlag& b : given(t.flags)) {
    if (b.model_field) base.model_fields[b.spec->name] = t.args.model_fields.at(b.spec->name);
    else base.set(b.spec->name, t.args.get(b.spec->name));
  }
  return base;
}

// The stored run's settings with the flags given now that may change on resume; refuses the
// others when they differ from the stored ones.
TrainArgs resumed_args(const TrainCommand& t) {
  if (!t.config.empty()) throw UsageError("--resume reads the run's own config.json; drop --config");
  const TrainArgs stored = TrainArgs::from_json(read_json_file(t.resume + "/config.json", "--resume"));
  std::vector<std::string> given_names;
  for (const BoundFlag& b : given(t.flags)) given_names.push_back(b.spec->name);
  const std::vector<std::string> refused = resume_conflicts(stored, t.args, given_names);
  if (!refused.empty())
    throw UsageError(fmt::format("--resume {}: {} would rewrite the run's past (its model, data, seed or optimiser); "
                                 "start a new run instead. Only --steps and evaluation settings can change on resume",
                                 t.resume, fmt::join(refused, ", ")));
  return with_given_flags(stored, t);
}

int exit_code_of(const RunOutcome& r) {
  if (r.end == LoopEnd::Finished) return 0;
  return r.signal == SIGTERM ? 143 : 130;
}

}  // namespace

void add_train_command(CLI::App& app, int& exit_code) {
  auto t = std::make_shared<TrainCommand>();
  auto* cmd = app.add_subcommand("train", "Train a model on a task or a file dataset, evaluate it, write its run folder");
  cmd->footer(
      "Writes to --out: config.json, metrics.jsonl, metrics.csv, last.safetensors, best.safetensors,\n"
      "state.safetensors (optimiser and RNG state for --resume), summary.json, loss.png, accuracy.png.\n"
      "Model flags apply to the families named in [brackets]; see `attnlab models`.\n"
      "Exit codes: 0 done, 1 failure, 2 bad input, 3 non-finite loss or gradient, 130/143 interrupted\n"
      "(SIGINT/SIGTERM: a checkpoint is written first). See docs/cli.md.");
  t->flags = add_train_options(*cmd, t->args);
  add_run_options(*cmd, *t);
  cmd->callback([t, &exit_code] {
    TrainArgs args = t->args;
    RunOptions run = t->run;
    if (!t->resume.empty()) {
      run.out = t->resume;
      run.resume = true;
      args = resumed_args(*t);
    } else if (!t->config.empty()) {
      args = with_given_flags(TrainArgs::from_json(read_json_file(t->config, "--config")), *t);
    }
    try {
      exit_code = exit_code_of(run_training(args, run));
    } catch (const NonFiniteError& e) {
      if (Ranks::world().root()) fmt::print(stderr, "{}\n", e.what());  // every rank stops the same way
      exit_code = 3;
    }
  });
}

}  // namespace attn::cli
