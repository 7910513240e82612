// `attnlab sweep`: the study attnlab exists for. Trains every (model, value, seed) of a grid,
// each as its own `attnlab train` process in its own folder, then collects results.csv and
// accuracy-versus-knob plots. --shard k/n runs a deterministic share, for Slurm arrays or GNU
// parallel; --collect merges the shards' folders afterwards.
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <set>

#include "data/task.hpp"
#include "train/cli/cli.hpp"
#include "train/cli/options.hpp"
#include "train/plot.hpp"
#include "train/run_files.hpp"
#include "train/sweep_key.hpp"
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
  TrainArgs args;
  nlohmann::json key;  // result_config(args): what the folder's hash covers
  std::string hash, id;
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

std::string join(const std::vector<std::string>& v, const char* sep = ", ") { return fmt::format("{}", fmt::join(v, sep)); }

// ------------------------------------------------------------------ results: CSV and plots

// One finished run as collect reads it.
struct Result {
  std::string model, value;
  int seed;
  std::string id;
  nlohmann::json s;  // its summary.json
};

double num(const nlohmann::json& s, const char* key) { return s.at(key).get<double>(); }

// The columns of results.csv after model, NAME and seed, each read from a run's summary.json.
struct Column {
  const char* name;
  std::function<std::string(const Result&)> get;
};

std::vector<Column> result_columns(const std::string& vary) {
  auto field = [](const char* key) { return [key](const Result& r) { return fmt::format("{}", num(r.s, key)); }; };
  auto ci = [](const char* key, int i) { return [key, i](const Result& r) { return fmt::format("{}", r.s.at(key).at(i).get<double>()); }; };
  auto integer = [](const char* key) { return [key](const Result& r) { return fmt::format("{}", r.s.at(key).get<int64_t>()); }; };
  std::vector<Column> cols = {
      {"test_sequence_accuracy", field("test_sequence_accuracy")},
      {"seq_ci_lo", ci("test_sequence_accuracy_ci", 0)},
      {"seq_ci_hi", ci("test_sequence_accuracy_ci", 1)},
      {"test_token_accuracy", field("test_token_accuracy")},
      {"tok_ci_lo", ci("test_token_accuracy_ci", 0)},
      {"tok_ci_hi", ci("test_token_accuracy_ci", 1)},
      {"chance_sequence", field("test_chance_sequence")},
      {"chance_token", field("test_chance_token")},
      {"params", integer("params")},
      {"lr", field("lr")},
      {"steps", integer("steps")},
      {"best_step", integer("best_step")},
      {"seconds", [](const Result& r) { return fmt::format("{:.1f}", num(r.s, "wall_seconds")); }},
      {"run", [](const Result& r) { return "runs/" + r.id; }},
  };
  // The swept setting already has its column: --vary lr must not write lr twice.
  if (vary == "lr") cols.erase(std::find_if(cols.begin(), cols.end(), [](const Column& c) { return c.name == std::string("lr"); }));
  return cols;
}

void write_results_csv(const std::string& dir, const std::string& vary, const std::vector<Result>& results) {
  const std::vector<Column> cols = result_columns(vary);
  std::string text = "model," + vary + ",seed";
  for (const Column& c : cols) text += std::string(",") + c.name;
  text += "\n";
  for (const Result& r : results) {
    text += fmt::format("{},{},{}", r.model, r.value, r.seed);
    for (const Column& c : cols) text += "," + c.get(r);
    text += "\n";
  }
  write_text_atomic(dir + "/results.csv", text);
}

// The x axis of the plots: numeric values where they are, on a log scale when all are positive;
// otherwise the values as categories at 0, 1, ... with their text as tic labels.
struct Axis {
  std::vector<double> x;  // position of each value
  PlotSpec spec;
};

bool parse_number(const std::string& s, double& out) {
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && std::isfinite(out);
}

Axis value_axis(const std::vector<std::string>& values) {
  Axis a;
  bool numeric = true;
  for (const std::string& v : values) {
    double x = 0;
    numeric = numeric && parse_number(v, x);
    a.x.push_back(x);
  }
  if (!numeric)
    for (size_t i = 0; i < values.size(); ++i) a.x[i] = (double)i;
  for (size_t i = 0; i < values.size(); ++i) a.spec.xtics.push_back({a.x[i], values[i]});
  const auto [lo, hi] = std::minmax_element(a.x.begin(), a.x.end());
  if (!numeric) {
    a.spec.connect = false;  // a line between categories would suggest values between them
    a.spec.xmin = -0.5;
    a.spec.xmax = values.size() - 0.5;
  } else if (*lo > 0) {
    a.spec.logx = true;
    a.spec.xmin = *lo / 1.25;
    a.spec.xmax = *hi * 1.25;
  } else {
    const double m = *hi > *lo ? (*hi - *lo) * 0.05 : 0.5;
    a.spec.xmin = *lo - m;
    a.spec.xmax = *hi + m;
  }
  return a;
}

// "3" or "2-3": how many of something each point has.
std::string count_range(const std::vector<size_t>& counts) {
  const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
  return *lo == *hi ? std::to_string(*lo) : fmt::format("{}-{}", *lo, *hi);
}

// What the error bars of a plot are. With several seeds a point is the mean over the seeds and its
// bar runs from the lowest to the highest of them; with one seed the bar is the run's own 95%
// Wilson interval (test_*_accuracy_ci in summary.json) over its test examples or their tokens.
std::string bars_meaning(const std::string& which, int seeds, const std::vector<Result>& results,
                         const std::vector<size_t>& runs_per_point) {
  if (seeds > 1)
    return fmt::format("points: mean over {} seeds; bars: lowest to highest of those seeds", count_range(runs_per_point));
  std::vector<size_t> examples;
  for (const Result& r : results) examples.push_back(r.s.at("test_examples").get<size_t>());
  return which == "sequence" ? fmt::format("bars: 95% Wilson interval over {} test examples", count_range(examples))
                             : fmt::format("bars: 95% Wilson interval over the test tokens of {} examples", count_range(examples));
}

using RunsByValue = std::vector<std::vector<const Result*>>;  // value index -> its runs

std::map<std::string, RunsByValue> runs_by_model(const std::vector<std::string>& values, const std::vector<Result>& results) {
  std::map<std::string, RunsByValue> by_model;
  for (const Result& r : results) {
    RunsByValue& per_value = by_model[r.model];
    per_value.resize(values.size());
    const size_t i = std::find(values.begin(), values.end(), r.value) - values.begin();
    if (i == values.size()) throw UsageError(fmt::format("sweep.json: run {} has value '{}', not one of \"values\"", r.id, r.value));
    per_value[i].push_back(&r);
  }
  return by_model;
}

// One model's points: the mean of `acc` over its runs at each value, with bars from the lowest
// to the highest run, or from the run's own interval when `own_ci` and it is the only one. `dx`
// shifts the points so that models do not hide each other on a categorical axis.
Series model_series(const std::string& model, const RunsByValue& per_value, const Axis& axis, const std::string& acc,
                    bool own_ci, double dx, std::vector<size_t>& runs_per_point) {
  Series line{model, {}, {}, {}, {}};
  for (size_t i = 0; i < per_value.size(); ++i) {
    const auto& runs = per_value[i];
    if (runs.empty()) continue;
    std::vector<double> v;
    for (const Result* r : runs) v.push_back(num(r->s, acc.c_str()));
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    const bool ci = own_ci && runs.size() == 1;
    line.x.push_back(axis.x[i] + dx);
    line.y.push_back(std::accumulate(v.begin(), v.end(), 0.0) / v.size());
    line.lo.push_back(ci ? runs[0]->s.at(acc + "_ci").at(0).get<double>() : *lo);
    line.hi.push_back(ci ? runs[0]->s.at(acc + "_ci").at(1).get<double>() : *hi);
    runs_per_point.push_back(runs.size());
  }
  return line;
}

// The chance level at each value that has a run, as a dashed line.
Series chance_series(const std::string& which, const std::vector<std::string>& values, const std::vector<Result>& results,
                     const Axis& axis) {
  std::map<size_t, double> chance;
  for (const Result& r : results)
    chance[std::find(values.begin(), values.end(), r.value) - values.begin()] = num(r.s, ("test_chance_" + which).c_str());
  Series c{"chance", {}, {}, {}, {}};
  for (const auto& [i, y] : chance) {
    c.x.push_back(axis.x[i]);
    c.y.push_back(y);
  }
  c.dashed = true;
  return c;
}

// Accuracy (and its bars) against the swept value: one line per model, chance dashed.
void plot_accuracy(const std::string& png, const std::string& which, const nlohmann::json& sweep,
                   const std::vector<Result>& results) {
  const std::vector<std::string> values = sweep["values"];
  const int seeds = sweep["seeds"];
  Axis axis = value_axis(values);
  const auto by_model = runs_by_model(values, results);
  std::vector<Series> lines;
  std::vector<size_t> runs_per_point;
  double dx = axis.spec.connect ? 0.0 : -0.04 * (by_model.size() - 1);
  for (const auto& [model, per_value] : by_model) {
    lines.push_back(model_series(model, per_value, axis, "test_" + which + "_accuracy", seeds == 1, dx, runs_per_point));
    if (!axis.spec.connect) dx += 0.08;
  }
  lines.push_back(chance_series(which, values, results, axis));
  PlotSpec& spec = axis.spec;
  spec.title = fmt::format("{}: test {} accuracy", sweep["task"].get<std::string>(), which);
  spec.subtitle = bars_meaning(which, seeds, results, runs_per_point);
  spec.xlabel = sweep["vary"].get<std::string>();
  spec.ylabel = which + " accuracy";
  spec.ymin = 0;
  spec.ymax = 1.02;
  spec.keep_script = true;
  plot_lines(png, spec, lines);
}

// The run's folder must hold the config its name stands for (unless sweep.json predates hashes).
void check_run_config(const std::string& dir, const nlohmann::json& r) {
  if (!r.contains("config_hash")) return;
  const std::string folder = dir + "/runs/" + r["id"].get<std::string>();
  std::ifstream in(folder + "/config.json");
  nlohmann::json stored;
  try {
    stored = result_config(TrainArgs::from_json(nlohmann::json::parse(in)));
  } catch (const std::exception& e) {
    throw UsageError(fmt::format("{}/config.json: cannot be read as a run's config: {}", folder, e.what()));
  }
  if (config_hash(stored) != r["config_hash"].get<std::string>())
    throw UsageError(fmt::format("{}: its config.json does not match the hash in its name (edited by hand?); "
                                 "remove the folder and run the sweep again",
                                 folder));
}

int collect(const std::string& dir) {
  std::ifstream in(dir + "/sweep.json");
  if (!in) throw UsageError(fmt::format("{}: no sweep.json (not a sweep folder)", dir));
  const nlohmann::json sweep = nlohmann::json::parse(in);
  const std::string name = sweep["vary"];
  std::vector<Result> results;
  int missing = 0;
  for (const auto& r : sweep["runs"]) {
    const std::string id = r["id"];
    std::ifstream sf(dir + "/runs/" + id + "/summary.json");
    if (!sf) {
      ++missing;
      continue;
    }
    check_run_config(dir, r);
    results.push_back({r["model"], r["value"], r["seed"], id, nlohmann::json::parse(sf)});
  }
  write_results_csv(dir, name, results);
  if (!results.empty()) {
    plot_accuracy(fmt::format("{}/accuracy_vs_{}.png", dir, name), "sequence", sweep, results);
    plot_accuracy(fmt::format("{}/token_accuracy_vs_{}.png", dir, name), "token", sweep, results);
  }
  fmt::print("collected {} runs ({} missing) into {}/results.csv and {}/accuracy_vs_{}.png\n", results.size(), missing, dir,
             dir, name);
  return missing ? 1 : 0;
}

// ------------------------------------------------------------------ running the grid

// What an existing run folder means for a run: nothing there, a finished run with the same
// config (reused), or an unfinished attempt with the same config (started over). A folder whose
// config.json differs from the request is an error naming the keys, never reused.
enum class Found { Nothing, Finished, Unfinished };

std::string describe_differences(const nlohmann::json& want, const nlohmann::json& have) {
  std::vector<std::string> parts;
  for (const std::string& k : differing_keys(want, have))
    parts.push_back(fmt::format("{} {} (folder: {})", k, want.contains(k) ? want[k].dump() : "default",
                                have.contains(k) ? have[k].dump() : "default"));
  return join(parts, "; ");
}

Found inspect_run_folder(const std::string& folder, const nlohmann::json& want) {
  if (!fs::exists(folder)) return Found::Nothing;
  const bool finished = fs::exists(folder + "/summary.json");
  if (!fs::exists(folder + "/config.json")) {
    if (finished) throw UsageError(fmt::format("sweep: {} has a summary.json but no config.json, so it cannot be checked; remove it", folder));
    return Found::Unfinished;
  }
  nlohmann::json have;
  try {
    std::ifstream in(folder + "/config.json");
    have = result_config(TrainArgs::from_json(nlohmann::json::parse(in)));
  } catch (const std::exception& e) {
    throw UsageError(fmt::format("sweep: {}/config.json cannot be read as a run's config ({}); remove the folder", folder, e.what()));
  }
  if (want != have)
    throw UsageError(fmt::format("sweep: {} holds a run with another config, not reused: {}; remove the folder or use another --out",
                                 folder, describe_differences(want, have)));
  return finished ? Found::Finished : Found::Unfinished;
}

std::vector<std::string> checked_list(const std::string& flag, const std::string& text) {
  const std::vector<std::string> items = split_list(text);
  if (items.empty()) throw UsageError(fmt::format("sweep: {} has no values", flag));
  const std::set<std::string> unique(items.begin(), items.end());
  if (unique.size() != items.size()) throw UsageError(fmt::format("sweep: {} lists a value twice: {}", flag, text));
  return items;
}

std::map<std::string, double> parse_model_lr(const std::string& text) {
  std::map<std::string, double> model_lr;
  for (const std::string& item : split_list(text)) {
    const auto e = item.find('=');
    try {
      if (e == std::string::npos) throw std::invalid_argument(item);
      model_lr[item.substr(0, e)] = std::stod(item.substr(e + 1));
    } catch (const std::exception&) {
      throw UsageError(fmt::format("sweep: --model-lr '{}' is not MODEL=LR", item));
    }
  }
  return model_lr;
}

// Every run of the grid with its resolved arguments and folder name; checks them all first.
std::vector<Run> make_grid(const SweepArgs& a, const std::string& name, const std::vector<std::string>& values) {
  const std::vector<std::string> models = checked_list("--models", a.models);
  const std::map<std::string, double> model_lr = parse_model_lr(a.model_lr);
  if (name == "lr" && !model_lr.empty()) throw UsageError("sweep: --vary lr and --model-lr both set the learning rate; give one");
  if (name == "model" || name == "seed") throw UsageError(fmt::format("sweep: --vary {}: use --{}s", name, name));
  for (const auto& [field, v] : a.train.model_fields)
    if (std::none_of(models.begin(), models.end(),
                     [&](const std::string& m) { return find_field(model_family(m).fields, field) != nullptr; }))
      throw UsageError(fmt::format("sweep: --{} is not a setting of any of --models {}", field, a.models));
  std::vector<Run> grid;
  for (const auto& m : models)
    for (const auto& v : values)
      for (int s = 0; s < a.seeds; ++s) {
        Run r{m, v, (int)a.train.seed + s, with_value(for_model(a.train, m), name, v), {}, {}, {}};
        if (model_lr.count(m)) r.args.lr = model_lr.at(m);
        r.args.seed = r.seed;
        r.args.quiet = true;
        r.args.validate();
        r.key = result_config(r.args);
        r.hash = config_hash(r.key);
        r.id = run_folder_name(m, v, r.seed, r.hash);
        grid.push_back(std::move(r));
      }
  return grid;
}

void write_sweep_json(const SweepArgs& a, const std::string& name, const std::vector<std::string>& values,
                      const std::vector<Run>& grid) {
  nlohmann::json sweep = {{"vary", name}, {"values", values}, {"models", split_list(a.models)}, {"seeds", a.seeds},
                          {"task", a.train.data_dir.empty() ? a.train.task : a.train.data_dir},
                          {"runs", nlohmann::json::array()}};
  for (const Run& r : grid)
    sweep["runs"].push_back({{"id", r.id}, {"model", r.model}, {"value", r.value}, {"seed", r.seed}, {"config_hash", r.hash}});
  RunFiles(a.out).write_json("sweep.json", sweep);
}

// Starts `attnlab train` for run `r` in its folder; returns the child's pid.
pid_t start_run(const std::string& out, const Run& r) {
  const std::string dir = out + "/runs/" + r.id, request = out + "/runs/" + r.id + ".json";
  RunFiles(out + "/runs").write_json(r.id + ".json", r.args.to_json());
  std::fflush(stdout);  // else the child would write the parent's buffered output again
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid == 0) {
    fs::create_directories(dir);
    const std::string log = dir + ".log";
    FILE* f = std::freopen(log.c_str(), "w", stderr);
    (void)f;
    f = std::freopen(log.c_str(), "a", stdout);
    execl("/proc/self/exe", "attnlab", "train", "--config", request.c_str(), "--out", dir.c_str(), (char*)nullptr);
    _exit(127);
  }
  if (pid < 0) throw std::runtime_error(fmt::format("sweep: cannot start a process for {}", r.id));
  return pid;
}

int run_sweep(const SweepArgs& a) {
  if (!a.collect.empty()) return collect(a.collect);
  if (a.out.empty()) throw UsageError("sweep: --out DIR is required");
  const auto eq = a.vary.find('=');
  if (eq == std::string::npos || eq == 0) throw UsageError("sweep: --vary takes NAME=v1,v2,...");
  const std::string name = a.vary.substr(0, eq);
  const std::vector<std::string> values = checked_list("--vary", a.vary.substr(eq + 1));
  if (a.seeds < 1) throw UsageError("sweep: --seeds must be positive");
  if (a.jobs < 1) throw UsageError("sweep: --jobs must be positive");
  int k = 0, n = 0;
  if (std::sscanf(a.shard.c_str(), "%d/%d", &k, &n) != 2 || n < 1 || k < 1 || k > n)
    throw UsageError(fmt::format("sweep: --shard '{}' is not k/n with 1 <= k <= n", a.shard));
  // Check every run's configuration, and every folder of this shard, before anything starts.
  const std::vector<Run> grid = make_grid(a, name, values);
  std::vector<size_t> mine;
  std::map<size_t, Found> found;
  for (size_t i = 0; i < grid.size(); ++i)
    if ((int)(i % n) == k - 1) {
      mine.push_back(i);
      found[i] = inspect_run_folder(a.out + "/runs/" + grid[i].id, grid[i].key);
    }
  std::error_code ec;
  fs::create_directories(a.out + "/runs", ec);
  if (ec) throw UsageError(fmt::format("sweep: --out {}: {}", a.out, ec.message()));
  write_sweep_json(a, name, values, grid);
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
    fmt::print(stderr, "sweep: [{}/{}] {} {}\n", done, mine.size(), grid[i].id, ok ? "done" : "FAILED (see its .log)");
  };
  while (next < mine.size() || !running.empty()) {
    while (next < mine.size() && (int)running.size() < a.jobs) {
      const size_t i = mine[next++];
      const std::string dir = a.out + "/runs/" + grid[i].id;
      if (found[i] == Found::Finished) {
        ++done;
        fmt::print(stderr, "sweep: [{}/{}] {} reused: a finished run with the same config\n", done, mine.size(), grid[i].id);
        continue;
      }
      if (found[i] == Found::Unfinished) {
        fmt::print(stderr, "sweep: {}: an unfinished earlier attempt with the same config; starting it over\n", grid[i].id);
        fs::remove_all(dir, ec);
      }
      running[start_run(a.out, grid[i])] = i;
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
      "Each run gets DIR/runs/<model>_<value>_seed<s>_<hash>/ (a full train run folder), <hash> covering every\n"
      "setting that can change its results. A finished run with the same config is reused; a folder holding\n"
      "another config is an error. Writes DIR/results.csv and DIR/accuracy_vs_<NAME>.png (docs/cli.md).");
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
