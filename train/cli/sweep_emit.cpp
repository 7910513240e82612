// `sweep --emit slurm|parallel` and `study --emit ...`: the same command written as cluster jobs,
// run nothing. Tuning (when the command tunes) is one job on one machine, then the shards as a
// Slurm job array or GNU parallel lines, then the collect step that rebuilds results.csv, the
// plots and the reports. docs/cluster.md.
#include <fmt/core.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "models/memory_estimate.hpp"
#include "train/cli/cli.hpp"
#include "train/cli/sweep.hpp"
#include "train/run.hpp"
#include "train/run_files.hpp"

namespace attn::cli {

namespace fs = std::filesystem;

namespace {

const char* const kShard = "@SHARD@";  // where each job's shard number goes

std::vector<std::string>& stored_arguments() {
  static std::vector<std::string> args;
  return args;
}

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=/.,:@%") ==
                        std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The arguments without the flags in `drop` (each with its value, as `--f v` or `--f=v`) and
// the switches in `drop_switches`.
std::vector<std::string> without(const std::vector<std::string>& args, const std::set<std::string>& drop,
                                 const std::set<std::string>& drop_switches) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string name = args[i].substr(0, args[i].find('='));
    if (drop_switches.count(args[i])) continue;
    if (drop.count(name)) {
      if (name == args[i]) ++i;  // the value is the next argument
      continue;
    }
    out.push_back(args[i]);
  }
  return out;
}

std::string command(const std::string& binary, const std::vector<std::string>& args, const std::string& extra = "") {
  std::string c = shell_quote(binary);
  for (const std::string& a : args) c += " " + shell_quote(a);
  return extra.empty() ? c : c + " " + extra;
}

void write_script(const std::string& path, const std::string& text) {
  write_text_atomic(path, text);
  chmod(path.c_str(), 0755);
}

std::string sbatch_header(const EmitSpec& e, const std::string& name, int cpus, double bytes, const std::string& log) {
  return fmt::format("#!/bin/bash\n# Written by `attnlab {}` (docs/cluster.md).\n#SBATCH --job-name={}\n"
                     "#SBATCH --cpus-per-task={}\n#SBATCH --mem={}M\n#SBATCH --output={}\nset -euo pipefail\n"
                     "export OMP_NUM_THREADS={}\ncd {}  # where the command was given: its relative paths hold\n",
                     e.what, name, cpus, (int64_t)std::ceil(bytes / (1 << 20)), log, cpus,
                     shell_quote(fs::current_path().string()));
}

}  // namespace

void set_arguments(std::vector<std::string> args) { stored_arguments() = std::move(args); }
const std::vector<std::string>& arguments() { return stored_arguments(); }

double task_memory_bytes(const std::vector<TrainArgs>& runs) {
  double most = 0;
  for (const TrainArgs& r : runs) most = std::max(most, estimate_step_bytes(r));
  // The step's estimate plus the process itself (binary, data, evaluation buffers), with a margin.
  return std::max(1.5 * most + 512.0 * (1 << 20), 1024.0 * (1 << 20));
}

int emit_jobs(const EmitSpec& e) {
  if (e.kind != "slurm" && e.kind != "parallel")
    throw UsageError(fmt::format("--emit {}: write slurm (an sbatch job array) or parallel (GNU parallel lines)", e.kind));
  if (e.shards < 1) throw UsageError("--emit-shards must be positive");
  const std::string dir = e.out + "/emit";
  std::error_code ec;
  fs::create_directories(dir + "/logs", ec);
  if (ec) throw UsageError(fmt::format("--emit: {}: {}", dir, ec.message()));
  const std::string bin = fs::canonical("/proc/self/exe").string();
  const std::set<std::string> own = {"--emit", "--emit-shards", "--shard", "--jobs", "--max-hours"};
  std::vector<std::string> base = without(arguments(), own, {"--plan"});
  std::vector<std::string> shard_args = base;
  if (e.tunes) {
    shard_args = without(base, {"--tune-lr", "--tune-seeds", "--tune-at"}, {});
    shard_args.insert(shard_args.end(), {"--lr-from", e.lr_from_after_tuning});
  }
  const std::string tune = command(bin, base, fmt::format("--tune-only --jobs {}", e.jobs));
  const std::string shard = command(bin, shard_args, fmt::format("--shard {}/{} --jobs 1", kShard, e.shards));
  std::vector<std::string> collect_args = e.collect_args;
  if (collect_args.empty()) {  // the shards' command with --collect
    collect_args = shard_args;
    collect_args.push_back("--collect");
  }
  const std::string collect = command(bin, collect_args);
  const int cpus = std::max(1, e.threads);
  if (e.kind == "slurm") {
    if (e.tunes)
      write_script(dir + "/tune.sbatch", sbatch_header(e, "attnlab-tune", cpus * e.jobs, e.bytes * e.jobs, dir + "/logs/tune.log") +
                                             tune + "\n");
    std::string array = sbatch_header(e, "attnlab-shards", cpus, e.bytes, dir + "/logs/shard-%a.log");
    array.insert(array.find("#SBATCH --cpus"), fmt::format("#SBATCH --array=1-{}\n", e.shards));
    std::string line = shard;
    line.replace(line.rfind(kShard), std::string(kShard).size(), "${SLURM_ARRAY_TASK_ID}");
    write_script(dir + "/shards.sbatch", array + line + "\n");
    write_script(dir + "/collect.sbatch", sbatch_header(e, "attnlab-collect", 1, 1024.0 * (1 << 20), dir + "/logs/collect.log") +
                                              collect + "\n");
    std::string submit = "#!/bin/bash\n# Submits the jobs in order, each after the one before succeeded.\nset -euo pipefail\n"
                         "cd " + shell_quote(dir) + "\n";
    submit += e.tunes ? "tune=$(sbatch --parsable tune.sbatch)\narray=$(sbatch --parsable --dependency=afterok:$tune shards.sbatch)\n"
                      : "array=$(sbatch --parsable shards.sbatch)\n";
    submit += "sbatch --dependency=afterok:$array collect.sbatch\n";
    write_script(dir + "/submit.sh", submit);
    fmt::print("wrote {0}/submit.sh, {0}/shards.sbatch ({1} tasks, {2} CPUs and {3} MB each){4} and {0}/collect.sbatch; "
               "submit with: bash {0}/submit.sh\n", dir, e.shards, cpus, (int64_t)std::ceil(e.bytes / (1 << 20)),
               e.tunes ? ", " + dir + "/tune.sbatch" : std::string());
    return 0;
  }
  std::string lines;
  for (int k = 1; k <= e.shards; ++k) {
    std::string line = shard;
    line.replace(line.rfind(kShard), std::string(kShard).size(), std::to_string(k));
    lines += line + " > " + shell_quote(fmt::format("{}/logs/shard-{}.log", dir, k)) + " 2>&1\n";
  }
  write_text_atomic(dir + "/shards.txt", lines);
  std::string run = fmt::format("#!/bin/bash\n# Written by `attnlab {}` (docs/cluster.md): {} shards, {} at a time.\n"
                                "set -euo pipefail\nexport OMP_NUM_THREADS={}\ncd {}\n", e.what, e.shards, e.jobs, cpus,
                                shell_quote(fs::current_path().string()));
  if (e.tunes) run += tune + "\n";
  run += fmt::format("parallel --jobs {} --halt now,fail=1 --joblog {} < {}\n", e.jobs, shell_quote(dir + "/parallel.joblog"),
                     shell_quote(dir + "/shards.txt"));
  run += collect + "\n";
  write_script(dir + "/parallel.sh", run);
  fmt::print("wrote {0}/parallel.sh and {0}/shards.txt ({1} shards, {2} at a time); run with: bash {0}/parallel.sh\n", dir,
             e.shards, e.jobs);
  return 0;
}

}  // namespace attn::cli
