// `attnlab sweep`: the study attnlab exists for. Trains every (model, value, seed) of a grid,
// each as its own `attnlab train` process in its own folder, then collects results.csv and
// accuracy-versus-knob plots (sweep_collect.cpp). --shard k/n runs a deterministic share, for Slurm arrays or GNU
// parallel; --collect merges the shards' folders afterwards.
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <set>

#include "data/task.hpp"
#include "train/cli/cli.hpp"
#include "train/cli/options.hpp"
#include "train/cli/sweep.hpp"
#include "train/run.hpp"
#include "train/run_files.hpp"
#include "train/sweep_key.hpp"
#include "train/train_config.hpp"

namespace attn::cli {

namespace fs = std::filesystem;

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

namespace {

bool is_model_field(const std::string& key) {
  for (const ModelFamily* f : model_families())
    if (find_field(f->fields, key)) return true;
  return false;
}

// Sets train flag or model field `key` (JSON spelling) to `value`, parsed as its field's kind.
TrainArgs with_setting(TrainArgs a, const std::string& key, const std::string& flag, const std::string& value) {
  nlohmann::json j = a.to_json();
  try {
    j[key] = j[key].is_string() ? nlohmann::json(value) : nlohmann::json::parse(value);
    return TrainArgs::from_json(j);
  } catch (const std::exception& e) {
    throw UsageError(fmt::format("{}: '{}' is not a valid value ({})", flag, value, e.what()));
  }
}

// The run's family with the given model settings it has (run_sweep checks that each belongs to
// at least one swept family), and a variant's own settings on top.
TrainArgs for_model(const SweepArgs& s, const std::string& model) {
  TrainArgs a = s.train;
  const std::vector<Variant> variants = parse_variants(s.variants);
  const Variant* v = find_variant(variants, model);
  a.model = v ? v->family : model;
  const ModelFamily& f = model_family(a.model);
  for (auto it = a.model_fields.begin(); it != a.model_fields.end();)
    it = find_field(f.fields, it->first) ? std::next(it) : a.model_fields.erase(it);
  if (v)
    for (const auto& [field, value] : v->fields) a = with_setting(a, field, "--variant " + v->name, value);
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
  const nlohmann::json j = a.to_json();
  // A model setting applies to the families that have it (run_sweep checks that one does).
  if (!j.contains(key) && !find_field(TrainArgs::specs(), key) && is_model_field(key)) return a;
  if (!j.contains(key)) throw UsageError(fmt::format("--vary {}: neither a knob of task '{}' nor a train flag", name, a.task));
  return with_setting(a, key, "--vary " + name, value);
}

// A compound --vary a:b=1:2,3:4 sets a and b together, for grids whose settings move in step
// (MQAR's pairs with its length).
TrainArgs with_values(TrainArgs a, const std::string& name, const std::string& value) {
  const std::vector<std::string> names = split_on(name, ':'), values = split_on(value, ':');
  if (names.size() != values.size())
    throw UsageError(fmt::format("--vary {}: value '{}' has {} parts, not {}", name, value, values.size(), names.size()));
  for (size_t i = 0; i < names.size(); ++i) a = with_value(a, names[i], values[i]);
  return a;
}


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

}  // namespace

Run make_run(const SweepArgs& a, const std::string& model, const std::string& name, const std::string& value, int seed,
             std::optional<double> lr) {
  Run r{model, value, seed, with_values(for_model(a, model), name, value), {}, {}, {}};
  if (lr) r.args.lr = *lr;
  r.args.seed = seed;
  r.args.quiet = true;
  r.args.validate();
  r.key = result_config(r.args);
  r.hash = config_hash(r.key);
  r.id = run_folder_name(model, name == "lr" ? value : r.args.skip_test ? fmt::format("lr{}", r.args.lr) : value, seed, r.hash);
  return r;
}

namespace {

// Every run of the grid with its resolved arguments and folder name; checks them all first.
std::vector<Run> make_grid(const SweepArgs& a, const std::string& name, const std::vector<std::string>& values) {
  const std::vector<std::string> models = checked_list("--models", a.models);
  const std::map<std::string, double> model_lr = parse_model_lr(a.model_lr);
  if (name == "lr" && !model_lr.empty()) throw UsageError("sweep: --vary lr and --model-lr both set the learning rate; give one");
  const std::vector<Variant> variants = parse_variants(a.variants);
  const std::vector<std::string> families = model_family_names();
  for (const std::string& m : models)
    if (!find_variant(variants, m) && std::find(families.begin(), families.end(), m) == families.end())
      throw UsageError(fmt::format("sweep: --models {}: '{}' is neither a model family ({}) nor a --variant", a.models, m,
                                   join(families)));
  auto family_of = [&](const std::string& m) { return find_variant(variants, m) ? find_variant(variants, m)->family : m; };
  for (const auto& setting : a.train.model_fields) {
    const std::string& field = setting.first;  // not a structured binding: clang 14 cannot capture one
    if (std::none_of(models.begin(), models.end(),
                     [&](const std::string& m) { return find_field(model_family(family_of(m)).fields, field) != nullptr; }))
      throw UsageError(fmt::format("sweep: --{} is not a setting of any of --models {}", field, a.models));
  }
  std::vector<Run> grid;
  for (const auto& m : models)
    for (const auto& v : values)
      for (int s = 0; s < a.seeds; ++s)
        grid.push_back(make_run(a, m, name, v, (int)a.train.seed + s,
                                model_lr.count(m) ? std::optional<double>(model_lr.at(m)) : std::nullopt));
  return grid;
}

void write_sweep_json(const SweepArgs& a, const std::string& name, const std::vector<std::string>& values,
                      const std::vector<Run>& grid) {
  nlohmann::json sweep = {{"vary", name}, {"values", values}, {"models", split_list(a.models)}, {"seeds", a.seeds},
                          {"task", a.train.data_dir.empty() ? a.train.task : a.train.data_dir},
                          {"runs", nlohmann::json::array()}};
  if (!a.model_lr.empty()) sweep["model_lr"] = a.model_lr;
  for (const Variant& v : parse_variants(a.variants)) sweep["variants"][v.name] = v.definition;
  for (const Run& r : grid)
    sweep["runs"].push_back({{"id", r.id}, {"model", r.model}, {"value", r.value}, {"seed", r.seed}, {"config_hash", r.hash}});
  RunFiles(a.out).write_json("sweep.json", sweep);
}

// Starts `attnlab train` for run `r` in its folder; returns the child's pid.
pid_t start_run(const std::string& runs_dir, const Run& r) {
  const std::string dir = runs_dir + "/" + r.id, request = runs_dir + "/" + r.id + ".json";
  RunFiles(runs_dir).write_json(r.id + ".json", r.args.to_json());
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


// Checks the folders of the runs `mine` before anything starts.
std::map<size_t, Found> inspect_runs(const std::string& runs_dir, const std::vector<Run>& grid, const std::vector<size_t>& mine) {
  std::map<size_t, Found> found;
  for (size_t i : mine) found[i] = inspect_run_folder(runs_dir + "/" + grid[i].id, grid[i].key);
  if (mine.empty()) return found;
  std::error_code ec;
  fs::create_directories(runs_dir, ec);
  if (ec) throw UsageError(fmt::format("sweep: {}: {}", runs_dir, ec.message()));
  return found;
}

// Runs `mine` of `grid`, `jobs` at a time, reusing finished folders; returns the failures.
size_t launch(const std::string& runs_dir, const std::vector<Run>& grid, const std::vector<size_t>& mine,
              std::map<size_t, Found> found, int jobs, const char* what) {
  std::map<pid_t, size_t> running;
  size_t next = 0, done = 0, failed = 0, trained = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto reap = [&] {
    int status = 0;
    const pid_t pid = wait(&status);
    if (pid <= 0) return;
    const size_t i = running[pid];
    running.erase(pid);
    ++done, ++trained;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    failed += !ok;
    // The runs trained so far set the pace of the rest (jobs at a time, as they ran).
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double eta = elapsed / (double)trained * (double)(mine.size() - done);
    fmt::print(stderr, "{}: [{}/{}] {} {}; {} failed; {:.0f} min elapsed, about {:.0f} min left\n", what, done, mine.size(),
               grid[i].id, ok ? "done" : "FAILED (see its .log)", failed, elapsed / 60, eta / 60);
  };
  while (next < mine.size() || !running.empty()) {
    while (next < mine.size() && (int)running.size() < jobs) {
      const size_t i = mine[next++];
      if (found[i] == Found::Finished) {
        ++done;
        fmt::print(stderr, "{}: [{}/{}] {} reused: a finished run with the same config\n", what, done, mine.size(), grid[i].id);
        continue;
      }
      if (found[i] == Found::Unfinished) {
        fmt::print(stderr, "{}: {}: an unfinished earlier attempt with the same config; starting it over\n", what, grid[i].id);
        std::error_code ec;
        fs::remove_all(runs_dir + "/" + grid[i].id, ec);
      }
      running[start_run(runs_dir, grid[i])] = i;
    }
    if (!running.empty()) reap();
  }
  return failed;
}

// Predicted seconds of the runs not yet finished, one measurement per (model, value), printed
// as a table; the learning rate does not change a step's time.
double plan(const std::vector<Run>& runs, const std::map<size_t, Found>& found, const char* what) {
  struct Row {
    RunTimeEstimate e;
    int runs = 0;
  };
  std::map<std::string, Row> rows;
  std::vector<std::string> order;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (found.count(i) && found.at(i) == Found::Finished) continue;
    const std::string key = fmt::format("{} {}{}={}", runs[i].model, runs[i].args.skip_test ? "tuning at " : "", what, runs[i].value);
    if (!rows.count(key)) {
      fmt::print(stderr, "plan: measuring {} ...\n", key);
      rows[key].e = estimate_run_time(runs[i].args);
      order.push_back(key);
    }
    ++rows[key].runs;
  }
  double total = 0;
  for (const std::string& k : order) {
    const Row& r = rows.at(k);
    fmt::print("  {:<36} {:>3} runs  {:>8.3f} s/step  {:>7.2f} s/eval  {:>8.0f} s\n", k, r.runs, r.e.step_seconds,
               r.e.eval_seconds, r.runs * r.e.total());
    total += r.runs * r.e.total();
  }
  return total;
}

}  // namespace

std::vector<Run> sweep_grid(const SweepArgs& a) {
  const auto eq = a.vary.find('=');
  if (eq == std::string::npos || eq == 0) throw UsageError("sweep: --vary takes NAME=v1,v2,...");
  SweepArgs at_any_rate = a;
  at_any_rate.model_lr.clear();
  return make_grid(at_any_rate, a.vary.substr(0, eq), checked_list("--vary", a.vary.substr(eq + 1)));
}

namespace {

// --emit: the sweep as a tuning job (when it tunes), shard jobs and a collect job.
int emit_sweep(const SweepArgs& a, const std::string& name, const std::vector<std::string>& values, const Tuning& tuning) {
  if (a.plan) throw UsageError("sweep: --emit writes jobs and --plan measures; give one");
  if (a.shard != "1/1") throw UsageError("sweep: --emit writes every shard's job itself; leave out --shard");
  if (a.emit_shards < 0) throw UsageError("sweep: --emit-shards must be positive (or 0: one run each)");
  const std::vector<Run> grid = make_grid(a, name, values);
  EmitSpec e;
  e.kind = a.emit;
  e.out = fs::absolute(a.out).string();
  e.what = "sweep --emit " + a.emit;
  e.shards = a.emit_shards > 0 ? std::min<int>(a.emit_shards, (int)grid.size()) : (int)grid.size();
  if (a.emit_shards > e.shards)
    fmt::print(stderr, "sweep: --emit-shards {}: the grid has {} runs, so {} shards\n", a.emit_shards, grid.size(), e.shards);
  e.jobs = a.jobs;
  e.threads = (int)a.train.threads;
  std::vector<TrainArgs> runs;
  for (const Run& r : grid) runs.push_back(r.args);
  e.bytes = task_memory_bytes(runs);
  e.tunes = !tuning.grid.empty();
  e.lr_from_after_tuning = e.out + "/tuning.json";
  e.collect_args = {"sweep", "--collect", e.out};
  return emit_jobs(e);
}

}  // namespace

int run_sweep(const SweepArgs& a) {
  if (!a.collect.empty()) return collect(a.collect);
  if (a.out.empty()) throw UsageError("sweep: --out DIR is required");
  const auto eq = a.vary.find('=');
  if (eq == std::string::npos || eq == 0) throw UsageError("sweep: --vary takes NAME=v1,v2,...");
  const std::string name = a.vary.substr(0, eq);
  const std::vector<std::string> values = checked_list("--vary", a.vary.substr(eq + 1));
  for (const std::string& part : split_on(name, ':')) {
    if (part == "model" || part == "seed") throw UsageError(fmt::format("sweep: --vary {}: use --{}s", part, part));
    if (part == "lr" && part != name) throw UsageError("sweep: --vary lr cannot be part of a compound --vary");
    if (part.empty()) throw UsageError(fmt::format("sweep: --vary {}: an empty name", name));
  }
  if (a.seeds < 1) throw UsageError("sweep: --seeds must be positive");
  if (a.jobs < 1) throw UsageError("sweep: --jobs must be positive");
  int k = 0, n = 0;
  if (std::sscanf(a.shard.c_str(), "%d/%d", &k, &n) != 2 || n < 1 || k < 1 || k > n)
    throw UsageError(fmt::format("sweep: --shard '{}' is not k/n with 1 <= k <= n", a.shard));
  // Check every run's configuration, and every folder of this shard, before anything starts.
  const Tuning tuning = plan_tuning(a, name, values);
  if (!tuning.grid.empty() && n > 1)
    throw UsageError("sweep: --tune-lr runs on one machine; tune first, then shard with --lr-from DIR/tuning.json");
  // Read an earlier tuning.json before anything is measured or started.
  const std::string rates_from =
      a.lr_from.empty() ? "" : read_tuning(a.lr_from, checked_list("--models", a.models), parse_variants(a.variants));
  if (!a.emit.empty()) return emit_sweep(a, name, values, tuning);
  std::vector<size_t> all_tune(tuning.grid.size());
  std::iota(all_tune.begin(), all_tune.end(), 0);
  if (a.plan || a.max_hours > 0) {
    // The grid at the rates it will run with, where they are known, so that finished runs count 0.
    SweepArgs at_rates = a;
    if (!rates_from.empty()) at_rates.model_lr = rates_from;
    else if (!tuning.grid.empty() && fs::exists(a.out + "/tuning.json"))
      at_rates.model_lr = read_tuning(a.out + "/tuning.json", checked_list("--models", a.models), parse_variants(a.variants));
    at_rates.tune_lr.clear();
    const std::vector<Run> grid = make_grid(at_rates, name, values);
    std::map<size_t, Found> done, tune_done;
    for (size_t i = 0; i < grid.size() && !a.tune_only; ++i)
      if ((int)(i % n) == k - 1) done[i] = inspect_run_folder(a.out + "/runs/" + grid[i].id, grid[i].key);
    for (size_t i : all_tune) tune_done[i] = inspect_run_folder(a.out + "/tune/" + tuning.grid[i].id, tuning.grid[i].key);
    std::vector<Run> mine;  // this shard's runs, as `done` indexes them
    std::map<size_t, Found> mine_done;
    for (const auto& [i, f] : done) {
      mine_done[mine.size()] = f;
      mine.push_back(grid[i]);
    }
    fmt::print("{} tuning runs and {} grid runs in shard {}/{} ({} of the grid), measured on this machine:\n",
               tuning.grid.size(), mine.size(), k, n, grid.size());
    const double seconds = (plan(tuning.grid, tune_done, name.c_str()) + plan(mine, mine_done, name.c_str())) / a.jobs;
    fmt::print("estimated wall time: {:.1f} h with --jobs {} (if parallel runs do not slow each other; finished runs "
               "count 0)\n", seconds / 3600, a.jobs);
    if (a.max_hours > 0 && seconds > a.max_hours * 3600)
      throw UsageError(fmt::format("sweep: the estimate, {:.1f} h, is over --max-hours {}; use fewer --seeds, values or "
                                   "--steps, or shard it", seconds / 3600, a.max_hours));
    if (a.plan) return 0;
  }
  const auto tune_found = inspect_runs(a.out + "/tune", tuning.grid, all_tune);
  SweepArgs chosen = a;
  if (!tuning.grid.empty()) {
    fmt::print(stderr, "sweep: tuning the learning rate on validation: {} runs at {}={}, {} at a time\n", tuning.grid.size(),
               name, tuning.at, a.jobs);
    if (launch(a.out + "/tune", tuning.grid, all_tune, tune_found, a.jobs, "tune"))
      throw UsageError(fmt::format("sweep: a tuning run failed (see {}/tune/*.log); nothing else was started", a.out));
    chosen.model_lr = choose_learning_rates(a.out, tuning);
    if (a.tune_only) {
      fmt::print(stderr, "sweep: --tune-only: the choices are in {}/tuning.json; the grid was not run\n", a.out);
      return 0;
    }
  } else if (!a.lr_from.empty()) {
    chosen.model_lr = rates_from;
  }
  const std::vector<Run> grid = make_grid(chosen, name, values);
  std::vector<size_t> mine;
  for (size_t i = 0; i < grid.size(); ++i)
    if ((int)(i % n) == k - 1) mine.push_back(i);
  const auto found = inspect_runs(a.out + "/runs", grid, mine);
  write_sweep_json(chosen, name, values, grid);
  fmt::print(stderr, "sweep: {} runs in the grid, {} in shard {}/{}, {} at a time\n", grid.size(), mine.size(), k, n, a.jobs);
  const size_t failed = launch(a.out + "/runs", grid, mine, found, a.jobs, "sweep");
  if (n == 1) collect(a.out);
  else fmt::print(stderr, "sweep: shard {}/{} finished; merge with: attnlab sweep --collect {}\n", k, n, a.out);
  return failed ? 1 : 0;
}

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
  cmd->add_option("--variant", a->variants, "NAME=FAMILY[:FIELD=VALUE...]: a family with fixed settings, usable in "
                  "--models (repeatable), e.g. lstm-chrono=lstm:chrono-init=1000")->group("Sweep");
  cmd->add_option("--seeds", a->seeds, "Seeds per (model, value), from --seed on")->capture_default_str()->group("Sweep");
  cmd->add_option("--model-lr", a->model_lr, "Learning rate per model, e.g. transformer=0.001,lstm=0.003 (else --lr)")->group("Sweep");
  cmd->add_option("--out", a->out, "Sweep folder")->group("Sweep");
  cmd->add_option("--jobs", a->jobs, "Runs at a time (split --threads between them)")->capture_default_str()->group("Sweep");
  cmd->add_option("--shard", a->shard, "k/n: run only every n-th run from the k-th")->capture_default_str()->group("Sweep");
  cmd->add_option("--collect", a->collect, "Merge finished runs of the sweep in DIR into results.csv and plots")->group("Sweep");
  cmd->add_option("--tune-lr", a->tune_lr, "r1,r2,...: choose each model's rate on validation first (DIR/tuning.json)")->group("Tuning");
  cmd->add_option("--tune-at", a->tune_at, "The swept value tuning runs at (default: the middle one)")->group("Tuning");
  cmd->add_flag("--tune-only", a->tune_only, "Stop after tuning (DIR/tuning.json); run no grid")->group("Tuning");
  cmd->add_option("--tune-seeds", a->tune_seeds, "Seeds per tuning trial")->capture_default_str()->group("Tuning");
  cmd->add_flag("--plan", a->plan, "Print the grid, its runs and a time estimate measured on this machine; run nothing")->group("Sweep");
  cmd->add_option("--max-hours", a->max_hours, "Refuse a grid whose estimate is longer (0: no limit)")->group("Sweep");
  cmd->add_option("--emit", a->emit, "slurm | parallel: write the sweep as cluster jobs in DIR/emit/ and run nothing "
                  "(docs/cluster.md)")->group("Sweep");
  cmd->add_option("--emit-shards", a->emit_shards, "--emit: the number of shards (default: one run each)")->group("Sweep");
  cmd->add_option("--lr-from", a->lr_from, "Use the rates chosen in an earlier tuning.json")->group("Tuning");
  cmd->callback([a, &exit_code] { exit_code = run_sweep(*a); });
}



}  // namespace attn::cli
