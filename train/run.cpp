#include "train/run.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "autograd/blas.hpp"
#include "autograd/ops.hpp"
#include "autograd/isa.hpp"
#include "models/checkpoint.hpp"
#include "models/memory_estimate.hpp"
#include "train/checkpoint_set.hpp"
#include "train/distributed.hpp"
#include "train/errors.hpp"
#include "train/hooks.hpp"
#include "train/probe_hook.hpp"
#include "train/run_files.hpp"

namespace attn {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// What makes float32 results differ between machines: the same seed gives the same metrics only
// on the same kernels (docs/reliability.md), and, under mpirun, the same rank count.
nlohmann::json machine_json(int64_t threads, const Ranks& ranks) {
  const BlasInfo b = blas_info();
  const AttentionKernel& a = attention_kernel();  // tiles and whole rows round differently
  nlohmann::json j = {{"isa", isa_name()},
                      {"blas_core", b.core},
                      {"threads", threads},
                      {"attention", fmt::format("{} (tiles {}x{}, from {} keys, {} causal)", attention_kernel_name(a.kind), a.q_block, a.k_block,
                                                a.min_keys, a.min_causal_keys)}};
  if (ranks.many()) j["ranks"] = ranks.size();
  return j;
}

DataShape task_shape(const data::DataConfig& dc) {
  const auto train = data::make_task_resolved(dc.task, dc.knobs), test = data::make_task_resolved(dc.task, dc.test_knobs);
  return {(size_t)train->vocab().size(), std::max(train->max_src_len(), test->max_src_len()),
          std::max(train->max_tgt_len(), test->max_tgt_len())};
}

MemoryEstimate step_memory(const TrainArgs& args, const DataShape& shape) {
  return estimate_training_memory(args.model_config(shape), (args.batch + args.accumulate - 1) / args.accumulate,
                                  (int64_t)shape.max_src_len, (int64_t)shape.max_tgt_len + 1, (int)args.threads,
                                  args.optimizer == "sgd" ? 1 : 2);
}

// Refuses, before anything is allocated or written, a step that cannot fit.
void check_memory(const TrainArgs& args, const DataShape& shape) {
  const MemoryEstimate e = step_memory(args, shape);
  std::string limit;
  double avail = available_memory(&limit);
  if (!args.max_memory.empty() && parse_bytes(args.max_memory) < avail) {
    avail = parse_bytes(args.max_memory);
    limit = "--max-memory " + args.max_memory;
  }
  if (e.total() <= avail) return;
  const MemoryTerm& big = e.largest();
  throw ConfigError(fmt::format("a training step would need about {} of memory, more than the {} left under {}. "
                                "The largest term is the {} ({}). Use a smaller model, batch or sequence length "
                                "(estimate: {})",
                                format_bytes(e.total()), format_bytes(avail), limit, big.what, format_bytes(big.bytes),
                                e.describe()));
}

std::unique_ptr<data::Dataset> make_dataset(const TrainArgs& args) {
  const data::DataConfig dc = args.data_config();
  // A task's sizes are known before its validation and test sets are generated (which can take
  // a while for huge knobs), so an impossible run is refused at once.
  if (!dc.is_file() && !dc.is_text()) check_memory(args, task_shape(dc));
  try {
    return std::make_unique<data::Dataset>(dc);
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    throw ConfigError(e.what());
  }
}

void print_test(const EvalResult& test, const ModelConfig& mc, const data::Dataset& ds, const LoopState& st, double wall,
                int64_t params, const std::string& out) {
  const Interval sci = test.sequence_interval(), tci = test.token_interval();
  fmt::print("{} on {}: {} steps in {:.1f} s, {} parameters\n", mc.type, ds.config().describe(), st.step, wall, params);
  fmt::print("test ({}, best checkpoint from step {}):\n", test.describe_examples(), st.best_step);
  fmt::print("  sequence accuracy {:.4f}  95% CI [{:.4f}, {:.4f}]   chance {:.4f}\n", test.sequence_accuracy(), sci.lo,
             sci.hi, test.chance.sequence);
  fmt::print("  token accuracy    {:.4f}  95% CI [{:.4f}, {:.4f}]   chance {:.4f}\n", test.token_accuracy(), tci.lo, tci.hi,
             test.chance.token);
  fmt::print("  teacher-forced loss {:.4f}", test.loss);
  if (test.dependent_loss >= 0) fmt::print("   at the labels with a distance {:.4f}", test.dependent_loss);
  fmt::print("\n");
  for (const data::Baseline& b : test.chance.baselines)
    fmt::print("  baseline ({}): {} {:.4f}\n", b.name, b.metric, b.value);
  auto bins = test.distance_bins();
  if (!bins.empty()) {
    fmt::print("  token accuracy by distance:");
    for (auto& [lo, hi, acc, n] : bins) fmt::print("  {}: {:.3f}", lo == hi ? std::to_string(lo) : fmt::format("{}-{}", lo, hi), acc);
    fmt::print("\n");
  }
  fmt::print("files: {}/{{summary.json, metrics.jsonl, metrics.csv, loss.png, accuracy.png, best.safetensors, last.safetensors}}\n",
             out);
}

// Restores a run from its folder; a finished run whose budget grew goes on. Only the root rank
// tidies and repairs the folder; the others read the state.
LoopState resume_state(const TrainArgs& args, const RunOptions& opt, const RunFiles& files, CheckpointSet& ckpts,
                       Seq2SeqModel<float>& model, Optimizer& optim, const Ranks& ranks) {
  LoopState st;
  if (ranks.root()) ckpts.remove_partial_writes();
  if (std::filesystem::exists(files.path("state.safetensors"))) {
    try {
      st = ckpts.load(model, optim, ranks.root());
    } catch (const CheckpointError& e) {
      throw ConfigError(fmt::format("--resume {}: {}", opt.out, e.what()));
    }
    const bool target_met = args.target_accuracy > 0 && st.best >= args.target_accuracy;
    if (st.finished && st.step < args.steps && !target_met) {
      st.finished = false;
      if (ranks.root()) fmt::print(stderr, "extending {} from step {} to {}\n", opt.out, st.step, args.steps);
    } else if (ranks.root()) {
      fmt::print(stderr, "resuming {} at step {} of {}\n", opt.out, st.step, args.steps);
    }
  } else if (ranks.root()) {
    fmt::print(stderr, "resuming {}: no checkpoint was written yet, so it starts again from step 0\n", opt.out);
  }
  if (ranks.root()) files.truncate_metrics(st.step);
  return st;
}

// The gradients' summation order depends on the rank count (train/step.hpp), so a run resumes
// exactly only with the count it was started with.
void check_rank_count(const RunFiles& files, const RunOptions& opt, const Ranks& ranks) {
  std::ifstream in(files.path("config.json"));
  if (!in) return;  // resume_state reports a folder without a run
  nlohmann::json stored;
  try {
    stored = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    return;
  }
  const int trained = stored.contains("machine") ? stored["machine"].value("ranks", 1) : 1;
  if (trained != ranks.size())
    throw ConfigError(fmt::format("--resume {}: the run was trained by {} and this is {}; resume it with the same "
                                  "count ({}), since the order in which gradients are summed depends on it",
                                  opt.out, trained == 1 ? "1 process" : fmt::format("{} MPI ranks", trained),
                                  ranks.size() == 1 ? "1 process" : fmt::format("{} ranks", ranks.size()),
                                  trained == 1 ? "without mpirun" : fmt::format("mpirun -np {}", trained)));
}

}  // namespace

double RunTimeEstimate::total() const { return (double)steps * step_seconds + (double)evaluations * eval_seconds; }

double estimate_step_bytes(const TrainArgs& args) {
  const data::DataConfig dc = args.data_config();
  return dc.is_file() || dc.is_text() ? 0 : step_memory(args, task_shape(dc)).total();
}

RunTimeEstimate estimate_run_time(const TrainArgs& args) {
  args.validate();
  const std::unique_ptr<data::Dataset> ds = make_dataset(args);
  const ModelConfig mc = args.model_config(*ds);
  check_memory(args, DataShape{(size_t)ds->vocab().size(), ds->max_src_len(), ds->max_tgt_len()});
  set_num_threads((int)args.threads);
  auto model = make_model<float>(mc, (uint64_t)args.seed);
  Optimizer optim(args.optim_config(), model->named_parameters());
  Graph<float> g;
  model->train();
  const StepSettings settings{args.accumulate, args.clip_norm, args.label_smoothing, false};
  const int measured = 3;
  Clock::time_point t0;
  for (int i = 0; i <= measured; ++i) {
    if (i == 1) t0 = Clock::now();  // step 0 warms caches and the arena
    train_step(*model, optim, g, ds->train_batch((uint64_t)i, (int)args.batch), settings, args.lr);
  }
  RunTimeEstimate e;
  e.step_seconds = seconds_since(t0) / measured;
  const size_t sample = std::min<size_t>(32, ds->size(data::Split::Valid));
  t0 = Clock::now();
  evaluate(*model, *ds, data::Split::Valid, sample);
  e.eval_seconds = seconds_since(t0) * (double)std::min<size_t>(args.eval_examples, ds->size(data::Split::Valid)) / sample;
  e.steps = args.steps;
  e.evaluations = args.steps / args.eval_every + (args.skip_test ? 0 : 1);
  return e;
}

std::vector<std::string> resume_conflicts(const TrainArgs& stored, const TrainArgs& requested,
                                          const std::vector<std::string>& given) {
  std::vector<std::string> out;
  const FieldValues stored_model = resolve_fields(model_family(stored.model).fields, stored.model_fields);
  for (const std::string& name : given) {
    if (const FieldSpec* s = find_field(TrainArgs::specs(), name)) {
      if (!s->extends_run && stored.get(name) != requested.get(name)) out.push_back(s->flag_name());
    } else {
      auto a = stored_model.find(name), b = requested.model_fields.find(name);
      if (a == stored_model.end() || b == requested.model_fields.end() || a->second != b->second)
        out.push_back("--" + name);
    }
  }
  for (std::string& f : out) std::replace(f.begin(), f.end(), '_', '-');
  return out;
}

RunOutcome run_training(const TrainArgs& args, const RunOptions& opt) {
  const auto t0 = Clock::now();
  // Under mpirun every rank runs all of this on its share of each batch; the root alone writes
  // and prints (docs/cluster.md).
  const Ranks& ranks = Ranks::world();
  const bool root = ranks.root();
  // Everything is checked before anything is written.
  args.validate();
  const std::unique_ptr<data::Dataset> ds = make_dataset(args);
  const ModelConfig mc = args.model_config(*ds);
  const OptimConfig oc = args.optim_config();
  check_memory(args, DataShape{(size_t)ds->vocab().size(), ds->max_src_len(), ds->max_tgt_len()});
  set_num_threads((int)args.threads);
  auto model = make_model<float>(mc, (uint64_t)args.seed);
  nlohmann::json config = args.to_json();
  config["resolved"] = {{"model", mc.to_json()},
                        {"data", ds->config().to_json()},
                        {"params", model->num_parameters()},
                        {"vocab_size", ds->vocab().size()}};
  if (opt.dry_run) {
    if (root) fmt::print("{}\nparameters: {}\n", config.dump(2), model->num_parameters());
    return {};
  }
  if (opt.out.empty()) throw ConfigError("--out DIR is required (where the run's files go)");
  RunFiles files(opt.out);
  if (opt.resume) check_rank_count(files, opt, ranks);
  if (!opt.resume && root) files.create_new(opt.overwrite);  // ConfigError when unwritable or already holding a run
  Optimizer optim(oc, model->named_parameters());
  CheckpointSet ckpts(files, {{"vocab", ds->vocab().to_json().dump()}, {"data", ds->config().to_json().dump()}});
  // A run that fails before its first checkpoint leaves nothing behind.
  struct Cleanup {
    const RunFiles& files;
    const CheckpointSet& ckpts;
    bool active;
    ~Cleanup() {
      if (active && !ckpts.written()) files.remove_new();
    }
  } cleanup{files, ckpts, !opt.resume && root};
  LoopState st = opt.resume ? resume_state(args, opt, files, ckpts, *model, optim, ranks) : LoopState{};
  config["attnlab_version"] = "0.1.0";
  config["machine"] = machine_json(args.threads, ranks);
  if (root) files.write_json("config.json", config);  // on resume: the budget and evaluation settings may have grown

  Evaluation evaluation(*model, *ds, (size_t)args.eval_examples, &ranks);
  EarlyStopping early(args.target_accuracy);
  MetricsRows rows(files);
  Checkpointing checkpointing(ckpts, *model, optim);
  Progress progress(args.quiet || !root);
  SignalGuard signals(&ranks);
  Graph<float> g;
  g.set_detect_anomaly(args.detect_anomaly);
  model->train();
  const StepSettings settings{args.accumulate, args.clip_norm, args.label_smoothing, args.detect_anomaly, &ranks};
  const StepFn step = [&](int64_t i, double& lr) {
    lr = scheduled_lr(oc, i, args.steps);
    return train_step(*model, optim, g, ds->train_batch((uint64_t)i, (int)args.batch), settings, lr);
  };
  const LoopSchedule schedule{args.steps, args.log_every, args.eval_every};
  std::vector<LoopHook*> hooks{&signals, &evaluation, &early};
  if (root) hooks.insert(hooks.end(), {&rows, &checkpointing, &progress});
  std::unique_ptr<ProbeRecorder> probes;
  if (root && args.probe_every > 0) {
    probes = std::make_unique<ProbeRecorder>(*model, *ds, args.probe_every, files.path("probes"));
    hooks.push_back(probes.get());
  }
  LoopEnd end;
  try {
    end = run_loop(step, st, schedule, hooks, t0);
  } catch (const NonFiniteError& e) {
    progress.end_line();
    throw NonFiniteError(fmt::format("{} {}", e.what(),
                                     ckpts.written() ? "The last good checkpoint is " + files.path("last.safetensors") + "."
                                                     : std::string("No checkpoint was written, so the run folder is removed.")));
  }
  progress.end_line();
  if (end == LoopEnd::Interrupted) {
    LoopContext now(st, schedule, t0);
    if (root) {
      checkpointing.save(now, false);
      fmt::print(stderr, "interrupted at step {}: checkpoint written; continue with: attnlab train --resume {}\n", st.step,
                 opt.out);
    }
    return {LoopEnd::Interrupted, signals.signal()};
  }

  // Test with the best checkpoint: highest validation sequence accuracy, ties to the lower loss.
  ranks.barrier();  // the root has written it
  load_parameters(load_safetensors(files.path("best.safetensors")), *model, files.path("best.safetensors"));
  EvalResult test;
  if (!args.skip_test) test = evaluate(*model, *ds, data::Split::Test, (size_t)args.eval_examples, 100, &ranks);
  if (!root) return {};
  const double wall = st.elapsed + seconds_since(t0);
  nlohmann::json summary = args.skip_test ? nlohmann::json::object() : test.to_json("test_", true);
  summary.update({{"test_split_reads", ds->test_reads()}, {"steps", st.step}, {"best_step", st.best_step}, {"best_val_sequence_accuracy", st.best},
                  {"best_val_loss", st.best_loss}, {"wall_seconds", wall}, {"params", model->num_parameters()},
                  {"state_floats", state_floats(mc, double(ds->max_src_len() + 1 + ds->max_tgt_len()))},
                  {"model", mc.type}, {"task", ds->config().describe()}, {"seed", args.seed}, {"lr", args.lr},
                  {"threads", args.threads}, {"machine", machine_json(args.threads, ranks)}});
  files.write_json("summary.json", summary);
  files.write_plots(ds->chance(data::Split::Valid));
  if (args.skip_test)
    fmt::print("{} on {}: {} steps in {:.1f} s; test not read (--skip-test); best validation sequence accuracy {:.4f} "
               "at step {}\nfiles: {}\n", mc.type, ds->config().describe(), st.step, wall, st.best, st.best_step, opt.out);
  else
    print_test(test, mc, *ds, st, wall, model->num_parameters(), opt.out);
  return {};
}

}  // namespace attn
