// Fused layer normalisation over the last axis: y = (x - mean) / sqrt(var + eps) * gamma + beta,
// with the biased variance, as PyTorch's LayerNorm.
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>

#include <cmath>

#include "autograd/gradcheck.hpp"
#include "autograd/ops/reference.hpp"
#include "autograd/ops/registry.hpp"
#include "autograd/ops.hpp"
#include "autograd/ops/kernels.hpp"

namespace attn {
namespace {
const OpDef kLayerNorm("layer_norm");
}

template <class T>
Tensor<T> layer_norm(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, double eps) {
  Graph<T>& g = x.graph();
  g.check(gamma, "layer_norm");
  g.check(beta, "layer_norm");
  const int64_t D = x.ndim() ? x.shape()[x.ndim() - 1] : 0;
  if (x.ndim() < 1 || gamma.shape() != Shape{D} || beta.shape() != Shape{D})
    throw Error(fmt::format("layer_norm: input {} needs gamma and beta of shape [{}], got {} and {}",
                            x.shape().str(), D, gamma.shape().str(), beta.shape().str()));
  Tensor<T> y = g.make(kLayerNorm, x.shape(), {&x, &gamma, &beta});
  const int64_t rows = D ? x.numel() / D : 0;
  T* stats = g.template scratch<T>(2 * rows);  // mean and 1/std of each row
  const T *px = x.data(), *pg = gamma.data(), *pb = beta.data();
  T* py = y.mutable_data();
#pragma omp parallel for if (x.numel() > kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = px + r * D;
    // The row sums run in vector lanes (omp simd): a fixed order for the build, the same for
    // every row and thread count.
    T m = 0, v = 0;
#pragma omp simd reduction(+ : m)
    for (int64_t j = 0; j < D; ++j) m += xr[j];
    m /= T(D);
#pragma omp simd reduction(+ : v)
    for (int64_t j = 0; j < D; ++j) v += (xr[j] - m) * (xr[j] - m);
    const T rstd = T(1) / std::sqrt(v / T(D) + T(eps));
    stats[2 * r] = m;
    stats[2 * r + 1] = rstd;
    for (int64_t j = 0; j < D; ++j) py[r * D + j] = (xr[j] - m) * rstd * pg[j] + pb[j];
  }
  const uint32_t ix = x.index(), ig = gamma.index(), ib = beta.index();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    const T *px = g.node(ix).value, *pg = g.node(ig).value, *go = out.grad;
    T *gx = g.grad_of(ix), *gg = g.grad_of(ig), *gb = g.grad_of(ib);
    const bool parallel = rows * D > kParallelMin;
    const int threads = parallel ? omp_get_max_threads() : 1;
    // dgamma and dbeta: each thread sums its own rows into its partial row, then the partials
    // are added in thread order (the same bits from run to run at a given thread count).
    // Zeroed here, not by each thread: a team smaller than asked for (nested, OMP_DYNAMIC)
    // leaves some partials unwritten.
    T* partial = (gg || gb) ? g.template scratch<T>(2 * D * threads) : nullptr;
    if (partial) std::fill(partial, partial + 2 * D * threads, T(0));
#pragma omp parallel num_threads(threads) if (parallel)
    {
      const auto [r0, r1] = team_block(rows, 1);
      T* pgg = partial ? partial + 2 * D * omp_get_thread_num() : nullptr;
      T* pgb = pgg ? pgg + D : nullptr;
      for (int64_t r = r0; r < r1; ++r) {
        const T m = stats[2 * r], rstd = stats[2 * r + 1];
        const T *xr = px + r * D, *gr = go + r * D;
        if (pgg)
          for (int64_t j = 0; j < D; ++j) {
            pgg[j] += gr[j] * (xr[j] - m) * rstd;
            pgb[j] += gr[j];
          }
        if (!gx) continue;
        T mean_g = 0, mean_gx = 0;  // means of dy*gamma and dy*gamma*xhat
#pragma omp simd reduction(+ : mean_g, mean_gx)
        for (int64_t j = 0; j < D; ++j) {
          const T dg = gr[j] * pg[j];
          mean_g += dg;
          mean_gx += dg * (xr[j] - m) * rstd;
        }
        mean_g /= T(D);
        mean_gx /= T(D);
        for (int64_t j = 0; j < D; ++j)
          gx[r * D + j] += rstd * (gr[j] * pg[j] - mean_g - (xr[j] - m) * rstd * mean_gx);
      }
    }
    for (int t = 0; partial && t < threads; ++t)
      for (int64_t j = 0; j < D; ++j) {
        if (gg) gg[j] += partial[2 * D * t + j];
        if (gb) gb[j] += partial[2 * D * t + D + j];
      }
  });
  return y;
}

template Tensor<float> layer_norm(const Tensor<float>&, const Tensor<float>&, const Tensor<float>&, double);
template Tensor<double> layer_norm(const Tensor<double>&, const Tensor<double>&, const Tensor<double>&, double);

// ---------------------------------------------------------------- gradcheck cases
namespace {

std::vector<double> ref_ln(const std::vector<std::vector<double>>& v, int64_t D, double eps) {
  return ref::layer_norm(v[0], v[1], v[2], D, eps);
}

InputSpec in(Shape s, double lo = -1, double hi = 1) {
  InputSpec i;
  i.shape = s;
  i.lo = lo;
  i.hi = hi;
  return i;
}

void cases(std::vector<GradCase>& out) {
  out.push_back(make_case("layer_norm", "3d", {in({2, 3, 5}), in({5}, 0.5, 1.5), in({5})},
                          [](auto& x) { return layer_norm(x[0], x[1], x[2]); },
                          [](const std::vector<std::vector<double>>& v) { return ref_ln(v, 5, 1e-5); }));
  out.push_back(make_case("layer_norm", "batch1_wide_eps", {in({1, 8}), in({8}, 0.5, 1.5), in({8})},
                          [](auto& x) { return layer_norm(x[0], x[1], x[2], 0.1); },
                          [](const std::vector<std::vector<double>>& v) { return ref_ln(v, 8, 0.1); }));
  out.push_back(make_case("layer_norm", "reused_input", {in({3, 4}), in({4}, 0.5, 1.5), in({4})},
                          [](auto& x) { return layer_norm(x[0], x[1], x[2]) * x[0]; },
                          [](const std::vector<std::vector<double>>& v) {
                            return ref::mul(ref_ln(v, 4, 1e-5), v[0]);
                          }));
}

}  // namespace

void add_layer_norm_ops(std::vector<const OpDef*>& ops) { ops.insert(ops.end(), {&kLayerNorm}); }
void add_layer_norm_cases(std::vector<GradCase>& out) { cases(out); }

}  // namespace attn
