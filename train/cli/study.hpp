// The headline study's sweeps (study_experiments.cpp) and the arguments `attnlab study` takes.
#pragma once
#include <string>
#include <vector>

#include "train/cli/sweep.hpp"

namespace attn::cli {

struct StudyArgs {
  std::string out = "runs/study", shard = "1/1", lr_from, only;
  bool quick = false, collect = false, plan = false, tune_only = false;
  std::string emit;  // slurm | parallel
  int emit_shards = 0;
  double max_hours = 0;
  // Two one-thread runs at a time use 2 cores about 1.3x better than one two-thread run.
  int jobs = 2, threads = 1;
};

// One sweep of the study, in the folder --out/<name>.
struct StudySweep {
  std::string name, what;
  SweepArgs args;
};

// Every sweep of the study, in the order they run. A sweep that depends on an earlier one's
// result (E1's gpt takes the position encoding E0 chose) reads it from --out (or --lr-from)
// when it is there.
std::vector<StudySweep> study_sweeps(const StudyArgs& s);

// A figure across sweeps, written into --out/<name> once each of `sweeps` has a folder there.
struct StudyFigure {
  std::string name;
  std::vector<std::string> sweeps;
};
std::vector<StudyFigure> study_figures(const StudyArgs& s);

}  // namespace attn::cli
