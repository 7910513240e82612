// `attnlab sweep`: the study attnlab exists for. Trains every (model, value, seed) of a grid,
// each as its own `attnlab train` process in its own folder, then collects results.csv and
// accuracy-versus-knob plots. --shard k/n runs a deterministic share, for Slurm arrays or GNU
// parallel; --collect merges the shards' folders afterwards.
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "data/task.hpp"
#include "train/cli/cli.hpp"
#include "train/cli/options.hpp"
#include "train/plot.hpp"
#include "train/train_config.hpp"

namespace attn::cli {

namespace fs = std::filesystem;

namespace {

struct SweepArgs {
  TrainArgs train;
  std::string vary, models = fmt::format("{}", fmt::join(model_family_names(), ",")), out, shard = "1/1", collect;
  std::string model_lr;  // "transformer=0.001,lstm=0.003": a learning rate per model
  int seeds = 1, jobs = 1;
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s + ",") {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  return out;
}

struct Run {
  std::string model, value;
  int seed;
  std::string id() const { return fmt::format("{}_{}_seed{}", model, value, seed); }
};

bool is_model_field(const std::string& key) {
  for (const ModelFamily* f : model_families())
    if (find_field(f->fields, key)) return true;
  return false;
}

// The given model settings that the run's family has; run_sweep checks that each belongs to
// at least one swept family.
TrainArgs for_model(TrainArgs a, const std::string& model) {
  a.model = model;
  const ModelFamily& f = model_family(model);
  for (auto it = a.model_fields.begin(); it != a.model_fields.end();)
    it = find_field(f.fields, it->first) ? std::next(it) : a.model_fields.erase(it);
  return a;
}

// Sets knob or train flag `name` to `value` in the run's arguments.
TrainArgs with_value(TrainArgs a, const std::string& name, const std::string& value) {
  if (!a.data_dir.empty() || data::task_spec(a.task).knob(name)) {
    std::vector<std::string> opts;  // the swept value replaces a fixed one
    for (const std::string& o : a.task_opt)
      if (o.rfind(name + "=", 0) != 0) opts.push_back(o);
    opts.push_back(name + "=" + value);
    a.task_opt = opts;
    return a;
  }
  std::string key = name;
  for (char& c : key)
    if (c == '-') c = '_';
  nlohmann::json j = a.to_json();
  // A model setting applies to the families that have it (run_sweep checks that one does).
  if (!j.contains(key) && !find_field(TrainArgs::specs(), key) && is_model_field(key)) return a;
  if (!j.contains(key)) throw UsageError(fmt::format("--vary {}: neither a knob of task '{}' nor a train flag", name, a.task));
  try {
    j[key] = j[key].is_string() ? nlohmann::json(value) : nlohmann::json::parse(value);
  } catch (const std::exception&) {
    throw UsageError(fmt::format("--vary {}: '{}' is not a valid value", name, value));
  }
  return TrainArgs::from_json(j);
}

int collect(const std::string& dir) {
  std::ifstream in(dir + "/sweep.json");
  if (!in) throw UsageError(fmt::format("{}: no sweep.json (not a sweep folder)", dir));
  const nlohmann::json sweep = nlohmann::json::parse(in);
  const std::string name = sweep["vary"];
  std::ofstream csv(dir + "/results.csv.tmp");
  csv << "model," << name
      << ",seed,test_sequence_accuracy,seq_ci_lo,seq_ci_hi,test_token_accuracy,tok_ci_lo,tok_ci_hi,chance_sequence,"
         "chance_token,params,lr,steps,seconds,run\n";
  // model -> value -> sequence accuracies over seeds
  std::map<std::string, std::map<double, std::vector<double>>> seq, tok;
  std::map<double, std::vector<double>> chance, chance_tok;
  int found = 0, missing = 0;
  for (const auto& r : sweep["runs"]) {
    const std::string id = r["id"];
    std::ifstream sf(dir + "/runs/" + id + "/summary.json");
    if (!sf) {
      ++missing;
      continue;
    }
    const nlohmann::json s = nlohmann::json::parse(sf);
    ++found;
    const std::string model = r["model"], value = r["value"];
    csv << fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.1f},runs/{}\n", model, value, r["seed"].get<int>(),
                       s["test_sequence_accuracy"].get<double>(), s["test_sequence_accuracy_ci"][0].get<double>(),
                       s["test_sequence_accuracy_ci"][1].get<double>(), s["test_token_accuracy"].get<double>(),
                       s["test_token_accuracy_ci"][0].get<double>(), s["test_token_accuracy_ci"][1].get<double>(),
                       s["test_chance_sequence"].get<double>(), s["test_chance_token"].get<double>(),
                       s["params"].get<int64_t>(), s["lr"].get<double>(), s["steps"].get<int64_t>(),
                       s["wall_seconds"].get<double>(), id);
    double x = 0;
    try {
      x = std::stod(value);
    } catch (...) {
      x = found;
    }
    seq[model][x].push_back(s["test_sequence_accuracy"].get<double>());
    tok[model][x].push_back(s["test_token_accuracy"].get<double>());
    chance[x].push_back(s["test_chance_sequence"].get<double>());
    chance_tok[x].push_back(s["test_chance_token"].get<double>());
  }
  csv.close();
  fs::rename(dir + "/results.csv.tmp", dir + "/results.csv");
  auto series = [](const std::string& title, const std::map<double, std::vector<double>>& m) {
    Series s{title, {}, {}, {}};
    for (auto& [x, v] : m) {
      double mean = 0;
      for (double a : v) mean += a / v.size();
      const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
      s.x.push_back(x);
      s.y.push_back(mean);
      s.err.push_back((*hi - *lo) / 2);
    }
    return s;
  };
  if (found) {
    for (auto [which, data] : {std::pair{"sequence", &seq}, std::pair{"token", &tok}}) {
      std::vector<Series> lines;
      for (auto& [model, m] : *data) lines.push_back(series(model, m));
      Series c = series("chance", std::string(which) == "sequence" ? chance : chance_tok);
      c.err.clear();
      c.dashed = true;
      lines.push_back(c);
      const std::string png = std::string(which) == "sequence" ? fmt::format("{}/accuracy_vs_{}.png", dir, name)
                                                               : fmt::format("{}/token_accuracy_vs_{}.png", dir, name);
      plot_lines(png, {fmt::format("{}: test {} accuracy (mean, bars = range over seeds)", sweep["task"].get<std::string>(), which),
                       name, fmt::format("{} accuracy", which), false, true, 0, 1.02},
                 lines);
    }
  }
  fmt::print("collected {} runs ({} missing) into {}/results.csv and {}/accuracy_vs_{}.png\n", found, missing, dir, dir, name);
  return missing ? 1 : 0;
}

int run_sweep(const SweepArgs& a) {
  if (!a.collect.empty()) return collect(a.collect);
  if (a.out.empty()) throw UsageError("sweep: --out DIR is required");
  const auto eq = a.vary.find('=');
  if (eq == std::string::npos || eq == 0) throw UsageError("sweep: --vary takes NAME=v1,v2,...");
  const std::string name = a.vary.substr(0, eq);
  const std::vector<std::string> values = split_list(a.vary.substr(eq + 1)), models = split_list(a.models);
  if (values.empty()) throw UsageError("sweep: --vary has no values");
  if (models.empty()) throw UsageError("sweep: --models has no models");
  if (a.seeds < 1) throw UsageError("sweep: --seeds must be positive");
  if (a.jobs < 1) throw UsageError("sweep: --jobs must be positive");
  int k = 0, n = 0;
  if (std::sscanf(a.shard.c_str(), "%d/%d", &k, &n) != 2 || n < 1 || k < 1 || k > n)
    throw UsageError(fmt::format("sweep: --shard '{}' is not k/n with 1 <= k <= n", a.shard));
  std::vector<Run> grid;
  for (const auto& m : models)
    for (const auto& v : values)
      for (int s = 0; s < a.seeds; ++s) grid.push_back({m, v, (int)a.train.seed + s});
  // Check every run's configuration before anything starts.
  std::map<std::string, double> model_lr;
  for (const std::string& item : split_list(a.model_lr)) {
    const auto e = item.find('=');
    try {
      if (e == std::string::npos) throw std::invalid_argument(item);
      model_lr[item.substr(0, e)] = std::stod(item.substr(e + 1));
    } catch (const std::exception&) {
      throw UsageError(fmt::format("sweep: --model-lr '{}' is not MODEL=LR", item));
    }
  }
  for (const auto& [field, v] : a.train.model_fields)
    if (std::none_of(models.begin(), models.end(),
                     [&](const std::string& m) { return find_field(model_family(m).fields, field) != nullptr; }))
      throw UsageError(fmt::format("sweep: --{} is not a setting of any of --models {}", field, a.models));
  std::vector<TrainArgs> run_args;
  for (const Run& r : grid) {
    TrainArgs t = with_value(for_model(a.train, r.model), name, r.value);
    if (model_lr.count(r.model)) t.lr = model_lr[r.model];
    t.seed = r.seed;
    t.quiet = true;
    t.validate();
    t.data_config();
    run_args.push_back(t);
  }
  std::error_code ec;
  fs::create_directories(a.out + "/runs", ec);
  if (ec) throw UsageError(fmt::format("sweep: --out {}: {}", a.out, ec.message()));
  nlohmann::json sweep = {{"vary", name}, {"values", values}, {"models", models}, {"seeds", a.seeds},
                          {"task", a.train.data_dir.empty() ? a.train.task : a.train.data_dir},
                          {"runs", nlohmann::json::array()}};
  for (const Run& r : grid) sweep["runs"].push_back({{"id", r.id()}, {"model", r.model}, {"value", r.value}, {"seed", r.seed}});
  std::ofstream(a.out + "/sweep.json") << sweep.dump(2) << "\n";
  std::vector<size_t> mine;
  for (size_t i = 0; i < grid.size(); ++i)
    if ((int)(i % n) == k - 1) mine.push_back(i);
  fmt::print(stderr, "sweep: {} runs in the grid, {} in shard {}/{}, {} at a time\n", grid.size(), mine.size(), k, n, a.jobs);
  std::map<pid_t, size_t> running;
  size_t next = 0, done = 0, failed = 0;
  auto reap = [&] {
    int status = 0;
    const pid_t pid = wait(&status);
    if (pid <= 0) return;
    const size_t i = running[pid];
    running.erase(pid);
    ++done;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    failed += !ok;
    fmt::print(stderr, "sweep: [{}/{}] {} {}\n", done, mine.size(), grid[i].id(), ok ? "done" : "FAILED (see its train.log)");
  };
  while (next < mine.size() || !running.empty()) {
    while (next < mine.size() && (int)running.size() < a.jobs) {
      const size_t i = mine[next++];
      const std::string dir = a.out + "/runs/" + grid[i].id();
      if (fs::exists(dir + "/summary.json")) {
        ++done;
        fmt::print(stderr, "sweep: [{}/{}] {} already done\n", done, mine.size(), grid[i].id());
        continue;
      }
      fs::remove_all(dir, ec);  // an unfinished earlier attempt starts over
      const std::string request = a.out + "/runs/" + grid[i].id() + ".json";
      std::ofstream(request) << run_args[i].to_json().dump(2);
      std::fflush(stdout);  // else the child would write the parent's buffered output again
      std::fflush(stderr);
      const pid_t pid = fork();
      if (pid == 0) {
        fs::create_directories(dir);
        const std::string log = dir + ".log";
        FILE* f = std::freopen(log.c_str(), "w", stderr);
        (void)f;
        std::freopen(log.c_str(), "a", stdout);
        execl("/proc/self/exe", "attnlab", "train", "--config", request.c_str(), "--out", dir.c_str(), (char*)nullptr);
        _exit(127);
      }
      running[pid] = i;
    }
    if (!running.empty()) reap();
  }
  if (n == 1) collect(a.out);
  else fmt::print(stderr, "sweep: shard {}/{} finished; merge with: attnlab sweep --collect {}\n", k, n, a.out);
  return failed ? 1 : 0;
}

}  // namespace

void add_sweep_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<SweepArgs>();
  auto* cmd = app.add_subcommand("sweep", "Train a grid of models x values x seeds and plot accuracy against the value");
  cmd->footer(
      "Each run gets DIR/runs/<model>_<value>_seed<s>/ (a full train run folder). Writes DIR/results.csv and\n"
      "DIR/accuracy_vs_<NAME>.png. Finished runs are skipped, so a stopped sweep continues where it was.");
  add_train_options(*cmd, a->train);
  cmd->add_option("--vary", a->vary, "NAME=v1,v2,...: a task knob or a train flag")->group("Sweep");
  cmd->add_option("--models", a->models, "Comma-separated models")->capture_default_str()->group("Sweep");
  cmd->add_option("--seeds", a->seeds, "Seeds per (model, value), from --seed on")->capture_default_str()->group("Sweep");
  cmd->add_option("--model-lr", a->model_lr, "Learning rate per model, e.g. transformer=0.001,lstm=0.003 (else --lr)")->group("Sweep");
  cmd->add_option("--out", a->out, "Sweep folder")->group("Sweep");
  cmd->add_option("--jobs", a->jobs, "Runs at a time (split --threads between them)")->capture_default_str()->group("Sweep");
  cmd->add_option("--shard", a->shard, "k/n: run only every n-th run from the k-th")->capture_default_str()->group("Sweep");
  cmd->add_option("--collect", a->collect, "Merge finished runs of the sweep in DIR into results.csv and plots")->group("Sweep");
  cmd->callback([a, &exit_code] { exit_code = run_sweep(*a); });
}


// ---------------------------------------------------------------- attnlab study
// The headline study as one command: transformer, lstm and lstm-attn against dependency
// distance on copy-memory (delay) and associative-recall (gap), with one step budget for all,
// learning rates from the sweep in docs/study.md, and parameter counts reported.
namespace {

// Chosen by the learning-rate sweep recorded in docs/study.md.
const char* const kStudyLearningRates = "transformer=0.0003,lstm=0.001,lstm-attn=0.0003";

struct StudyArgs {
  std::string out = "runs/study", shard = "1/1";
  bool quick = false, collect = false;
  // Two one-thread runs at a time use 2 cores about 1.3x better than one two-thread run.
  int jobs = 2, threads = 1;
};

SweepArgs study_sweep(const StudyArgs& s, const std::string& task, const std::string& knob) {
  SweepArgs a;
  a.train.task = task;
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
  a.seeds = s.quick ? 1 : 2;
  a.jobs = s.jobs;
  a.shard = s.shard;
  a.out = s.out + "/" + task;
  return a;
}

}  // namespace

void add_study_command(CLI::App& app, int& exit_code) {
  auto s = std::make_shared<StudyArgs>();
  auto* cmd = app.add_subcommand(
      "study", "The headline study: transformer, lstm and lstm-attn against dependency distance on copy-memory\n"
               "and associative-recall (docs/study.md). --quick runs a smaller grid");
  cmd->add_option("--out", s->out, "Study folder (one sweep folder per task inside)")->capture_default_str();
  cmd->add_flag("--quick", s->quick, "3 distances, 1 seed, 300 steps (under 15 minutes on 2 cores)");
  cmd->add_option("--jobs", s->jobs, "Runs at a time")->capture_default_str();
  cmd->add_option("--threads", s->threads, "Threads per run")->capture_default_str();
  cmd->add_option("--shard", s->shard, "k/n: this machine's share of each sweep")->capture_default_str();
  cmd->add_flag("--collect", s->collect, "Only merge finished runs into results.csv and plots");
  cmd->callback([s, &exit_code] {
    int rc = 0;
    for (auto [task, knob] : {std::pair{"copy-memory", "delay"}, std::pair{"associative-recall", "gap"}}) {
      SweepArgs a = study_sweep(*s, task, knob);
      a.model_lr = kStudyLearningRates;
      if (s->collect) a.collect = a.out;
      rc = std::max(rc, run_sweep(a));
    }
    exit_code = rc;
  });
}

}  // namespace attn::cli
