// The attention op alone, forward and backward, at the shapes of bench/compare's rows: whole
// rows against the tiled kernel, alternating, and the per-head QK^T gemm alone (what the whole
// kernel is built from). GFLOP/s counts the useful products only: 14 * Dh flops per visible
// (query, key) pair (QK^T and PV forward; the recomputed QK^T, dV, dP, dQ and dK backward).
//   attnlab_attention_bench [seconds_per_measurement=0.5] [threads=2]
#include <fmt/core.h>
#include <omp.h>

#include <chrono>
#include <cstdlib>
#include <vector>

#include "autograd/blas.hpp"
#include "autograd/ops.hpp"

namespace {

using namespace attn;
using Clock = std::chrono::steady_clock;

struct Row {
  const char* name;
  int64_t B, T, D, H;
  bool causal;
};

// Seconds per call of f, over at least `budget` seconds after one warm-up call.
template <class F>
double per_call(F&& f, double budget) {
  f();
  int n = 0;
  const auto t0 = Clock::now();
  double s = 0;
  while (s < budget) {
    f();
    ++n;
    s = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  return s / n;
}

double attention_step(const Row& r, AttentionKernel::Kind kind, const std::vector<float>& x, double budget) {
  AttentionKernel k = attention_kernel();
  k.kind = kind;
  set_attention_kernel(k);
  Graph<float> g;
  return per_call(
      [&] {
        g.reset();
        const Shape s{r.B, r.T, r.D};
        auto q = g.tensor(s, x, true), kk = g.tensor(s, x, true), v = g.tensor(s, x, true);
        auto out = attention(q, kk, v, (int)r.H, AttentionMask{r.causal, {}}).out;
        g.backward(out, x.data());
      },
      budget);
}

// The whole kernel's building block: B*H per-head products Tq x Tk x Dh, one thread each.
double per_head_gemm(const Row& r, const std::vector<float>& x, double budget) {
  const int64_t Dh = r.D / r.H;
  std::vector<float> S((size_t)omp_get_max_threads() * r.T * r.T);
  return per_call(
      [&] {
#pragma omp parallel for
        for (int64_t bh = 0; bh < r.B * r.H; ++bh) {
          const int64_t b = bh / r.H, h = bh % r.H;
          const float* p = x.data() + b * r.T * r.D + h * Dh;
          gemm<float>(false, true, r.T, r.T, Dh, 1.0f, p, r.D, p, r.D, 0.0f,
                      S.data() + (size_t)omp_get_thread_num() * r.T * r.T, r.T);
        }
      },
      budget);
}

}  // namespace

int main(int argc, char** argv) {
  ensure_fast_blas();
  const double budget = argc > 1 ? std::atof(argv[1]) : 0.5;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  if (budget <= 0 || threads < 1) {
    fmt::print(stderr, "usage: attnlab_attention_bench [seconds_per_measurement>0] [threads>=1]\n");
    return 2;
  }
  set_num_threads(threads);
  const Row rows[] = {{"S enc", 32, 64, 64, 4, false},  {"S dec", 32, 64, 64, 4, true},
                      {"M enc", 32, 128, 128, 8, false}, {"M dec", 32, 128, 128, 8, true},
                      {"L enc", 16, 256, 256, 8, false}, {"L dec", 16, 256, 256, 8, true},
                      {"G", 12, 64, 128, 4, true},       {"long", 2, 1024, 128, 4, true},
                      {"long4k", 1, 4096, 128, 4, true}};
  fmt::print("{:<8} {:>4} {:>5} {:>4} {:>3} {:>6} | {:>9} {:>9} {:>7} | {:>8} {:>8} {:>14}\n", "row", "B", "T", "Dh", "H",
             "causal", "whole ms", "tiled ms", "ratio", "whole GF", "tiled GF", "QK^T gemm GF");
  for (const Row& r : rows) {
    const int64_t Dh = r.D / r.H;
    std::vector<float> x((size_t)(r.B * r.T * r.D));
    for (size_t i = 0; i < x.size(); ++i) x[i] = float((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    const double pairs = r.causal ? r.T * (r.T + 1) / 2.0 : double(r.T) * r.T;
    const double flop = 14.0 * Dh * pairs * r.B * r.H;
    double whole = 0, tiled = 0;
    for (int rep = 0; rep < 2; ++rep) {  // alternating; the faster of two each
      const double w = attention_step(r, AttentionKernel::whole, x, budget);
      const double t = attention_step(r, AttentionKernel::tiled, x, budget);
      whole = rep ? std::min(whole, w) : w;
      tiled = rep ? std::min(tiled, t) : t;
    }
    const double gemm_s = per_head_gemm(r, x, budget);
    fmt::print("{:<8} {:>4} {:>5} {:>4} {:>3} {:>6} | {:>9.2f} {:>9.2f} {:>7.2f} | {:>8.1f} {:>8.1f} {:>14.1f}\n", r.name, r.B,
               r.T, Dh, r.H, r.causal ? "yes" : "no", 1e3 * whole, 1e3 * tiled, whole / tiled, flop / whole / 1e9,
               flop / tiled / 1e9, 2.0 * Dh * r.T * r.T * r.B * r.H / gemm_s / 1e9);
  }
  return 0;
}
