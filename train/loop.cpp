#include "train/loop.hpp"

#include <fmt/format.h>

#include <cmath>

#include "train/errors.hpp"

namespace attn {

using Clock = std::chrono::steady_clock;

double LoopContext::elapsed() const {
  return state.elapsed + std::chrono::duration<double>(Clock::now() - started).count();
}

namespace {

// Steps per second over windows of about two seconds.
struct RateMeter {
  Clock::time_point since = Clock::now();
  int64_t steps = 0;
  double rate = 0;
  void tick() {
    ++steps;
    const double s = std::chrono::duration<double>(Clock::now() - since).count();
    if (s > 2.0) {
      rate = steps / s;
      since = Clock::now();
      steps = 0;
    }
  }
};

std::string non_finite_message(const LoopContext& c) {
  const bool loss_ok = std::isfinite(c.result.loss);
  return fmt::format("step {}: the {} is not finite ({}); stopping. {}", c.state.step + 1,
                     loss_ok ? "gradient norm" : "loss", loss_ok ? c.result.grad_norm : c.result.loss,
                     c.result.anomaly.empty() ? "Rerun with --detect-anomaly to find the op." : c.result.anomaly + ".");
}

}  // namespace

LoopEnd run_loop(const StepFn& step, LoopState& st, const LoopSchedule& sched, const std::vector<LoopHook*>& hooks,
                 Clock::time_point started) {
  LoopContext ctx(st, sched, started);
  RateMeter rate;
  while (st.step < sched.steps && !st.finished) {
    for (LoopHook* h : hooks)
      if (h->before_step(ctx)) return LoopEnd::Interrupted;
    ctx.result = step(st.step, ctx.lr);
    if (!ctx.result.finite()) throw NonFiniteError(non_finite_message(ctx));
    ++st.step;
    rate.tick();
    ctx.steps_per_s = rate.rate;
    ctx.eval_now = st.step % sched.eval_every == 0 || st.step == sched.steps;
    ctx.log_now = st.step % sched.log_every == 0 || ctx.eval_now;
    ctx.eval.reset();
    ctx.best = false;
    ctx.row = nullptr;
    if (ctx.eval_now && st.step == sched.steps) st.finished = true;
    for (LoopHook* h : hooks) h->after_step(ctx);
  }
  return LoopEnd::Finished;
}

}  // namespace attn
