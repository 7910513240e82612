// `attnlab study`: the headline study as one command, a sweep per task.
#include <fmt/core.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "train/cli/cli.hpp"
#include "train/cli/sweep.hpp"

namespace attn::cli {

// The headline study as one command: transformer, lstm and lstm-attn against dependency
// distance on copy-memory (delay) and associative-recall (gap), with one step budget for all,
// each model's learning rate tuned on validation at the middle distance (or taken from an
// earlier study's tuning.json), and seeds as replicates.
namespace {

const char* const kTuningGrid = "0.0001,0.0003,0.001,0.003";

struct StudyArgs {
  std::string out = "runs/study", shard = "1/1", lr_from, tasks = "copy-memory,associative-recall";
  bool quick = false, collect = false, plan = false;
  double max_hours = 0;
  // Two one-thread runs at a time use 2 cores about 1.3x better than one two-thread run.
  int jobs = 2, threads = 1;
};

SweepArgs study_sweep(const StudyArgs& s, const std::string& task, const std::string& knob) {
  SweepArgs a;
  a.train.task = task;
  a.models = "transformer,lstm,lstm-attn";  // not the default (every registered family)
  a.train.batch = 32;
  a.train.steps = s.quick ? 300 : 500;
  a.train.eval_every = 250;
  a.train.eval_examples = s.quick ? 300 : 500;
  a.train.model_fields["hidden"] = int64_t(128);
  // Sinusoidal positions: with learned ones the Transformer must also learn a position table
  // from N(0, 0.02^2) within the budget, and fails past delay 128 for that reason (docs/study.md).
  a.train.model_fields["pos"] = std::string("sinusoidal");
  // Multi-query recall small enough to be learned within the budget: 4 pairs over 16 keys and
  // 16 values, every key queried (chance 1/16 per token).
  if (task == "associative-recall") a.train.task_opt = {"pairs=4", "queries=4", "keys=16", "values=16"};
  a.train.threads = s.threads;
  a.vary = knob + (s.quick ? "=16,64,256" : "=16,32,64,128,256,512");
  a.seeds = s.quick ? 1 : 5;
  if (!s.lr_from.empty()) {
    a.lr_from = s.lr_from + "/" + task + "/tuning.json";
  } else {
    a.tune_lr = kTuningGrid;
    a.tune_seeds = s.quick ? 1 : 2;
  }
  a.jobs = s.jobs;
  a.shard = s.shard;
  a.out = s.out + "/" + task;
  a.plan = s.plan;
  a.max_hours = s.max_hours;
  return a;
}

}  // namespace

void add_study_command(CLI::App& app, int& exit_code) {
  auto s = std::make_shared<StudyArgs>();
  auto* cmd = app.add_subcommand(
      "study", "The headline study: transformer, lstm and lstm-attn against dependency distance on copy-memory\n"
               "and associative-recall (docs/study.md). --quick runs a smaller grid");
  cmd->add_option("--out", s->out, "Study folder (one sweep folder per task inside)")->capture_default_str();
  cmd->add_flag("--quick", s->quick, "3 distances, 1 seed (1 tuning seed), 300 steps");
  cmd->add_option("--lr-from", s->lr_from, "An earlier study folder: reuse its tuned rates (DIR/<task>/tuning.json)");
  cmd->add_option("--tasks", s->tasks, "Which of the study's tasks")->capture_default_str();
  cmd->add_option("--jobs", s->jobs, "Runs at a time")->capture_default_str();
  cmd->add_option("--threads", s->threads, "Threads per run")->capture_default_str();
  cmd->add_option("--shard", s->shard, "k/n: this machine's share of each sweep")->capture_default_str();
  cmd->add_flag("--collect", s->collect, "Only merge finished runs into results.csv and plots");
  cmd->add_flag("--plan", s->plan, "Print each task's runs and a time estimate measured on this machine; run nothing");
  cmd->add_option("--max-hours", s->max_hours, "Refuse a task whose estimate is longer (0: no limit)");
  cmd->callback([s, &exit_code] {
    int rc = 0;
    const std::vector<std::string> tasks = split_list(s->tasks);
    for (const std::string& t : tasks)
      if (t != "copy-memory" && t != "associative-recall")
        throw UsageError(fmt::format("study: --tasks {}: the study's tasks are copy-memory and associative-recall", t));
    for (auto [task, knob] : {std::pair{"copy-memory", "delay"}, std::pair{"associative-recall", "gap"}}) {
      if (std::find(tasks.begin(), tasks.end(), task) == tasks.end()) continue;
      SweepArgs a = study_sweep(*s, task, knob);
      if (s->collect) a.collect = a.out;
      rc = std::max(rc, run_sweep(a));
    }
    exit_code = rc;
  });
}

}  // namespace attn::cli
