// Elementwise ops: forward, backward and gradcheck cases. Binary ops broadcast as NumPy does;
// each gradient is summed back to its input's shape.
#include <cmath>

#include "autograd/gradcheck.hpp"
#include "autograd/ops/registry.hpp"
#include "autograd/ops.hpp"
#include "autograd/ops/kernels.hpp"
#include "autograd/ops/gelu_rows.hpp"
#include "autograd/ops/reference.hpp"

namespace attn {
namespace {

// Accumulates d(out)/d(input) * g into the input's gradient, reducing over broadcast dims.
// da(a, b, y) is the local derivative with respect to the input being updated.
template <class T, class D>
void accumulate(Graph<T>& g, const Node<T>& out, uint32_t target,
                const std::vector<int64_t>& sa, const std::vector<int64_t>& sb, const T* a,
                const T* b, D d, bool target_is_a, bool same_shapes) {
  T* gt = g.grad_of(target);
  if (!gt) return;
  const T* go = out.grad;
  const T* y = out.value;
  const int64_t n = out.shape.numel();
  if (same_shapes) {
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) gt[i] += go[i] * d(a[i], b[i], y[i]);
    return;
  }
  for_each_broadcast(out.shape, sa, sb, [&](int64_t i, int64_t ia, int64_t ib) {
    gt[target_is_a ? ia : ib] += go[i] * d(a[ia], b[ib], y[i]);
  });
}

template <class T, class F, class DA, class DB>
Tensor<T> binary(const OpDef& op, const Tensor<T>& a, const Tensor<T>& b, F f, DA da, DB db) {
  Graph<T>& g = a.graph();
  g.check(b, op.name);
  const Shape s = broadcast_shapes(a.shape(), b.shape(), op.name);
  Tensor<T> y = g.make(op, s, {&a, &b});
  const T *pa = a.data(), *pb = b.data();
  T* py = y.mutable_data();
  const int64_t n = s.numel();
  const auto sa = broadcast_strides(a.shape(), s), sb = broadcast_strides(b.shape(), s);
  if (a.shape() == s && b.shape() == s) {
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) py[i] = f(pa[i], pb[i]);
  } else {
    for_each_broadcast(s, sa, sb, [&](int64_t i, int64_t ia, int64_t ib) { py[i] = f(pa[ia], pb[ib]); });
  }
  const uint32_t ia = a.index(), ib = b.index();
  const bool same = a.shape() == s && b.shape() == s;
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    const T *va = g.node(ia).value, *vb = g.node(ib).value;
    accumulate(g, out, ia, sa, sb, va, vb, da, true, same);
    accumulate(g, out, ib, sa, sb, va, vb, db, false, same);
  });
  return y;
}

template <class T, class F, class D>
Tensor<T> unary(const OpDef& op, const Tensor<T>& x, F f, D d) {
  Graph<T>& g = x.graph();
  Tensor<T> y = g.make(op, x.shape(), {&x});
  const T* px = x.data();
  T* py = y.mutable_data();
  const int64_t n = x.numel();
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) py[i] = f(px[i]);
  const uint32_t ix = x.index();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    T* gx = g.grad_of(ix);
    const T* vx = g.node(ix).value;
    const T *go = out.grad, *vy = out.value;
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) gx[i] += go[i] * d(vx[i], vy[i]);
  });
  return y;
}

const OpDef kAdd("add"), kSub("sub"), kMul("mul"), kDiv("div"), kNeg("neg");
const OpDef kAddScalar("add_scalar"), kMulScalar("mul_scalar"), kRdivScalar("rdiv_scalar");
const OpDef kPowScalar("pow_scalar"), kExp("exp"), kLog("log"), kSqrt("sqrt"), kTanh("tanh");
const OpDef kSigmoid("sigmoid"), kRelu("relu"), kGelu("gelu");

constexpr double kInvSqrt2 = 0.70710678118654752440;

}  // namespace

template <class T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) {
  return binary(kAdd, a, b, [](T x, T y) { return x + y; }, [](T, T, T) { return T(1); },
                [](T, T, T) { return T(1); });
}
template <class T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) {
  return binary(kSub, a, b, [](T x, T y) { return x - y; }, [](T, T, T) { return T(1); },
                [](T, T, T) { return T(-1); });
}
template <class T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
  return binary(kMul, a, b, [](T x, T y) { return x * y; }, [](T, T y, T) { return y; },
                [](T x, T, T) { return x; });
}
template <class T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) {
  return binary(kDiv, a, b, [](T x, T y) { return x / y; }, [](T, T y, T) { return T(1) / y; },
                [](T, T y, T out) { return -out / y; });
}
template <class T>
Tensor<T> neg(const Tensor<T>& x) {
  return unary(kNeg, x, [](T v) { return -v; }, [](T, T) { return T(-1); });
}
template <class T>
Tensor<T> add_scalar(const Tensor<T>& x, double s) {
  const T c = T(s);
  return unary(kAddScalar, x, [c](T v) { return v + c; }, [](T, T) { return T(1); });
}
template <class T>
Tensor<T> mul_scalar(const Tensor<T>& x, double s) {
  const T c = T(s);
  return unary(kMulScalar, x, [c](T v) { return v * c; }, [c](T, T) { return c; });
}
template <class T>
Tensor<T> rdiv_scalar(const Tensor<T>& x, double s) {
  const T c = T(s);
  return unary(kRdivScalar, x, [c](T v) { return c / v; }, [](T v, T y) { return -y / v; });
}
template <class T>
Tensor<T> pow_scalar(const Tensor<T>& x, double p) {
  const T e = T(p);
  return unary(kPowScalar, x, [e](T v) { return std::pow(v, e); },
               [e](T v, T) { return e * std::pow(v, e - T(1)); });
}
template <class T>
Tensor<T> exp(const Tensor<T>& x) {
  return unary(kExp, x, [](T v) { return std::exp(v); }, [](T, T y) { return y; });
}
template <class T>
Tensor<T> log(const Tensor<T>& x) {
  return unary(kLog, x, [](T v) { return std::log(v); }, [](T v, T) { return T(1) / v; });
}
template <class T>
Tensor<T> sqrt(const Tensor<T>& x) {
  return unary(kSqrt, x, [](T v) { return std::sqrt(v); }, [](T, T y) { return T(0.5) / y; });
}
template <class T>
Tensor<T> tanh(const Tensor<T>& x) {
  return unary(kTanh, x, [](T v) { return std::tanh(v); }, [](T, T y) { return T(1) - y * y; });
}
template <class T>
Tensor<T> sigmoid(const Tensor<T>& x) {
  return unary(kSigmoid, x, [](T v) { return T(1) / (T(1) + std::exp(-v)); },
               [](T, T y) { return y * (T(1) - y); });
}
template <class T>
Tensor<T> relu(const Tensor<T>& x) {
  return unary(kRelu, x, [](T v) { return v > T(0) ? v : T(0); },
               [](T v, T) { return v > T(0) ? T(1) : T(0); });
}
// Its own loops (gelu_rows.hpp): float's erf and exp vectorised, one region per direction.
// Phi(x) is kept in scratch for backward, which then evaluates exp but not erf.
template <class T>
Tensor<T> gelu(const Tensor<T>& x) {
  Graph<T>& g = x.graph();
  Tensor<T> y = g.make(kGelu, x.shape(), {&x});
  const T* px = x.data();
  T* py = y.mutable_data();
  const int64_t n = x.numel();
  T* cdf = g.template scratch<T>(n);
#pragma omp parallel if (n > kParallelMin)
  {
    const auto [i0, i1] = team_block(n, 64);
    gelu_span(px + i0, py + i0, cdf + i0, i1 - i0);
  }
  const uint32_t ix = x.index();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    T* gx = g.grad_of(ix);
    const T *vx = g.node(ix).value, *go = out.grad;
#pragma omp parallel if (n > kParallelMin)
    {
      const auto [i0, i1] = team_block(n, 64);
      gelu_grad_span(vx + i0, cdf + i0, go + i0, gx + i0, i1 - i0);
    }
  });
  return y;
}

#define ATTN_INSTANTIATE(T)                                             \
  template Tensor<T> add(const Tensor<T>&, const Tensor<T>&);           \
  template Tensor<T> sub(const Tensor<T>&, const Tensor<T>&);           \
  template Tensor<T> mul(const Tensor<T>&, const Tensor<T>&);           \
  template Tensor<T> div(const Tensor<T>&, const Tensor<T>&);           \
  template Tensor<T> neg(const Tensor<T>&);                             \
  template Tensor<T> add_scalar(const Tensor<T>&, double);              \
  template Tensor<T> mul_scalar(const Tensor<T>&, double);              \
  template Tensor<T> rdiv_scalar(const Tensor<T>&, double);             \
  template Tensor<T> pow_scalar(const Tensor<T>&, double);              \
  template Tensor<T> exp(const Tensor<T>&);                             \
  template Tensor<T> log(const Tensor<T>&);                             \
  template Tensor<T> sqrt(const Tensor<T>&);                            \
  template Tensor<T> tanh(const Tensor<T>&);                            \
  template Tensor<T> sigmoid(const Tensor<T>&);                         \
  template Tensor<T> relu(const Tensor<T>&);                            \
  template Tensor<T> gelu(const Tensor<T>&);
ATTN_INSTANTIATE(float)
ATTN_INSTANTIATE(double)
#undef ATTN_INSTANTIATE

// ---------------------------------------------------------------- gradcheck cases
namespace {

using Fn2 = std::function<double(double, double)>;
using Fn1 = std::function<double(double)>;

Reference ref2(Shape sa, Shape sb, Fn2 f) {
  return [=](const std::vector<std::vector<double>>& v) { return ref::binary(sa, sb, v[0], v[1], f); };
}
Reference ref1(Fn1 f) {
  return [=](const std::vector<std::vector<double>>& v) { return ref::unary(v[0], f); };
}
InputSpec in(Shape s, double lo = -1, double hi = 1, double min_abs = 0) {
  InputSpec i;
  i.shape = s;
  i.lo = lo;
  i.hi = hi;
  i.min_abs = min_abs;
  return i;
}

// Binary ops, each over the same set of shape pairs.
struct BinaryDef {
  const char* op;
  Fn2 f;
  double blo, bhi;  // range of the second operand (div keeps away from 0)
};
const BinaryDef kBinaryDefs[] = {
    {"add", [](double a, double b) { return a + b; }, -1, 1},
    {"sub", [](double a, double b) { return a - b; }, -1, 1},
    {"mul", [](double a, double b) { return a * b; }, -1, 1},
    {"div", [](double a, double b) { return a / b; }, 0.5, 2},
};

template <class T>
Tensor<T> apply_binary(const std::string& op, const Tensor<T>& a, const Tensor<T>& b) {
  if (op == "add") return add(a, b);
  if (op == "sub") return sub(a, b);
  if (op == "mul") return mul(a, b);
  return div(a, b);
}

void binary_cases(std::vector<GradCase>& out) {
  const std::pair<Shape, Shape> shapes[] = {
      {{3, 4}, {3, 4}},       // same shape
      {{2, 3, 4}, {4}},       // bias-like broadcast
      {{2, 1, 4}, {3, 1}},    // both sides broadcast
      {{1, 1}, {2, 3}},       // size-1 dimensions
      {{1, 5}, {1, 5}},       // batch 1
  };
  const char* names[] = {"same_shape", "broadcast_trailing", "broadcast_both", "size1_dims", "batch1"};
  for (const BinaryDef& d : kBinaryDefs) {
    for (int k = 0; k < 5; ++k) {
      const std::string op = d.op;
      out.push_back(make_case(op, names[k], {in(shapes[k].first), in(shapes[k].second, d.blo, d.bhi)},
                              [op](auto& x) { return apply_binary(op, x[0], x[1]); },
                              ref2(shapes[k].first, shapes[k].second, d.f)));
    }
    // The same tensor on both sides: gradients from both uses accumulate.
    const std::string op = d.op;
    Fn2 f = d.f;
    out.push_back(make_case(op, "reused_input", {in({2, 3}, 0.5, 2)},
                            [op](auto& x) { return apply_binary(op, x[0], x[0]); },
                            [f](const std::vector<std::vector<double>>& v) {
                              return ref::unary(v[0], [f](double a) { return f(a, a); });
                            }));
  }
}

struct UnaryDef {
  const char* op;
  Fn1 f;
  double lo, hi, min_abs;
};

template <class T>
Tensor<T> apply_unary(const std::string& op, const Tensor<T>& x) {
  if (op == "neg") return neg(x);
  if (op == "add_scalar") return add_scalar(x, 0.75);
  if (op == "mul_scalar") return mul_scalar(x, -1.5);
  if (op == "rdiv_scalar") return rdiv_scalar(x, 2.0);
  if (op == "pow_scalar") return pow_scalar(x, 2.5);
  if (op == "exp") return exp(x);
  if (op == "log") return log(x);
  if (op == "sqrt") return sqrt(x);
  if (op == "tanh") return tanh(x);
  if (op == "sigmoid") return sigmoid(x);
  if (op == "relu") return relu(x);
  return gelu(x);
}

void unary_cases(std::vector<GradCase>& out) {
  const UnaryDef defs[] = {
      {"neg", [](double x) { return -x; }, -1, 1, 0},
      {"add_scalar", [](double x) { return x + 0.75; }, -1, 1, 0},
      {"mul_scalar", [](double x) { return x * -1.5; }, -1, 1, 0},
      {"rdiv_scalar", [](double x) { return 2.0 / x; }, 0.5, 2, 0},
      {"pow_scalar", [](double x) { return std::pow(x, 2.5); }, 0.2, 2, 0},
      {"exp", [](double x) { return std::exp(x); }, -2, 2, 0},
      {"log", [](double x) { return std::log(x); }, 0.2, 3, 0},
      {"sqrt", [](double x) { return std::sqrt(x); }, 0.2, 3, 0},
      {"tanh", [](double x) { return std::tanh(x); }, -2, 2, 0},
      {"sigmoid", [](double x) { return 1 / (1 + std::exp(-x)); }, -3, 3, 0},
      {"relu", [](double x) { return x > 0 ? x : 0; }, -1, 1, 1e-3},  // away from the kink
      {"gelu", [](double x) { return 0.5 * x * (1 + std::erf(x * kInvSqrt2)); }, -3, 3, 0},
  };
  for (const UnaryDef& d : defs) {
    const std::string op = d.op;
    out.push_back(make_case(op, "matrix", {in({3, 5}, d.lo, d.hi, d.min_abs)},
                            [op](auto& x) { return apply_unary(op, x[0]); }, ref1(d.f)));
    if (op == "gelu")  // two AVX-512 vectors (four AVX2 ones) and a tail of three
      out.push_back(make_case(op, "vectors_and_tail", {in({5, 7}, -4, 4, 0)},
                              [op](auto& x) { return apply_unary(op, x[0]); }, ref1(d.f)));
    out.push_back(make_case(op, "scalar_batch1", {in({1, 1, 1}, d.lo, d.hi, d.min_abs)},
                            [op](auto& x) { return apply_unary(op, x[0]); }, ref1(d.f)));
    // Used twice: the two gradient contributions must add up.
    Fn1 f = d.f;
    out.push_back(make_case(op, "reused_input", {in({4}, d.lo, d.hi, d.min_abs)},
                            [op](auto& x) { return apply_unary(op, x[0]) * x[0]; },
                            ref1([f](double x) { return f(x) * x; })));
  }
}

}  // namespace

void add_elementwise_ops(std::vector<const OpDef*>& ops) {
  ops.insert(ops.end(), {&kAdd, &kSub, &kMul, &kDiv, &kNeg, &kAddScalar, &kMulScalar, &kRdivScalar, &kPowScalar,
                         &kExp, &kLog, &kSqrt, &kTanh, &kSigmoid, &kRelu, &kGelu});
}
void add_elementwise_cases(std::vector<GradCase>& out) { binary_cases(out); unary_cases(out); }

}  // namespace attn
