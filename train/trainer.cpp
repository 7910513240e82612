#include "train/trainer.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "autograd/blas.hpp"
#include "autograd/isa.hpp"
#include "models/checkpoint.hpp"
#include "models/memory_estimate.hpp"
#include "train/cli/cli.hpp"
#include "train/evaluate.hpp"
#include "train/checkpoint_set.hpp"
#include "train/run_files.hpp"

namespace attn {

namespace fs = std::filesystem;
using cli::UsageError;

namespace {

volatile std::sig_atomic_t g_signal = 0;
void on_signal(int sig) { g_signal = sig; }

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// What makes float32 results differ between machines: the same seed gives the same metrics only
// on the same kernels (docs/reliability.md).
nlohmann::json machine_json(int threads) {
  const BlasInfo b = blas_info();
  return {{"isa", isa_name()}, {"blas_core", b.core}, {"threads", threads}};
}

DataShape task_shape(const data::DataConfig& dc) {
  const auto train = data::make_task_resolved(dc.task, dc.knobs), test = data::make_task_resolved(dc.task, dc.test_knobs);
  return {(size_t)train->vocab().size(), std::max(train->max_src_len(), test->max_src_len()),
          std::max(train->max_tgt_len(), test->max_tgt_len())};
}

// Refuses, before anything is allocated or written, a step that cannot fit.
void check_memory(const TrainArgs& args, const DataShape& shape) {
  const ModelConfig mc = args.model_config(shape);
  const MemoryEstimate e = estimate_training_memory(mc, args.batch, (int64_t)shape.max_src_len,
                                                    (int64_t)shape.max_tgt_len + 1, args.threads,
                                                    args.optimizer == "sgd" ? 1 : 2);
  std::string limit;
  double avail = available_memory(&limit);
  if (!args.max_memory.empty() && parse_bytes(args.max_memory) < avail) {
    avail = parse_bytes(args.max_memory);
    limit = "--max-memory " + args.max_memory;
  }
  if (e.total() <= avail) return;
  const MemoryTerm& big = e.largest();
  throw UsageError(fmt::format("a training step would need about {} of memory, more than the {} left under {}. "
                               "The largest term is the {} ({}). Use a smaller model, batch or sequence length "
                               "(estimate: {})",
                               format_bytes(e.total()), format_bytes(avail), limit, big.what, format_bytes(big.bytes),
                               e.describe()));
}

std::string fmt_eta(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  return s >= 3600 ? fmt::format("{}h{:02}m", int(s / 3600), int(s / 60) % 60) : fmt::format("{}m{:02}s", int(s / 60), int(s) % 60);
}

}  // namespace

int run_training(const TrainArgs& args, const RunOptions& opt) {
  const auto t0 = Clock::now();
  // Everything is checked before anything is written.
  args.validate();
  std::unique_ptr<data::Dataset> ds;
  try {
    const data::DataConfig dc = args.data_config();
    // A task's sizes are known before its validation and test sets are generated (which can take
    // a while for huge knobs), so an impossible run is refused at once.
    if (!dc.is_file()) check_memory(args, task_shape(dc));
    ds = std::make_unique<data::Dataset>(dc);
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    throw UsageError(e.what());
  }
  const ModelConfig mc = args.model_config(*ds);
  const OptimConfig oc = args.optim_config();
  check_memory(args, DataShape{(size_t)ds->vocab().size(), ds->max_src_len(), ds->max_tgt_len()});
  set_num_threads(args.threads);
  auto model = make_model<float>(mc, args.seed);
  const nlohmann::json resolved = {{"model", mc.to_json()},
                                   {"data", ds->config().to_json()},
                                   {"params", model->num_parameters()},
                                   {"vocab_size", ds->vocab().size()}};
  if (opt.dry_run) {
    nlohmann::json j = args.to_json();
    j["resolved"] = resolved;
    fmt::print("{}\nparameters: {}\n", j.dump(2), model->num_parameters());
    return kOk;
  }
  if (opt.out.empty()) throw UsageError("--out DIR is required (where the run's files go)");
  RunFiles files(opt.out);
  if (!opt.resume) files.create_new(opt.overwrite);  // UsageError when unwritable or already holding a run
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
  } cleanup{files, ckpts, !opt.resume};
  LoopState st;
  if (opt.resume) {
    ckpts.remove_partial_writes();
    if (std::filesystem::exists(files.path("state.safetensors"))) {
      try {
        st = ckpts.load(*model, optim);
      } catch (const CheckpointError& e) {
        throw UsageError(fmt::format("--resume {}: {}", opt.out, e.what()));
      }
      fmt::print(stderr, "resuming {} at step {} of {}\n", opt.out, st.step, args.steps);
    } else {
      fmt::print(stderr, "resuming {}: no checkpoint was written yet, so it starts again from step 0\n", opt.out);
    }
    files.truncate_metrics(st.step);
  } else {
    nlohmann::json j = args.to_json();
    j["resolved"] = resolved;
    j["attnlab_version"] = "0.1.0";
    j["machine"] = machine_json(args.threads);
    files.write_json("config.json", j);
  }
  auto save_checkpoints = [&](bool best) {
    LoopState now = st;
    now.elapsed = st.elapsed + seconds_since(t0);
    ckpts.save(*model, optim, now, best);
  };

  g_signal = 0;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const bool tty = isatty(fileno(stderr)) && !args.quiet;
  Graph<float> g;
  g.set_detect_anomaly(args.detect_anomaly);
  const data::Chance chance = ds->chance(data::Split::Valid);
  double last_val_acc = NAN, last_grad = 0, last_lr = 0;
  auto rate_t = Clock::now();
  int64_t rate_steps = 0;
  double steps_per_s = 0;
  auto last_draw = Clock::now() - std::chrono::seconds(1);
  model->train();

  while (st.step < args.steps && !st.finished) {
    if (g_signal) {
      save_checkpoints(false);
      if (tty) fmt::print(stderr, "\n");
      fmt::print(stderr, "interrupted at step {}: checkpoint written; continue with: attnlab train --resume {}\n", st.step,
                 opt.out);
      return g_signal == SIGTERM ? 143 : kInterrupted;
    }
    const data::Batch b = ds->train_batch((uint64_t)st.step, args.batch);
    model->zero_grad();
    g.reset();
    double loss_v = NAN, gnorm = NAN;
    std::string anomaly;
    try {
      Tensor<float> loss = cross_entropy(model->forward(g, to_seq_batch(b)), b.tgt_out, data::Vocab::PAD, args.label_smoothing);
      loss_v = loss.item();
      if (std::isfinite(loss_v)) {
        g.backward(loss);
        gnorm = optim.clip_grad_norm(args.clip_norm);
      }
    } catch (const Error& e) {
      if (!args.detect_anomaly) throw;
      anomaly = e.what();
    }
    if (!std::isfinite(loss_v) || !std::isfinite(gnorm)) {
      if (tty) fmt::print(stderr, "\n");
      fmt::print(stderr, "step {}: the {} is not finite ({}); stopping. {}{}\n", st.step + 1,
                 std::isfinite(loss_v) ? "gradient norm" : "loss", std::isfinite(loss_v) ? gnorm : loss_v,
                 anomaly.empty() ? "Rerun with --detect-anomaly to find the op. " : anomaly + ". ",
                 ckpts.written() ? "The last good checkpoint is " + files.path("last.safetensors") + "."
                                 : std::string("No checkpoint was written, so the run folder is removed."));
      return kNonFinite;
    }
    last_lr = scheduled_lr(oc, st.step, args.steps);
    optim.step(last_lr);
    last_grad = gnorm;
    ++st.step;
    st.window_loss += loss_v;
    ++st.window_steps;
    ++rate_steps;
    if (seconds_since(rate_t) > 2.0) {
      steps_per_s = rate_steps / seconds_since(rate_t);
      rate_t = Clock::now();
      rate_steps = 0;
    }
    const bool eval_now = st.step % args.eval_every == 0 || st.step == args.steps;
    if (st.step % args.log_every == 0 || eval_now) {
      nlohmann::json row = {{"step", st.step}, {"loss", st.window_loss / st.window_steps}, {"lr", last_lr},
                            {"grad_norm", last_grad}, {"steps_per_s", steps_per_s},
                            {"elapsed_s", st.elapsed + seconds_since(t0)}};
      st.window_loss = 0;
      st.window_steps = 0;
      bool best = false;
      if (eval_now) {
        const EvalResult r = evaluate(*model, *ds, data::Split::Valid, (size_t)args.eval_examples);
        row.update(r.to_json("val_"));
        last_val_acc = r.sequence_accuracy();
        best = last_val_acc > st.best;
        if (best) {
          st.best = last_val_acc;
          st.best_step = st.step;
        }
        st.finished = st.step == args.steps || (args.target_accuracy > 0 && last_val_acc >= args.target_accuracy);
        if (!tty && !args.quiet)
          fmt::print(stderr, "step {}/{}  val seq acc {:.4f}  token acc {:.4f}  val loss {:.4f}\n", st.step, args.steps,
                     r.sequence_accuracy(), r.token_accuracy(), r.loss);
      }
      // The row goes first: a checkpoint at step N implies every row up to N is on disk.
      files.append_metrics(row);
      if (eval_now) save_checkpoints(best);
      if (!tty && !args.quiet)
        fmt::print(stderr, "step {}/{}  loss {:.4f}  lr {:.2e}  grad {:.3f}  {:.1f} steps/s\n", st.step, args.steps,
                   row["loss"].get<double>(), last_lr, last_grad, steps_per_s);
      if (st.finished && st.step < args.steps) {
        if (tty) fmt::print(stderr, "\n");
        fmt::print(stderr, "validation sequence accuracy {:.4f} reached --target-accuracy {} at step {}\n", last_val_acc,
                   args.target_accuracy, st.step);
      }
    }
    if (tty && (seconds_since(last_draw) > 0.2 || st.step == args.steps)) {
      last_draw = Clock::now();
      const double eta = steps_per_s > 0 ? (args.steps - st.step) / steps_per_s : NAN;
      fmt::print(stderr, "\r\033[Kstep {}/{}  loss {:.4f}  val acc {}  {:.1f} steps/s  ETA {}", st.step, args.steps, loss_v,
                 std::isnan(last_val_acc) ? std::string("-") : fmt::format("{:.3f}", last_val_acc), steps_per_s, fmt_eta(eta));
    }
  }
  if (tty) fmt::print(stderr, "\n");

  // Test with the best checkpoint by validation sequence accuracy.
  load_parameters(load_safetensors(files.path("best.safetensors")), *model, files.path("best.safetensors"));
  const nlohmann::json machine = machine_json(args.threads);
  const EvalResult test = evaluate(*model, *ds, data::Split::Test, (size_t)args.eval_examples);
  const double wall = st.elapsed + seconds_since(t0);
  nlohmann::json summary = test.to_json("test_");
  summary.update({{"steps", st.step}, {"best_step", st.best_step}, {"best_val_sequence_accuracy", st.best},
                  {"wall_seconds", wall}, {"params", model->num_parameters()}, {"model", mc.type},
                  {"task", ds->config().describe()}, {"seed", args.seed}, {"lr", args.lr}, {"threads", args.threads},
                  {"machine", machine}});
  files.write_json("summary.json", summary);
  files.write_plots(chance);
  const Interval sci = test.sequence_interval(), tci = test.token_interval();
  fmt::print("{} on {}: {} steps in {:.1f} s, {} parameters\n", mc.type, ds->config().describe(), st.step, wall,
             model->num_parameters());
  fmt::print("test ({} examples, best checkpoint from step {}):\n", test.examples, st.best_step);
  fmt::print("  sequence accuracy {:.4f}  95% CI [{:.4f}, {:.4f}]   chance {:.4f}\n", test.sequence_accuracy(), sci.lo,
             sci.hi, test.chance.sequence);
  fmt::print("  token accuracy    {:.4f}  95% CI [{:.4f}, {:.4f}]   chance {:.4f}\n", test.token_accuracy(), tci.lo, tci.hi,
             test.chance.token);
  fmt::print("  teacher-forced loss {:.4f}\n", test.loss);
  auto bins = test.distance_bins();
  if (!bins.empty()) {
    fmt::print("  token accuracy by distance:");
    for (auto& [lo, hi, acc, n] : bins) fmt::print("  {}: {:.3f}", lo == hi ? std::to_string(lo) : fmt::format("{}-{}", lo, hi), acc);
    fmt::print("\n");
  }
  fmt::print("files: {}/{{summary.json, metrics.jsonl, metrics.csv, loss.png, accuracy.png, best.safetensors, last.safetensors}}\n",
             opt.out);
  return kOk;
}

}  // namespace attn
