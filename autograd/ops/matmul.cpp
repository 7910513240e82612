// matmul and linear: every product goes to BLAS gemm. Gradients accumulate with beta = 1, or,
// where linear writes an input's gradient first, overwrite it with beta = 0.
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "autograd/blas.hpp"
#include "autograd/gradcheck.hpp"
#include "autograd/ops/registry.hpp"
#include "autograd/ops.hpp"
#include "autograd/ops/kernels.hpp"
#include "autograd/ops/gelu_rows.hpp"
#include "autograd/ops/reference.hpp"

namespace attn {
namespace {
const OpDef kMatmul("matmul"), kLinear("linear"), kLinearRelu("linear_relu"), kLinearGelu("linear_gelu"),
    kLinearAdd("linear_add");
enum class Epilogue { none, relu, gelu };
}

template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
  Graph<T>& g = a.graph();
  g.check(b, "matmul");
  const Shape sa = a.shape(), sb = b.shape();
  if (sa.ndim() < 2 || sb.ndim() < 2 || sa[sa.ndim() - 1] != sb[sb.ndim() - 2])
    throw Error(fmt::format("matmul: shapes {} and {} do not multiply ([..., M, K] @ [..., K, N])",
                            sa.str(), sb.str()));
  const int64_t M = sa[sa.ndim() - 2], K = sa[sa.ndim() - 1], N = sb[sb.ndim() - 1];
  Shape ba, bb;
  for (int i = 0; i < sa.ndim() - 2; ++i) ba.push_back(sa[i]);
  for (int i = 0; i < sb.ndim() - 2; ++i) bb.push_back(sb[i]);
  const Shape batch = broadcast_shapes(ba, bb, "matmul");
  Shape so = batch;
  so.push_back(M);
  so.push_back(N);
  Tensor<T> y = g.make(kMatmul, so, {&a, &b});
  const int64_t nb = batch.numel();
  const T *pa = a.data(), *pb = b.data();
  T* py = y.mutable_data();
  const uint32_t ia = a.index(), ib = b.index();

  if (bb.ndim() == 0 || bb.numel() == 1) {
    // b is one matrix: fold a's batch into its rows, one gemm.
    const int64_t rows = ba.numel() * M;
    if (ba.numel() != nb) throw Error("matmul: internal broadcast error");
    gemm<T>(false, false, rows, N, K, T(1), pa, K, pb, N, T(0), py, N);
    g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
      const T *va = g.node(ia).value, *vb = g.node(ib).value;
      if (T* ga = g.grad_of(ia)) gemm<T>(false, true, rows, K, N, T(1), out.grad, N, vb, N, T(1), ga, K);
      if (T* gb = g.grad_of(ib)) gemm<T>(true, false, K, N, rows, T(1), va, K, out.grad, N, T(1), gb, N);
    });
    return y;
  }
  // Offsets of each batch's matrices in a and b.
  int64_t* off = g.template scratch<int64_t>(2 * nb);
  {
    const auto sta = broadcast_strides(ba, batch), stb = broadcast_strides(bb, batch);
    for_each_broadcast(batch, sta, stb, [&](int64_t i, int64_t oa, int64_t ob) {
      off[2 * i] = oa * M * K;
      off[2 * i + 1] = ob * K * N;
    });
  }
#pragma omp parallel for if (nb > 1)
  for (int64_t i = 0; i < nb; ++i)
    gemm<T>(false, false, M, N, K, T(1), pa + off[2 * i], K, pb + off[2 * i + 1], N, T(0),
            py + i * M * N, N);
  const bool a_shared = ba.numel() != nb, b_shared = bb.numel() != nb;  // broadcast over batch
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    const T *va = g.node(ia).value, *vb = g.node(ib).value, *go = out.grad;
    if (T* ga = g.grad_of(ia)) {
#pragma omp parallel for if (nb > 1 && !a_shared)
      for (int64_t i = 0; i < nb; ++i)
        gemm<T>(false, true, M, K, N, T(1), go + i * M * N, N, vb + off[2 * i + 1], N, T(1),
                ga + off[2 * i], K);
    }
    if (T* gb = g.grad_of(ib)) {
#pragma omp parallel for if (nb > 1 && !b_shared)
      for (int64_t i = 0; i < nb; ++i)
        gemm<T>(true, false, K, N, M, T(1), va + off[2 * i], K, go + i * M * N, N, T(1),
                gb + off[2 * i + 1], N);
    }
  });
  return y;
}

// linear with an optional fused epilogue: y = relu(x W^T + b), gelu(x W^T + b), or
// y = x W^T + b + residual. Fusing keeps one buffer on the tape where the unfused relu and add
// would also keep the pre-activation (or the un-added projection), a value nothing reads in
// backward; gelu's backward reads its pre-activation and Phi of it, kept in scratch, the
// pre-activation overwritten there by its gradient. The arithmetic is that of linear followed by relu, gelu or add (gelu's loops
// give each element the same bits wherever it falls, gelu_rows.hpp), so the results are the
// same.
//
// One OpenMP region per direction: each thread takes a block of rows and runs its gemm (BLAS
// single-threaded inside the region) and the epilogue on it, so bias, activation and residual
// cost no region or barrier of their own. Backward splits the weight gradient over the wider of
// the weight's two dimensions and the bias gradient over columns; both read every row, so a
// barrier comes first when the rows' pass rewrote the upstream gradient (relu, gelu) or when the
// weight or bias is also the input or residual. At the bench shapes this beats one two-thread
// BLAS call (docs/performance.md, "Fewer regions and fused epilogues").
template <class T>
Tensor<T> linear_impl(const OpDef& op, const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias, Epilogue act,
                      const Tensor<T>& residual) {
  const bool relu_out = act == Epilogue::relu, gelu_out = act == Epilogue::gelu;
  Graph<T>& g = x.graph();
  g.check(w, op.name);
  const Shape sx = x.shape();
  if (sx.ndim() < 1 || w.ndim() != 2 || sx[sx.ndim() - 1] != w.shape()[1] ||
      (bias.defined() && (bias.ndim() != 1 || bias.shape()[0] != w.shape()[0])))
    throw Error(fmt::format("{}: input {} , weight {} (want [out, in]) and bias {} do not fit", op.name,
                            sx.str(), w.shape().str(), bias.defined() ? bias.shape().str() : "none"));
  const int64_t in = w.shape()[1], out_f = w.shape()[0], rows = sx.numel() / std::max<int64_t>(in, 1);
  Shape so = sx;
  so[so.ndim() - 1] = out_f;
  if (residual.defined()) {
    g.check(residual, op.name);
    if (residual.shape() != so)
      throw Error(fmt::format("{}: residual {} does not match the output {}", op.name, residual.shape().str(), so.str()));
  }
  // An absent bias or residual is passed as x again: make() only reads inputs to check them and
  // to decide requires_grad, and this keeps the hot path free of a heap-allocated input list.
  Tensor<T> y = g.make(op, so, {&x, &w, bias.defined() ? &bias : &x, residual.defined() ? &residual : &x});
  T* py = y.mutable_data();
  const T *pb = bias.defined() ? bias.data() : nullptr, *pr = residual.defined() ? residual.data() : nullptr;
  const T *px = x.data(), *pw = w.data();
  const bool split = rows > 1 && rows * out_f * in >= kGemmSplitMin;
  T* pre = gelu_out ? g.template scratch<T>(rows * out_f) : nullptr;  // gelu's input
  T* cdf = gelu_out ? g.template scratch<T>(rows * out_f) : nullptr;  // and Phi of it
#pragma omp parallel if (split)
  {
    const auto [r0, r1] = team_block(rows, 1);
    T* yr = (pre ? pre : py) + r0 * out_f;
    const int64_t n = (r1 - r0) * out_f;
    // The bias goes in first and gemm adds to it (beta 1): OpenBLAS would otherwise zero the
    // output itself for beta 0, and the bias would take a pass of its own.
    if (pb)
      for (int64_t r = 0; r < r1 - r0; ++r) std::copy(pb, pb + out_f, yr + r * out_f);
    gemm<T>(false, true, r1 - r0, out_f, in, T(1), px + r0 * in, in, pw, in, pb ? T(1) : T(0), yr, out_f);
    if (relu_out)
      for (int64_t i = 0; i < n; ++i) yr[i] = yr[i] > T(0) ? yr[i] : T(0);
    if (pr)
      for (int64_t i = 0; i < n; ++i) yr[i] = pr[r0 * out_f + i] + yr[i];
    if (pre) gelu_span(yr, py + r0 * out_f, cdf + r0 * out_f, n);
  }
  const uint32_t ix = x.index(), iw = w.index(), ibias = bias.defined() ? bias.index() : UINT32_MAX,
                 ires = residual.defined() ? residual.index() : UINT32_MAX;
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    T* go = out.grad;
    // The gradient through relu goes in place: this node's gradient is dead after this backward,
    // unless the user asked to retain it. Through gelu it overwrites the saved pre-activation.
    if (relu_out && out.retain_grad) go = g.template scratch<T>(rows * out_f);
    if (gelu_out) go = pre;
    // A gradient this backward writes first is overwritten rather than zeroed and added to;
    // not when the weight or bias is also the input or residual (linear(x, x, b)), whose
    // buffer the column pass adds into.
    const bool aliased = iw == ix || iw == ires || ibias == ix || ibias == ires;
    bool gr_fresh = false, gx_fresh = false;
    T* gr = ires == UINT32_MAX ? nullptr : aliased ? g.grad_of(ires) : g.grad_to_write(ires, &gr_fresh);
    T* gx = aliased ? g.grad_of(ix) : g.grad_to_write(ix, &gx_fresh);
    T *gw = g.grad_of(iw), *gb = ibias != UINT32_MAX ? g.grad_of(ibias) : nullptr;
    const T *vx = g.node(ix).value, *vw = g.node(iw).value;
#pragma omp parallel if (split)
    {
      const auto [r0, r1] = team_block(rows, 1);
      // Separate, branch-free loops over local pointers, so that both vectorise.
      const T *value = out.value, *upstream = out.grad;
      if (relu_out)
        for (int64_t i = r0 * out_f; i < r1 * out_f; ++i) go[i] = value[i] > T(0) ? upstream[i] : T(0);
      if (gelu_out)
        gelu_grad_span(pre + r0 * out_f, cdf + r0 * out_f, upstream + r0 * out_f, go + r0 * out_f, (r1 - r0) * out_f,
                       false);
      if (gr && gr_fresh)
        std::copy(go + r0 * out_f, go + r1 * out_f, gr + r0 * out_f);
      else if (gr)
        for (int64_t i = r0 * out_f; i < r1 * out_f; ++i) gr[i] += go[i];
      if (gx)
        gemm<T>(false, false, r1 - r0, in, out_f, T(1), go + r0 * out_f, out_f, vw, in, gx_fresh ? T(0) : T(1),
                gx + r0 * in, in);
      if ((relu_out || gelu_out || aliased) && (gw || gb)) {
#pragma omp barrier
      }
      if (gw && out_f >= in) {
        const auto [o0, o1] = team_block(out_f, 1);
        gemm<T>(true, false, o1 - o0, in, rows, T(1), go + o0, out_f, vx, in, T(1), gw + o0 * in, in);
      } else if (gw) {
        const auto [i0, i1] = team_block(in, 16);
        gemm<T>(true, false, out_f, i1 - i0, rows, T(1), go, out_f, vx + i0, in, T(1), gw + i0, in);
      }
      if (gb) {
        const auto [o0, o1] = team_block(out_f, 16);
        for (int64_t r = 0; r < rows; ++r) {
          const T* row = go + r * out_f;
          for (int64_t j = o0; j < o1; ++j) gb[j] += row[j];
        }
      }
    }
  });
  return y;
}

template <class T>
Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias) {
  return linear_impl(kLinear, x, w, bias, Epilogue::none, Tensor<T>());
}
template <class T>
Tensor<T> linear_relu(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias) {
  return linear_impl(kLinearRelu, x, w, bias, Epilogue::relu, Tensor<T>());
}
template <class T>
Tensor<T> linear_gelu(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias) {
  return linear_impl(kLinearGelu, x, w, bias, Epilogue::gelu, Tensor<T>());
}
template <class T>
Tensor<T> linear_add(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias, const Tensor<T>& residual) {
  if (!residual.defined()) throw Error("linear_add: the residual is undefined");
  return linear_impl(kLinearAdd, x, w, bias, Epilogue::none, residual);
}

template Tensor<float> matmul(const Tensor<float>&, const Tensor<float>&);
template Tensor<double> matmul(const Tensor<double>&, const Tensor<double>&);
template Tensor<float> linear(const Tensor<float>&, const Tensor<float>&, const Tensor<float>&);
template Tensor<double> linear(const Tensor<double>&, const Tensor<double>&, const Tensor<double>&);
template Tensor<float> linear_relu(const Tensor<float>&, const Tensor<float>&, const Tensor<float>&);
template Tensor<double> linear_relu(const Tensor<double>&, const Tensor<double>&, const Tensor<double>&);
template Tensor<float> linear_gelu(const Tensor<float>&, const Tensor<float>&, const Tensor<float>&);
template Tensor<double> linear_gelu(const Tensor<double>&, const Tensor<double>&, const Tensor<double>&);
template Tensor<float> linear_add(const Tensor<float>&, const Tensor<float>&, const Tensor<float>&, const Tensor<float>&);
template Tensor<double> linear_add(const Tensor<double>&, const Tensor<double>&, const Tensor<double>&,
                                   const Tensor<double>&);

// ---------------------------------------------------------------- gradcheck cases
namespace {

InputSpec in(Shape s, bool rg = true) {
  InputSpec i;
  i.shape = s;
  i.requires_grad = rg;
  return i;
}

void cases(std::vector<GradCase>& out) {
  const std::tuple<const char*, Shape, Shape> mm[] = {
      {"2d", {3, 4}, {4, 5}},
      {"batched", {2, 3, 4}, {2, 4, 2}},
      {"batch_broadcast", {2, 1, 3, 4}, {3, 4, 2}},
      {"matrix_rhs", {2, 3, 4}, {4, 2}},
      {"batch1_size1", {1, 1, 4}, {1, 4, 1}},
      {"lhs_broadcast", {3, 2}, {2, 2, 3}},
  };
  for (auto& [name, sa, sb] : mm) {
    Shape a = sa, b = sb;
    out.push_back(make_case("matmul", name, {in(a), in(b)}, [](auto& x) { return matmul(x[0], x[1]); },
                            [a, b](const std::vector<std::vector<double>>& v) { return ref::matmul(a, b, v[0], v[1]); }));
  }
  out.push_back(make_case("matmul", "reused_input", {in({3, 3})}, [](auto& x) { return matmul(x[0], x[0]); },
                          [](const std::vector<std::vector<double>>& v) { return ref::matmul({3, 3}, {3, 3}, v[0], v[0]); }));

  auto ref_linear = [](Shape sx, int64_t out, bool has_bias) {
    return [=](const std::vector<std::vector<double>>& v) {
      return ref::linear(sx, out, v[0], v[1], has_bias ? v[2] : std::vector<double>{});
    };
  };
  out.push_back(make_case("linear", "3d_bias", {in({2, 3, 4}), in({5, 4}), in({5})},
                          [](auto& x) { return linear(x[0], x[1], x[2]); }, ref_linear({2, 3, 4}, 5, true)));
  out.push_back(make_case("linear", "no_bias_batch1", {in({1, 4}), in({3, 4})},
                          [](auto& x) { return linear(x[0], x[1], std::decay_t<decltype(x[0])>{}); },
                          ref_linear({1, 4}, 3, false)));
  out.push_back(make_case("linear", "constant_input", {in({3, 2}, false), in({2, 2}), in({2})},
                          [](auto& x) { return linear(x[0], x[1], x[2]); }, ref_linear({3, 2}, 2, true)));
  auto ref_relu = [ref_linear](Shape sx, int64_t out, bool has_bias) {
    return [=](const std::vector<std::vector<double>>& v) {
      return ref::unary(ref_linear(sx, out, has_bias)(v), [](double e) { return std::max(e, 0.0); });
    };
  };
  out.push_back(make_case("linear_relu", "3d_bias", {in({2, 3, 4}), in({5, 4}), in({5})},
                          [](auto& x) { return linear_relu(x[0], x[1], x[2]); }, ref_relu({2, 3, 4}, 5, true)));
  out.push_back(make_case("linear_relu", "no_bias", {in({4, 3}), in({6, 3})},
                          [](auto& x) { return linear_relu(x[0], x[1], std::decay_t<decltype(x[0])>{}); },
                          ref_relu({4, 3}, 6, false)));
  auto ref_gelu = [ref_linear](Shape sx, int64_t out, bool has_bias) {
    return [=](const std::vector<std::vector<double>>& v) {
      return ref::unary(ref_linear(sx, out, has_bias)(v), [](double e) { return 0.5 * e * (1 + std::erf(e / std::sqrt(2.0))); });
    };
  };
  out.push_back(make_case("linear_gelu", "3d_bias", {in({2, 3, 4}), in({5, 4}), in({5})},
                          [](auto& x) { return linear_gelu(x[0], x[1], x[2]); }, ref_gelu({2, 3, 4}, 5, true)));
  // Wide enough for gelu's vector loops and a tail.
  out.push_back(make_case("linear_gelu", "no_bias_vectors", {in({5, 3}), in({7, 3})},
                          [](auto& x) { return linear_gelu(x[0], x[1], std::decay_t<decltype(x[0])>{}); },
                          ref_gelu({5, 3}, 7, false)));
  auto ref_add = [ref_linear](Shape sx, int64_t out, bool has_bias) {
    return [=](const std::vector<std::vector<double>>& v) {
      return ref::add(ref_linear(sx, out, has_bias)(v), v[has_bias ? 3 : 2]);
    };
  };
  out.push_back(make_case("linear_add", "3d_bias", {in({2, 3, 4}), in({5, 4}), in({5}), in({2, 3, 5})},
                          [](auto& x) { return linear_add(x[0], x[1], x[2], x[3]); }, ref_add({2, 3, 4}, 5, true)));
  // The residual is also the input, as in x + f(x) with f a square linear.
  out.push_back(make_case("linear_add", "residual_is_input", {in({3, 4}), in({4, 4})},
                          [](auto& x) { return linear_add(x[0], x[1], std::decay_t<decltype(x[0])>{}, x[0]); },
                          [ref_linear](const std::vector<std::vector<double>>& v) {
                            return ref::add(ref_linear({3, 4}, 4, false)(v), v[0]);
                          }));
}

}  // namespace

void add_matmul_ops(std::vector<const OpDef*>& ops) {
  ops.insert(ops.end(), {&kMatmul, &kLinear, &kLinearRelu, &kLinearGelu, &kLinearAdd});
}
void add_matmul_cases(std::vector<GradCase>& out) { cases(out); }

}  // namespace attn
