// `attnlab train`: one training run (see trainer.hpp).
#include <fmt/core.h>

#include <fstream>

#include "train/cli/cli.hpp"
#include "train/trainer.hpp"

namespace attn::cli {

namespace {
std::vector<std::string> g_raw;

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
  std::string config, resume;
};

void add_run_options(CLI::App& c, TrainCommand& t) {
  c.add_option("--out", t.run.out, "Folder for the run's files")->group("Run");
  c.add_option("--config", t.config, "Read settings from this JSON file (a run's config.json works); flags override it")
      ->group("Run");
  c.add_option("--resume", t.resume, "Continue the run in this folder from its last checkpoint")->group("Run");
  c.add_flag("--dry-run", t.run.dry_run, "Print the resolved config and parameter count; write nothing")->group("Run");
  c.add_flag("--overwrite", t.run.overwrite, "Replace a run already in --out")->group("Run");
}
}  // namespace

void set_raw_args(int argc, char** argv) { g_raw.assign(argv + 1, argv + argc); }
const std::vector<std::string>& raw_args() { return g_raw; }

void add_train_command(CLI::App& app, int& exit_code) {
  auto t = std::make_shared<TrainCommand>();
  auto* cmd = app.add_subcommand("train", "Train a model on a task or a file dataset, evaluate it, write its run folder");
  cmd->footer(
      "Writes to --out: config.json, metrics.jsonl, metrics.csv, last.safetensors, best.safetensors,\n"
      "state.safetensors (optimiser and RNG state for --resume), summary.json, loss.png, accuracy.png.\n"
      "Exit codes: 0 done, 1 failure, 2 bad input, 3 non-finite loss or gradient, 130/143 interrupted\n"
      "(SIGINT/SIGTERM: a checkpoint is written first). See docs/cli.md.");
  add_train_options(*cmd, t->args);
  add_run_options(*cmd, *t);
  cmd->callback([t, &exit_code] {
    TrainArgs args = t->args;
    RunOptions run = t->run;
    if (!t->resume.empty()) {
      run.out = t->resume;
      run.resume = true;
      args = TrainArgs::from_json(read_json_file(t->resume + "/config.json", "--resume"));
    } else if (!t->config.empty()) {
      // The file's values first, then the command line again on top of them.
      TrainCommand again;
      again.args = TrainArgs::from_json(read_json_file(t->config, "--config"));
      CLI::App reparse;
      auto* sub = reparse.add_subcommand("train");
      add_train_options(*sub, again.args);
      add_run_options(*sub, again);
      std::vector<std::string> rev(raw_args().rbegin(), raw_args().rend());
      reparse.parse(rev);
      args = again.args;
    }
    exit_code = run_training(args, run);
  });
}

}  // namespace attn::cli
