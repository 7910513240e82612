#define BOOST_TEST_MODULE schedules
#include "tests/common.hpp"

// The learning-rate schedules (scheduled_lr, train/optim.hpp) at hand-computed points. With
// lr = 1 and warmup = 4 most values are exact in binary (quarters, halves), and the code reaches
// them by exactly rounded operations on exact operands, so they are compared with ==. The
// cosine values elsewhere go through M_PI (rounded), a division, a product and cos: an error of
// about 3 u in cos (u = 2^-53), so up to 6 u relative where 1 + cos halves the value (lr / 4);
// 2e-15 = 18 u is allowed.
#include <cmath>

#include "train/optim.hpp"

using namespace attn;

namespace {

constexpr double kTol = 2e-15;

OptimConfig schedule(const std::string& name, int64_t warmup, double lr = 1.0) {
  OptimConfig c;
  c.schedule = name;
  c.warmup = warmup;
  c.lr = lr;
  return c;
}

bool close(double got, double want) { return std::fabs(got - want) <= kTol * std::fabs(want); }

}  // namespace

// Linear warmup: step s (0-based) gets lr (s + 1) / warmup, reaching lr at step warmup - 1.
BOOST_AUTO_TEST_CASE(constant_with_warmup) {
  const OptimConfig c = schedule("constant", 4);
  BOOST_TEST(scheduled_lr(c, 0, 16) == 0.25);
  BOOST_TEST(scheduled_lr(c, 1, 16) == 0.5);
  BOOST_TEST(scheduled_lr(c, 2, 16) == 0.75);
  BOOST_TEST(scheduled_lr(c, 3, 16) == 1.0);
  BOOST_TEST(scheduled_lr(c, 4, 16) == 1.0);
  BOOST_TEST(scheduled_lr(c, 15, 16) == 1.0);
  BOOST_TEST(scheduled_lr(c, 1000, 16) == 1.0);  // past the end: still lr
  // lr not a power of two: the literal 0.002, its product by 50 and the division by 100 each
  // round by u/2, and so does the literal 0.001 compared with: within 2 u relative.
  const OptimConfig d = schedule("constant", 100, 0.002);
  BOOST_TEST(std::fabs(scheduled_lr(d, 49, 1000) - 0.001) <= 0.001 * 2 * 0x1p-53);
}

BOOST_AUTO_TEST_CASE(constant_without_warmup_is_lr_at_every_step) {
  const OptimConfig c = schedule("constant", 0, 0.003);
  for (int64_t s : {0, 1, 99, 999}) BOOST_TEST(scheduled_lr(c, s, 1000) == 0.003);
}

// Warmup 4 of 16 steps, then cos over the remaining 12: step s >= 4 gets
// 0.5 (1 + cos(pi (s + 1 - 4) / 12)), which is 0 at the last step (s = 15).
BOOST_AUTO_TEST_CASE(warmup_cosine) {
  const OptimConfig c = schedule("warmup-cosine", 4);
  BOOST_TEST(scheduled_lr(c, 0, 16) == 0.25);
  BOOST_TEST(scheduled_lr(c, 2, 16) == 0.75);
  BOOST_TEST(scheduled_lr(c, 3, 16) == 1.0);  // the peak
  // cos(pi/12) = (sqrt 6 + sqrt 2) / 4, cos(pi/3) = 1/2, cos(pi/2) = 0, cos(2 pi/3) = -1/2.
  BOOST_TEST(close(scheduled_lr(c, 4, 16), 0.5 * (1 + (std::sqrt(6.0) + std::sqrt(2.0)) / 4)));
  BOOST_TEST(close(scheduled_lr(c, 7, 16), 0.75));
  BOOST_TEST(close(scheduled_lr(c, 9, 16), 0.5));  // mid-decay
  BOOST_TEST(close(scheduled_lr(c, 11, 16), 0.25));
  BOOST_TEST(scheduled_lr(c, 15, 16) == 0.0);  // cos(M_PI) rounds to exactly -1
  BOOST_TEST(scheduled_lr(c, 20, 16) == 0.0);  // past the end: stays 0
  // Decreasing after the peak, increasing before it.
  for (int64_t s = 0; s < 15; ++s) BOOST_TEST((s < 3 ? scheduled_lr(c, s + 1, 16) > scheduled_lr(c, s, 16)
                                                     : scheduled_lr(c, s + 1, 16) < scheduled_lr(c, s, 16)),
                                               "step " << s);
}

// With lr_min (nanoGPT's min_lr) the cosine spans [lr_min, lr]: lr_min + (lr - lr_min) 0.5 (1 + cos).
BOOST_AUTO_TEST_CASE(warmup_cosine_to_lr_min) {
  OptimConfig c = schedule("warmup-cosine", 4);
  c.lr_min = 0.25;
  BOOST_TEST(scheduled_lr(c, 0, 16) == 0.25);  // the warmup is unchanged: lr (s + 1) / warmup
  BOOST_TEST(scheduled_lr(c, 3, 16) == 1.0);
  BOOST_TEST(close(scheduled_lr(c, 7, 16), 0.25 + 0.75 * 0.75));
  BOOST_TEST(close(scheduled_lr(c, 9, 16), 0.625));
  BOOST_TEST(scheduled_lr(c, 15, 16) == 0.25);  // 1 + cos(M_PI) is exactly 0
  c.lr_min = 2.0;
  BOOST_CHECK_THROW(c.validate(), std::exception);  // above lr
}

// Without warmup the decay starts at once: step 0 already has 0.5 (1 + cos(pi/8)) of lr over
// 8 steps, with cos(pi/8) = sqrt(2 + sqrt 2) / 2; lr itself is never used.
BOOST_AUTO_TEST_CASE(warmup_cosine_without_warmup) {
  const OptimConfig c = schedule("warmup-cosine", 0, 2.0);
  BOOST_TEST(close(scheduled_lr(c, 0, 8), 1.0 + std::sqrt(2 + std::sqrt(2.0)) / 2));
  BOOST_TEST(close(scheduled_lr(c, 3, 8), 1.0));  // half way: lr / 2
  BOOST_TEST(scheduled_lr(c, 7, 8) == 0.0);
  // total = 1: the one step is the end of the decay.
  BOOST_TEST(scheduled_lr(c, 0, 1) == 0.0);
}

// noam: lr min((s + 1) / warmup, sqrt(warmup / (s + 1))), the schedule of Vaswani et al. with
// their 1-based step number s + 1, scaled so that the peak is lr: the step before `warmup`
// (0-based step warmup - 1, the warmup-th step) is its only maximum.
BOOST_AUTO_TEST_CASE(noam_peaks_at_lr_after_warmup_steps) {
  const OptimConfig c = schedule("noam", 4);
  BOOST_TEST(scheduled_lr(c, 0, 100) == 0.25);
  BOOST_TEST(scheduled_lr(c, 1, 100) == 0.5);
  BOOST_TEST(scheduled_lr(c, 3, 100) == 1.0);  // the peak, exactly lr
  BOOST_TEST(close(scheduled_lr(c, 4, 100), std::sqrt(0.8)));
  BOOST_TEST(scheduled_lr(c, 15, 100) == 0.5);    // sqrt(4 / 16)
  BOOST_TEST(scheduled_lr(c, 63, 100) == 0.25);   // sqrt(4 / 64)
  BOOST_TEST(scheduled_lr(c, 63, 5) == 0.25);     // total does not matter
  const OptimConfig d = schedule("noam", 100, 0.002);
  int64_t argmax = 0;
  for (int64_t s = 1; s < 1000; ++s)
    if (scheduled_lr(d, s, 1000) > scheduled_lr(d, argmax, 1000)) argmax = s;
  BOOST_TEST(argmax == 99);
  BOOST_TEST(scheduled_lr(d, 99, 1000) == 0.002);  // lr * 1.0
  BOOST_TEST(scheduled_lr(d, 98, 1000) < 0.002);
  BOOST_TEST(scheduled_lr(d, 100, 1000) < 0.002);
}

BOOST_AUTO_TEST_CASE(noam_without_warmup_is_refused) {
  OptimConfig c = schedule("noam", 0);
  BOOST_CHECK_THROW(c.validate(), Error);
  c.warmup = 1;  // then the peak is step 0
  BOOST_CHECK_NO_THROW(c.validate());
  BOOST_TEST(scheduled_lr(c, 0, 10) == 1.0);
  BOOST_TEST(scheduled_lr(c, 3, 10) == 0.5);
}
