// Mamba's selective scan (Gu & Dao 2023, S6), sequential form, as one fused op. Per batch row b,
// channel c and state n, with h_{-1} = 0:
//   h_t[c, n] = exp(delta_t[c] A[c, n]) h_{t-1}[c, n] + delta_t[c] B_t[n] x_t[c]
//   y_t[c]    = sum_n C_t[n] h_t[c, n] + D[c] x_t[c]
// x, delta [Bt, L, Ch]; A [Ch, N]; B, C [Bt, L, N]; D [Ch] -> y [Bt, L, Ch]. (No softplus, no
// gate: the caller applies them, as mamba_ssm's selective_scan_ref does inside.)
//
// Memory: forward keeps nothing but its inputs. Backward is a reverse scan that needs every h_t
// and exp(delta_t A); storing them for the whole batch would cost Bt*L*Ch*N values per layer
// (33 MB in float32 at batch 32, L 64, Ch 256, N 16), so backward recomputes them one batch row
// at a time into a per-thread workspace of 2*L*Ch*N values (one forward scan's extra work).
// Parallel over batch rows (OpenMP): each thread owns its rows of dx, ddelta, dB and dC, and
// sums dA and dD privately before one serial reduction. No allocation in the loops.
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <xsimd/xsimd.hpp>

#include "autograd/gradcheck.hpp"
#include "autograd/ops/kernels.hpp"
#include "autograd/ops/reference.hpp"
#include "autograd/ops/registry.hpp"
#include "autograd/ops.hpp"

namespace attn {
namespace {

const OpDef kSelectiveScan("selective_scan");

struct Dims {
  int64_t Bt, L, Ch, N;
};

// The state loops run over n in xsimd vectors of the build's ISA (AVX2 in the default x86-64-v3
// build), with xsimd's exp; a remainder of N below the width runs scalar with std::exp. Most of a
// step's time is here (perf: about two thirds at bench's G shape when scalar).
template <class T>
using Vec = xsimd::batch<T>;

// The recurrence over batch row b. The state after step t goes to hs + t * hstride (hstride 0:
// one rolling state), exp(delta_t A) to das + t * Ch * N when das is given, y_t to y when given.
template <class T>
void scan_row(const Dims& d, int64_t b, const T* x, const T* dl, const T* A, const T* Bm, const T* Cm, const T* D,
              T* y, T* hs, int64_t hstride, T* das) {
  using VecT = Vec<T>;
  constexpr int64_t kW = (int64_t)VecT::size;
  const int64_t Ch = d.Ch, N = d.N;
  for (int64_t t = 0; t < d.L; ++t) {
    const int64_t r = b * d.L + t;
    const T *xr = x + r * Ch, *dr = dl + r * Ch, *Br = Bm + r * N, *Cr = Cm + r * N;
    T* h = hs + t * hstride;
    const T* hp = t ? hs + (t - 1) * hstride : nullptr;
    T* da = das ? das + t * Ch * N : nullptr;
    for (int64_t c = 0; c < Ch; ++c) {
      const T dv = dr[c], dx = dv * xr[c];
      const T* Ac = A + c * N;
      const VecT dvv(dv), dxv(dx);
      VecT accv(T(0));
      const int64_t Nv = N - N % kW;
      for (int64_t n = 0; n < Nv; n += kW) {  // the states in vectors of kW, exp included
        const VecT a = xsimd::exp(dvv * VecT::load_unaligned(Ac + n));
        VecT hn = dxv * VecT::load_unaligned(Br + n);
        if (hp) hn = xsimd::fma(a, VecT::load_unaligned(hp + c * N + n), hn);
        hn.store_unaligned(h + c * N + n);
        accv = xsimd::fma(VecT::load_unaligned(Cr + n), hn, accv);
        if (da) a.store_unaligned(da + c * N + n);
      }
      T acc = Nv ? xsimd::hadd(accv) : T(0);
      for (int64_t n = Nv; n < N; ++n) {
        const T a = std::exp(dv * Ac[n]);
        const T hn = (hp ? a * hp[c * N + n] : T(0)) + dx * Br[n];
        h[c * N + n] = hn;
        acc += Cr[n] * hn;
        if (da) da[c * N + n] = a;
      }
      if (y) y[r * Ch + c] = acc + D[c] * xr[c];
    }
  }
}

template <class T>
Dims check_shapes(const Tensor<T>& x, const Tensor<T>& delta, const Tensor<T>& A, const Tensor<T>& B,
                  const Tensor<T>& C, const Tensor<T>& D) {
  Graph<T>& g = x.graph();
  for (const Tensor<T>* t : {&delta, &A, &B, &C, &D}) g.check(*t, "selective_scan");
  const Shape s = x.shape();
  const int64_t N = A.ndim() == 2 ? A.shape()[1] : 0;
  const bool ok = s.ndim() == 3 && delta.shape() == s && N > 0 && A.shape() == Shape{s[2], N} &&
                  B.shape() == Shape{s[0], s[1], N} && C.shape() == B.shape() && D.shape() == Shape{s[2]};
  if (!ok)
    throw Error(fmt::format("selective_scan: x {}, delta {}, A {}, B {}, C {}, D {}: want x and delta [Bt, L, Ch], "
                            "A [Ch, N], B and C [Bt, L, N], D [Ch]",
                            s.str(), delta.shape().str(), A.shape().str(), B.shape().str(), C.shape().str(),
                            D.shape().str()));
  return {s[0], s[1], s[2], N};
}

}  // namespace

template <class T>
Tensor<T> selective_scan(const Tensor<T>& x, const Tensor<T>& delta, const Tensor<T>& A, const Tensor<T>& B,
                         const Tensor<T>& C, const Tensor<T>& D) {
  const Dims d = check_shapes(x, delta, A, B, C, D);
  Graph<T>& g = x.graph();
  Tensor<T> y = g.make(kSelectiveScan, x.shape(), {&x, &delta, &A, &B, &C, &D});
  const int threads = (int)std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), d.Bt));
  const int64_t CN = d.Ch * d.N;
  T* state = g.workspace(threads * CN);
  const T *px = x.data(), *pd = delta.data(), *pA = A.data(), *pB = B.data(), *pC = C.data(), *pD = D.data();
  T* py = y.mutable_data();
#pragma omp parallel for num_threads(threads) if (d.Bt > 1 && d.Bt * d.L * CN > kParallelMin)
  for (int64_t b = 0; b < d.Bt; ++b)
    scan_row(d, b, px, pd, pA, pB, pC, pD, py, state + omp_get_thread_num() * CN, int64_t(0), (T*)nullptr);
  const uint32_t ix = x.index(), idl = delta.index(), iA = A.index(), iB = B.index(), iC = C.index(), iD = D.index();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    T *gx = g.grad_of(ix), *gdl = g.grad_of(idl), *gA = g.grad_of(iA), *gB = g.grad_of(iB), *gC = g.grad_of(iC),
      *gD = g.grad_of(iD);
    const T *vx = g.node(ix).value, *vd = g.node(idl).value, *vA = g.node(iA).value, *vB = g.node(iB).value,
            *vC = g.node(iC).value, *vD = g.node(iD).value, *go = out.grad;
    using VecT = Vec<T>;
    constexpr int64_t kW = (int64_t)VecT::size;
    const int64_t Ch = d.Ch, N = d.N, per = 2 * d.L * CN + 2 * CN + Ch;  // states, exps, dh, dA, dD
    T* work = g.workspace(threads * per);
    std::fill(work, work + threads * per, T(0));
#pragma omp parallel for num_threads(threads) if (d.Bt > 1 && d.Bt * d.L * CN > kParallelMin)
    for (int64_t b = 0; b < d.Bt; ++b) {
      T* hs = work + omp_get_thread_num() * per;
      T *das = hs + d.L * CN, *gh = das + d.L * CN, *gAl = gh + CN, *gDl = gAl + CN;
      scan_row(d, b, vx, vd, vA, vB, vC, vD, (T*)nullptr, hs, CN, das);
      std::fill(gh, gh + CN, T(0));
      for (int64_t t = d.L - 1; t >= 0; --t) {  // gh holds dL/dh_t from later steps
        const int64_t r = b * d.L + t;
        const T *xr = vx + r * Ch, *dr = vd + r * Ch, *Br = vB + r * N, *Cr = vC + r * N;
        const T *h = hs + t * CN, *hp = t ? h - CN : nullptr, *da = das + t * CN;
        for (int64_t c = 0; c < Ch; ++c) {
          const T gy = go[r * Ch + c], xv = xr[c], dv = dr[c];
          const T* Ac = vA + c * N;
          T gxa = gy * vD[c], gda = 0;
          gDl[c] += gy * xv;
          const int64_t Nv = N - N % kW;
          const VecT gyv(gy), dvv(dv), xvv(xv), dxv(dv * xv);
          VecT gxv(T(0)), gdv(T(0));
          for (int64_t n = 0; n < Nv; n += kW) {
            const int64_t i = c * N + n;
            const VecT Bn = VecT::load_unaligned(Br + n), dan = VecT::load_unaligned(da + i);
            const VecT prev = hp ? VecT::load_unaligned(hp + i) : VecT(T(0));
            const VecT gt = xsimd::fma(gyv, VecT::load_unaligned(Cr + n), VecT::load_unaligned(gh + i));
            if (gC) xsimd::fma(gyv, VecT::load_unaligned(h + i), VecT::load_unaligned(gC + r * N + n)).store_unaligned(gC + r * N + n);
            gxv = xsimd::fma(gt, Bn, gxv);
            gdv = xsimd::fma(gt, VecT::load_unaligned(Ac + n) * dan * prev + Bn * xvv, gdv);
            xsimd::fma(gt * dvv, dan * prev, VecT::load_unaligned(gAl + i)).store_unaligned(gAl + i);
            if (gB) xsimd::fma(gt, dxv, VecT::load_unaligned(gB + r * N + n)).store_unaligned(gB + r * N + n);
            (gt * dan).store_unaligned(gh + i);
          }
          if (Nv) gxa += dv * xsimd::hadd(gxv), gda += xsimd::hadd(gdv);
          for (int64_t n = Nv; n < N; ++n) {
            const int64_t i = c * N + n;
            const T gt = gh[i] + gy * Cr[n], prev = hp ? hp[i] : T(0);  // dL/dh_t in full
            if (gC) gC[r * N + n] += gy * h[i];
            gxa += gt * dv * Br[n];
            gda += gt * (Ac[n] * da[i] * prev + Br[n] * xv);
            gAl[i] += gt * dv * da[i] * prev;
            if (gB) gB[r * N + n] += gt * dv * xv;
            gh[i] = gt * da[i];
          }
          if (gx) gx[r * Ch + c] += gxa;
          if (gdl) gdl[r * Ch + c] += gda;
        }
      }
    }
    for (int th = 0; th < threads; ++th) {
      const T* gAl = work + th * per + 2 * d.L * CN + CN;
      if (gA)
        for (int64_t i = 0; i < CN; ++i) gA[i] += gAl[i];
      if (gD)
        for (int64_t c = 0; c < Ch; ++c) gD[c] += gAl[CN + c];
    }
  });
  return y;
}

template Tensor<float> selective_scan(const Tensor<float>&, const Tensor<float>&, const Tensor<float>&,
                                      const Tensor<float>&, const Tensor<float>&, const Tensor<float>&);
template Tensor<double> selective_scan(const Tensor<double>&, const Tensor<double>&, const Tensor<double>&,
                                       const Tensor<double>&, const Tensor<double>&, const Tensor<double>&);

// ---------------------------------------------------------------- gradcheck cases
namespace {

using Vals = std::vector<std::vector<double>>;

InputSpec in(Shape s, double lo = -1, double hi = 1) {
  InputSpec i;
  i.shape = s;
  i.lo = lo;
  i.hi = hi;
  return i;
}

// delta > 0 and A < 0 as in Mamba (softplus, -exp): a decaying state. A wide delta range makes
// some steps forget almost everything and others almost nothing.
void add(std::vector<GradCase>& out, const char* name, int64_t Bt, int64_t L, int64_t Ch, int64_t N,
         double delta_hi = 1.5) {
  out.push_back(make_case(
      "selective_scan", name,
      {in({Bt, L, Ch}), in({Bt, L, Ch}, 0.05, delta_hi), in({Ch, N}, -2, -0.2), in({Bt, L, N}), in({Bt, L, N}),
       in({Ch})},
      [](auto& v) { return selective_scan(v[0], v[1], v[2], v[3], v[4], v[5]); },
      [=](const Vals& v) { return ref::selective_scan(v[0], v[1], v[2], v[3], v[4], v[5], Bt, L, Ch, N); }));
}

void cases(std::vector<GradCase>& out) {
  add(out, "batch2", 2, 5, 3, 4);
  add(out, "batch1_one_step", 1, 1, 2, 3);
  add(out, "one_state_long", 2, 9, 2, 1, 0.3);  // slow decay: gradients reach back 9 steps
  add(out, "one_channel_batch3", 3, 4, 1, 2);
  add(out, "wide_state", 2, 4, 2, 9);  // vectors of 8 floats or 4 doubles, then a scalar remainder
  // x drives both the scan and the skip term, and is used again after it: gradients accumulate.
  out.push_back(make_case(
      "selective_scan", "reused_input",
      {in({2, 3, 2}), in({2, 3, 2}, 0.05, 1.5), in({2, 2}, -2, -0.2), in({2, 3, 2}), in({1})},
      [](auto& v) { return selective_scan(v[0], v[1], v[2], v[3], v[3], v[4] + v[0].graph().zeros({2})) * v[0]; },
      [](const Vals& v) {
        const std::vector<double> D = {v[4][0], v[4][0]};
        return ref::mul(ref::selective_scan(v[0], v[1], v[2], v[3], v[3], D, 2, 3, 2, 2), v[0]);
      }));
}

}  // namespace

void add_selective_scan_ops(std::vector<const OpDef*>& ops) { ops.insert(ops.end(), {&kSelectiveScan}); }
void add_selective_scan_cases(std::vector<GradCase>& out) { cases(out); }

}  // namespace attn
