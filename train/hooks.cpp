#include "train/hooks.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace attn {

using Clock = std::chrono::steady_clock;

void Evaluation::after_step(LoopContext& c) {
  if (!c.eval_now) return;
  c.eval = evaluate(model_, ds_, data::Split::Valid, examples_, 100, ranks_);
  const double acc = c.eval->sequence_accuracy(), loss = c.eval->loss;
  LoopState& st = c.state;
  c.best = acc > st.best || (acc == st.best && loss < st.best_loss);
  if (c.best) {
    st.best = acc;
    st.best_loss = loss;
    st.best_step = st.step;
  }
}

void EarlyStopping::after_step(LoopContext& c) {
  if (!c.eval || target_ <= 0 || c.eval->sequence_accuracy() < target_) return;
  reached_ = c.state.step < c.schedule.steps;
  c.state.finished = true;
}

void MetricsRows::after_step(LoopContext& c) {
  LoopState& st = c.state;
  st.window_loss += c.result.loss;
  ++st.window_steps;
  if (!c.log_now) return;
  c.row = {{"step", st.step}, {"loss", st.window_loss / st.window_steps}, {"lr", c.lr},
           {"grad_norm", c.result.grad_norm}, {"steps_per_s", c.steps_per_s}, {"elapsed_s", c.elapsed()}};
  st.window_loss = 0;
  st.window_steps = 0;
  if (c.eval) c.row.update(c.eval->to_json("val_"));
  files_.append_metrics(c.row);
}

void Checkpointing::after_step(LoopContext& c) {
  if (c.eval_now) save(c, c.best);
}

void Checkpointing::save(const LoopContext& c, bool best) {
  LoopState now = c.state;
  now.elapsed = c.elapsed();
  set_.save(model_, optim_, now, best);
}

Progress::Progress(bool quiet)
    : quiet_(quiet), tty_(isatty(fileno(stderr)) && !quiet), last_val_acc_(NAN), last_draw_(Clock::now() - std::chrono::seconds(1)) {}

namespace {
std::string fmt_eta(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  return s >= 3600 ? fmt::format("{}h{:02}m", int(s / 3600), int(s / 60) % 60) : fmt::format("{}m{:02}s", int(s / 60), int(s) % 60);
}
}  // namespace

void Progress::after_step(LoopContext& c) {
  if (quiet_) return;
  const LoopState& st = c.state;
  const int64_t total = c.schedule.steps;
  if (c.eval) last_val_acc_ = c.eval->sequence_accuracy();
  if (!tty_ && c.eval)
    fmt::print(stderr, "step {}/{}  val seq acc {:.4f}  token acc {:.4f}  val loss {:.4f}\n", st.step, total,
               c.eval->sequence_accuracy(), c.eval->token_accuracy(), c.eval->loss);
  if (!tty_ && c.log_now)
    fmt::print(stderr, "step {}/{}  loss {:.4f}  lr {:.2e}  grad {:.3f}  {:.1f} steps/s\n", st.step, total,
               c.row["loss"].get<double>(), c.lr, c.result.grad_norm, c.steps_per_s);
  if (st.finished && st.step < total) {
    end_line();
    fmt::print(stderr, "validation sequence accuracy {:.4f} reached --target-accuracy at step {}\n", last_val_acc_, st.step);
  }
  if (tty_ && (std::chrono::duration<double>(Clock::now() - last_draw_).count() > 0.2 || st.step == total)) {
    last_draw_ = Clock::now();
    const double eta = c.steps_per_s > 0 ? (total - st.step) / c.steps_per_s : NAN;
    fmt::print(stderr, "\r\033[Kstep {}/{}  loss {:.4f}  val acc {}  {:.1f} steps/s  ETA {}", st.step, total,
               c.result.loss, std::isnan(last_val_acc_) ? std::string("-") : fmt::format("{:.3f}", last_val_acc_),
               c.steps_per_s, fmt_eta(eta));
  }
}

void Progress::end_line() {
  if (tty_) fmt::print(stderr, "\n");
}

namespace {
volatile std::sig_atomic_t g_signal = 0;
void on_signal(int sig) { g_signal = sig; }
}  // namespace

SignalGuard::SignalGuard(const Ranks* ranks) : ranks_(ranks) {
  g_signal = 0;
  old_int_ = std::signal(SIGINT, on_signal);
  old_term_ = std::signal(SIGTERM, on_signal);
}

SignalGuard::~SignalGuard() {
  std::signal(SIGINT, old_int_);
  std::signal(SIGTERM, old_term_);
}

bool SignalGuard::before_step(LoopContext&) {
  if (!ranks_ || !ranks_->many()) return g_signal != 0;
  double signalled = g_signal != 0;
  ranks_->sum(&signalled, 1);
  return signalled > 0;
}

// A rank stopped by another's signal reports SIGTERM, what mpirun passes on.
int SignalGuard::signal() const { return g_signal ? (int)g_signal : SIGTERM; }

}  // namespace attn
