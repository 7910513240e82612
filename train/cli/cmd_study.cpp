// `attnlab study`: the headline study as one command, a sweep per folder (study_experiments.cpp
// defines them), run in order.
#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "train/cli/cli.hpp"
#include "train/cli/study.hpp"

namespace attn::cli {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> sweep_names(const std::vector<StudySweep>& sweeps) {
  std::vector<std::string> names;
  for (const StudySweep& s : sweeps) names.push_back(s.name);
  return names;
}

// The study's sweeps that --only selects (all without it), checked.
std::vector<std::string> selected(const StudyArgs& s) {
  const std::vector<std::string> all = sweep_names(study_sweeps(s));
  if (s.only.empty()) return all;
  const std::vector<std::string> chosen = split_list(s.only);
  for (const std::string& name : chosen)
    if (std::find(all.begin(), all.end(), name) == all.end())
      throw UsageError(fmt::format("study: --only {}: the study's sweeps are {}", name, join(all)));
  return chosen;
}

// --emit: a tuning job (study --tune-only) unless the rates come from --lr-from, the shards
// (each sweep's k-th share, rates from the study folder) and the collect step.
int emit_study(const StudyArgs& s) {
  if (s.plan || s.collect || s.tune_only) throw UsageError("study: --emit takes none of --plan, --collect and --tune-only");
  if (s.shard != "1/1") throw UsageError("study: --emit writes every shard's job itself; leave out --shard");
  if (s.emit_shards < 0) throw UsageError("study: --emit-shards must be positive (or 0: the largest sweep's runs)");
  EmitSpec e;
  e.kind = s.emit;
  e.out = fs::absolute(s.out).string();
  e.what = "study --emit " + s.emit;
  e.jobs = s.jobs;
  e.threads = s.threads;
  e.tunes = s.lr_from.empty();
  e.lr_from_after_tuning = e.out;
  std::vector<TrainArgs> runs;
  int most = 1;
  StudyArgs planned = s;
  planned.plan = true;  // sweeps that depend on tuning not yet done are defined with stand-ins
  for (const StudySweep& sw : study_sweeps(planned)) {
    if (sw.args.tune_only) continue;
    const std::vector<Run> grid = sweep_grid(sw.args);
    most = std::max(most, (int)grid.size());
    for (const Run& r : grid) runs.push_back(r.args);
  }
  e.shards = s.emit_shards > 0 ? std::min(s.emit_shards, most) : most;
  e.bytes = task_memory_bytes(runs);
  return emit_jobs(e);
}

// Each figure whose sweeps all have results in --out.
void write_figures(const StudyArgs& s) {
  for (const StudyFigure& f : study_figures(s)) {
    std::vector<std::string> dirs;
    for (const std::string& sweep : f.sweeps)
      if (fs::exists(fs::path(s.out) / sweep / "results.csv")) dirs.push_back((fs::path(s.out) / sweep).string());
    if (dirs.size() != f.sweeps.size()) continue;
    write_state_plots((fs::path(s.out) / f.name).string(), dirs);
    fmt::print(stderr, "study: wrote {}/{}/report.md\n", s.out, f.name);
  }
}

int run_study(const StudyArgs& s) {
  if (!s.emit.empty()) return emit_study(s);
  const std::vector<std::string> chosen = selected(s);
  int rc = 0;
  // One sweep at a time, each defined only when it starts: a later sweep can depend on an
  // earlier one's results (the gpt position encoding chosen on validation).
  for (const std::string& name : sweep_names(study_sweeps(s))) {
    if (std::find(chosen.begin(), chosen.end(), name) == chosen.end()) continue;
    for (const StudySweep& sw : study_sweeps(s)) {
      if (sw.name != name) continue;
      fmt::print(stderr, "study: {} ({})\n", sw.name, sw.what);
      SweepArgs a = sw.args;
      if (s.tune_only) {
        if (a.tune_lr.empty()) continue;  // its rates come from elsewhere
        a.tune_only = true;
      }
      if (s.collect) {
        if (a.tune_only) continue;
        a.collect = a.out;
      }
      rc = std::max(rc, run_sweep(a));
    }
  }
  if (!s.plan && !s.tune_only) write_figures(s);
  return rc;
}

}  // namespace

void add_study_command(CLI::App& app, int& exit_code) {
  auto s = std::make_shared<StudyArgs>();
  auto* cmd = app.add_subcommand(
      "study", "The headline study (docs/study.md): the one-stream experiments and the encoder-decoder one,\n"
               "each model's rate tuned on validation. --quick runs a smaller grid with the committed rates");
  cmd->add_option("--out", s->out, "Study folder (one sweep folder per experiment inside)")->capture_default_str();
  cmd->add_flag("--quick", s->quick, "Fewer distances, 1 seed, fewer steps; rates from --lr-from");
  cmd->add_option("--lr-from", s->lr_from,
                  "An earlier study folder: reuse its tuned rates (DIR/<sweep>/tuning.json); with --quick the "
                  "default is docs/study/protocol");
  cmd->add_option("--only", s->only, "Only these of the study's sweeps (comma-separated; see docs/study.md)");
  cmd->add_option("--tasks", s->only, "The same as --only (kept for the encoder-decoder sweeps' names)");
  cmd->add_option("--jobs", s->jobs, "Runs at a time")->capture_default_str();
  cmd->add_option("--threads", s->threads, "Threads per run")->capture_default_str();
  cmd->add_option("--shard", s->shard, "k/n: this machine's share of each sweep")->capture_default_str();
  cmd->add_flag("--collect", s->collect, "Only merge finished runs into results.csv, plots and reports");
  cmd->add_flag("--tune-only", s->tune_only, "Only each sweep's tuning (DIR/<sweep>/tuning.json); run no grid");
  cmd->add_option("--emit", s->emit, "slurm | parallel: write the study as cluster jobs in OUT/emit/ and run nothing "
                  "(docs/cluster.md)");
  cmd->add_option("--emit-shards", s->emit_shards, "--emit: the number of shards (default: the largest sweep's runs)");
  cmd->add_flag("--plan", s->plan, "Print each sweep's runs and a time estimate measured on this machine; run nothing");
  cmd->add_option("--max-hours", s->max_hours, "Refuse a sweep whose estimate is longer (0: no limit)");
  cmd->callback([s, &exit_code] {
    if (s->quick && s->lr_from.empty()) s->lr_from = "docs/study/protocol";
    exit_code = run_study(*s);
  });
}

}  // namespace attn::cli
