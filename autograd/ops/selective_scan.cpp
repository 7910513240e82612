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

// One channel's states at one step of the reverse scan. On entry gh holds dL/dh_t from the later
// steps; adds this step's terms to dC_t (gC), dB_t (gB), dA (gA) and returns the sums over n of
// dx_t's and ddelta_t's; leaves dL/dh_{t-1} in gh. h, hp (h_{t-1}, null at t = 0), da
// (exp(delta_t A)), Ac, gh and gA are the channel's N entries; B, C, gB and gC the step's.
template <class T>
void reverse_states(int64_t N, T gy, T dv, T xv, const T* Ac, const T* B, const T* C, const T* h, const T* hp,
                    const T* da, T* gh, T* gA, T* gB, T* gC, T& gx, T& gd) {
  using VecT = Vec<T>;
  constexpr int64_t kW = (int64_t)VecT::size;
  const int64_t Nv = N - N % kW;
  const VecT gyv(gy), dvv(dv), xvv(xv), dxv(dv * xv);
  VecT gxv(T(0)), gdv(T(0));
  for (int64_t n = 0; n < Nv; n += kW) {
    const VecT Bn = VecT::load_unaligned(B + n), dan = VecT::load_unaligned(da + n);
    const VecT prev = hp ? VecT::load_unaligned(hp + n) : VecT(T(0));
    const VecT gt = xsimd::fma(gyv, VecT::load_unaligned(C + n), VecT::load_unaligned(gh + n));  // dL/dh_t in full
    if (gC) xsimd::fma(gyv, VecT::load_unaligned(h + n), VecT::load_unaligned(gC + n)).store_unaligned(gC + n);
    gxv = xsimd::fma(gt, Bn, gxv);
    gdv = xsimd::fma(gt, VecT::load_unaligned(Ac + n) * dan * prev + Bn * xvv, gdv);
    xsimd::fma(gt * dvv, dan * prev, VecT::load_unaligned(gA + n)).store_unaligned(gA + n);
    if (gB) xsimd::fma(gt, dxv, VecT::load_unaligned(gB + n)).store_unaligned(gB + n);
    (gt * dan).store_unaligned(gh + n);
  }
  if (Nv) gx += dv * xsimd::hadd(gxv), gd += xsimd::hadd(gdv);
  for (int64_t n = Nv; n < N; ++n) {
    const T gt = gh[n] + gy * C[n], prev = hp ? hp[n] : T(0);
    if (gC) gC[n] += gy * h[n];
    gx += gt * dv * B[n];
    gd += gt * (Ac[n] * da[n] * prev + B[n] * xv);
    gA[n] += gt * dv * da[n] * prev;
    if (gB) gB[n] += gt * dv * xv;
    gh[n] = gt * da[n];
  }
}

// The inputs of the op, and the gradients backward writes row by row (any may be null).
template <class T>
struct ScanIn {
  const T *x, *dl, *A, *B, *C, *D;
};
template <class T>
struct ScanRowGrads {
  T *x, *dl, *B, *C;
};

// Backward for batch row b: recomputes its states into hs and das (L * Ch * N each), then runs
// the reverse scan, adding into the row's gradients and the thread's own gA [Ch, N], gD [Ch].
template <class T>
void reverse_row(const Dims& d, int64_t b, const ScanIn<T>& in, const T* go, const ScanRowGrads<T>& gr, T* hs,
                 T* das, T* gh, T* gA, T* gD) {
  const int64_t Ch = d.Ch, N = d.N, CN = Ch * N;
  scan_row(d, b, in.x, in.dl, in.A, in.B, in.C, in.D, (T*)nullptr, hs, CN, das);
  std::fill(gh, gh + CN, T(0));
  for (int64_t t = d.L - 1; t >= 0; --t) {
    const int64_t r = b * d.L + t;
    const T *h = hs + t * CN, *hp = t ? h - CN : nullptr, *da = das + t * CN;
    for (int64_t c = 0; c < Ch; ++c) {
      const T gy = go[r * Ch + c], xv = in.x[r * Ch + c];
      T gx = gy * in.D[c], gd = 0;
      gD[c] += gy * xv;
      reverse_states(N, gy, in.dl[r * Ch + c], xv, in.A + c * N, in.B + r * N, in.C + r * N, h + c * N,
                     hp ? hp + c * N : nullptr, da + c * N, gh + c * N, gA + c * N, gr.B ? gr.B + r * N : nullptr,
                     gr.C ? gr.C + r * N : nullptr, gx, gd);
      if (gr.x) gr.x[r * Ch + c] += gx;
      if (gr.dl) gr.dl[r * Ch + c] += gd;
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
    T *gA = g.grad_of(iA), *gD = g.grad_of(iD);
    const ScanRowGrads<T> gr{g.grad_of(ix), g.grad_of(idl), g.grad_of(iB), g.grad_of(iC)};
    const ScanIn<T> in{g.node(ix).value, g.node(idl).value, g.node(iA).value,
                       g.node(iB).value, g.node(iC).value, g.node(iD).value};
    const int64_t per = 2 * d.L * CN + 2 * CN + d.Ch;  // per thread: states, exps, dh, dA, dD
    T* work = g.workspace(threads * per);
    // States and exps are overwritten by each row's scan and dh is cleared per row; only the
    // per-thread dA and dD sums start at zero.
    for (int th = 0; th < threads; ++th) std::fill(work + th * per + 2 * d.L * CN + CN, work + (th + 1) * per, T(0));
#pragma omp parallel for num_threads(threads) if (d.Bt > 1 && d.Bt * d.L * CN > kParallelMin)
    for (int64_t b = 0; b < d.Bt; ++b) {
      T* hs = work + omp_get_thread_num() * per;
      reverse_row(d, b, in, out.grad, gr, hs, hs + d.L * CN, hs + 2 * d.L * CN, hs + 2 * d.L * CN + CN,
                  hs + 2 * d.L * CN + 2 * CN);
    }
    for (int th = 0; th < threads; ++th) {  // the threads' dA and dD, in a fixed order
      const T* own = work + th * per + 2 * d.L * CN + CN;
      if (gA)
        for (int64_t i = 0; i < CN; ++i) gA[i] += own[i];
      if (gD)
        for (int64_t c = 0; c < d.Ch; ++c) gD[c] += own[CN + c];
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
