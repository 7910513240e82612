// The oracle behind every op's gradcheck reference, as whole-array xtensor expressions. Plain
// and slow on purpose. Reductions are evaluated into arrays before they broadcast (xtensor
// 0.24 gets lazy reducers as broadcasting operands wrong, #2871).
#include "autograd/ops/reference.hpp"

#include <cmath>
#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xbroadcast.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xindex_view.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>
#include <xtensor/xstrided_view.hpp>
#include <xtensor/xvectorize.hpp>
#include <xtensor/xview.hpp>

namespace attn::ref {

namespace {

using Array = xt::xarray<double>;
using Dims = std::vector<size_t>;

Dims dims(const Shape& s) {
  Dims d;
  for (int i = 0; i < s.ndim(); ++i) d.push_back(size_t(s[i]));
  return d;
}
Array arr(const Values& v, const Dims& d) { return xt::adapt(v, d); }
Array arr(const Values& v, const Shape& s) { return arr(v, dims(s)); }
Values flat(const Array& a) { return Values(a.begin(), a.end()); }
size_t axis_of(int axis, size_t ndim) { return size_t(axis < 0 ? axis + int(ndim) : axis); }

// `a` broadcast to batch + its last two dimensions, flattened to [prod(batch), rows, cols].
Array batched(const Array& a, const Dims& batch) {
  Dims full = batch;
  full.push_back(a.shape()[a.dimension() - 2]);
  full.push_back(a.shape()[a.dimension() - 1]);
  Array b = xt::broadcast(a, full);
  size_t n = 1;
  for (size_t d : batch) n *= d;
  b.reshape({n, full[full.size() - 2], full.back()});
  return b;
}

Array softmax_rows(const Array& x, bool log) {  // x [R, C]
  const Array m = xt::amax(x, {1}, xt::keep_dims);
  const Array shift = xt::where(xt::isfinite(m), m, 0.0);  // a fully masked row: exp gives 0s
  const Array e = xt::exp(x - shift);
  const Array z = xt::sum(e, {1}, xt::keep_dims);
  const Array y = log ? Array(x - shift - xt::log(z)) : Array(e / z);
  return xt::where(xt::equal(z, 0.0), 0.0, y);
}

}  // namespace

Values binary(const Shape& sa, const Shape& sb, const Values& a, const Values& b,
              const std::function<double(double, double)>& f) {
  return flat(xt::vectorize(f)(arr(a, sa), arr(b, sb)));
}

Values unary(const Values& x, const std::function<double(double)>& f) {
  return flat(xt::vectorize(f)(arr(x, Dims{x.size()})));
}

Values add(const Values& a, const Values& b) { return flat(arr(a, Dims{a.size()}) + arr(b, Dims{b.size()})); }
Values mul(const Values& a, const Values& b) { return flat(arr(a, Dims{a.size()}) * arr(b, Dims{b.size()})); }

Values matmul(const Shape& sa, const Shape& sb, const Values& a, const Values& b) {
  const Array A = arr(a, sa), B = arr(b, sb);
  Dims batch(std::max(A.dimension(), B.dimension()) - 2, 1);
  xt::broadcast_shape(Dims(A.shape().begin(), A.shape().end() - 2), batch);
  xt::broadcast_shape(Dims(B.shape().begin(), B.shape().end() - 2), batch);
  const Array A3 = batched(A, batch), B3 = batched(B, batch);
  Array Y = xt::zeros<double>({A3.shape()[0], A3.shape()[1], B3.shape()[2]});
  for (size_t t = 0; t < A3.shape()[0]; ++t) {
    const Array at = xt::view(A3, t), bt = xt::view(B3, t);
    xt::view(Y, t) = xt::linalg::dot(at, bt);
  }
  return flat(Y);
}

Values linear(const Shape& sx, int64_t out, const Values& x, const Values& w, const Values& b) {
  const size_t in = size_t(sx[sx.ndim() - 1]), rows = x.size() / in;
  const Array X = arr(x, Dims{rows, in}), W = arr(w, Dims{size_t(out), in});
  const Array Wt = xt::transpose(W);
  Array y = xt::linalg::dot(X, Wt);
  if (!b.empty()) y += arr(b, Dims{size_t(out)});
  return flat(y);
}

Values permute(const Shape& s, const std::vector<int>& perm, const Values& x) {
  const Dims p(perm.begin(), perm.end());
  return flat(xt::transpose(arr(x, s), p));
}

Values slice(const Shape& s, int axis, int64_t start, int64_t end, const Values& x) {
  const size_t ax = axis_of(axis, s.ndim());
  xt::xstrided_slice_vector sv;
  for (size_t d = 0; d < size_t(s.ndim()); ++d)
    sv.push_back(d == ax ? xt::xstrided_slice<long>(xt::range(long(start), long(end))) : xt::all());
  return flat(xt::strided_view(arr(x, s), sv));
}

Values concat(const std::vector<Shape>& shapes, int axis, const std::vector<Values>& parts) {
  const size_t ax = axis_of(axis, shapes[0].ndim());
  Array y = arr(parts[0], shapes[0]);
  for (size_t i = 1; i < parts.size(); ++i) {
    Array next = xt::concatenate(xt::xtuple(y, arr(parts[i], shapes[i])), ax);
    y = std::move(next);
  }
  return flat(y);
}

Values stack(const Shape& s, int axis, const std::vector<Values>& parts) {
  const size_t ax = axis_of(axis, s.ndim() + 1);
  Array y = xt::expand_dims(arr(parts[0], s), ax);
  for (size_t i = 1; i < parts.size(); ++i) {
    Array next = xt::concatenate(xt::xtuple(y, xt::expand_dims(arr(parts[i], s), ax)), ax);
    y = std::move(next);
  }
  return flat(y);
}

Values reduce(const char* kind, const Shape& s, const std::vector<int>& axes, const Values& x) {
  Dims ax;
  for (int a : axes) ax.push_back(axis_of(a, s.ndim()));
  if (axes.empty())
    for (size_t d = 0; d < size_t(s.ndim()); ++d) ax.push_back(d);
  const Array X = arr(x, s);
  const std::string k = kind;
  const Array y = k == "sum" ? Array(xt::sum(X, ax)) : k == "mean" ? Array(xt::mean(X, ax)) : Array(xt::amax(X, ax));
  return flat(y);
}

Values softmax(const Values& x, int64_t C, bool log) {
  return flat(softmax_rows(arr(x, Dims{x.size() / size_t(C), size_t(C)}), log));
}

Values cross_entropy(const Values& x, int64_t C, const std::vector<int>& targets, int ignore, double e) {
  const Array nll = -softmax_rows(arr(x, Dims{targets.size(), size_t(C)}), true);
  const Array smooth = xt::mean(nll, {1});
  double total = 0;
  int n = 0;
  for (size_t r = 0; r < targets.size(); ++r) {
    if (targets[r] == ignore) continue;
    total += (1 - e) * nll(r, size_t(targets[r])) + e * smooth(r);
    ++n;
  }
  return {n ? total / n : 0.0};
}

Values layer_norm(const Values& x, const Values& w, const Values& b, int64_t D, double eps) {
  const Array X = arr(x, Dims{x.size() / size_t(D), size_t(D)});
  const Array mu = xt::mean(X, {1}, xt::keep_dims);
  const Array var = xt::mean(xt::square(X - mu), {1}, xt::keep_dims);
  const Array y = (X - mu) / xt::sqrt(var + eps) * arr(w, Dims{size_t(D)}) + arr(b, Dims{size_t(D)});
  return flat(y);
}

Values embedding(const Values& w, int64_t D, const std::vector<int>& ids) {
  const Array W = arr(w, Dims{w.size() / size_t(D), size_t(D)});
  return flat(xt::view(W, xt::keep(ids), xt::all()));
}

Values masked_fill(const Shape& sx, const Shape& sm, const Values& x, const Values& m, double value) {
  return flat(xt::where(xt::not_equal(arr(m, sm), 0.0), value, arr(x, sx)));
}

Values attention(const Values& q, const Values& k, const Values& v, const AttentionDims& d, bool causal,
                 const std::vector<uint8_t>& key_padding, const std::vector<double>& alibi_slopes,
                 int64_t query_offset) {
  const size_t B = d.B, Tq = d.Tq, Tk = d.Tk, D = d.D, H = d.H, Dh = D / H;
  const Array Q = arr(q, Dims{B, Tq, D}), K = arr(k, Dims{B, Tk, D}), V = arr(v, Dims{B, Tk, D});
  // distance(i, j) = pos_q - pos_k, a [Tq, 1] column minus a [1, Tk] row.
  const Array pos_q = xt::arange<double>(double(query_offset), double(query_offset + d.Tq)),
              pos_k = xt::arange<double>(0.0, double(Tk));
  const Array distance = xt::view(pos_q, xt::all(), xt::newaxis()) - xt::view(pos_k, xt::newaxis(), xt::all());
  Array out = xt::zeros<double>({B, Tq, D});
  for (size_t b = 0; b < B; ++b) {
    Array hidden = xt::zeros<double>({Tq, Tk});  // 1 where query i may not see key j
    for (size_t i = 0; i < Tq; ++i)
      for (size_t j = 0; j < Tk; ++j)
        hidden(i, j) = (causal && distance(i, j) < 0) || (!key_padding.empty() && key_padding[b * Tk + j]);
    for (size_t h = 0; h < H; ++h) {
      auto cols = [&] { return xt::range(h * Dh, (h + 1) * Dh); };  // head h's columns
      const Array Qh = xt::view(Q, b, xt::all(), cols()), Kt = xt::transpose(Array(xt::view(K, b, xt::all(), cols())));
      const double slope = alibi_slopes.empty() ? 0.0 : alibi_slopes[h];
      const Array S = xt::linalg::dot(Qh, Kt) / std::sqrt(double(Dh)) - slope * xt::abs(distance);
      const Array P = softmax_rows(xt::where(xt::equal(hidden, 1.0), -INFINITY, S), false);
      const Array Vh = xt::view(V, b, xt::all(), cols());
      xt::view(out, b, xt::all(), cols()) = xt::linalg::dot(P, Vh);
    }
  }
  return flat(out);
}

Values rotary(const Values& x, int64_t B, int64_t T, int64_t D, int64_t H, double base, int64_t first_pos) {
  const size_t Dh = size_t(D / H), half = Dh / 2;
  const Array X = arr(x, Dims{size_t(B), size_t(T), size_t(H), Dh});
  Array out = xt::zeros<double>(X.shape());
  for (size_t t = 0; t < size_t(T); ++t) {
    Array R = xt::zeros<double>({Dh, Dh});  // y = R x; R is a rotation in each plane (i, i + half)
    for (size_t i = 0; i < half; ++i) {
      const double angle = double(first_pos + int64_t(t)) / std::pow(base, double(2 * i) / double(Dh));
      R(i, i) = R(i + half, i + half) = std::cos(angle);
      R(i, i + half) = -std::sin(angle);
      R(i + half, i) = std::sin(angle);
    }
    const Array Rt = xt::transpose(R);
    for (size_t b = 0; b < size_t(B); ++b) {  // rows of x times R^T
      const Array rows = xt::view(X, b, t, xt::all(), xt::all());
      xt::view(out, b, t, xt::all(), xt::all()) = xt::linalg::dot(rows, Rt);
    }
  }
  return flat(out);
}

Values rms_norm(const Values& x, const Values& w, int64_t D, double eps) {
  const Array X = arr(x, Dims{x.size() / size_t(D), size_t(D)});
  const Array ms = xt::mean(xt::square(X), {1}, xt::keep_dims);
  return flat(X / xt::sqrt(ms + eps) * arr(w, Dims{size_t(D)}));
}

Values causal_conv1d(const Values& x, const Values& w, const Values& b, int64_t B, int64_t L, int64_t C, int64_t K) {
  const Array X = arr(x, Dims{size_t(B), size_t(L), size_t(C)});
  const Array W = arr(w, Dims{size_t(C), size_t(K)});
  const Array padded = xt::concatenate(xt::xtuple(Array(xt::zeros<double>({size_t(B), size_t(K - 1), size_t(C)})), X), 1);
  Array y = xt::zeros<double>(X.shape());
  for (size_t k = 0; k < size_t(K); ++k) {
    const Array wk = xt::view(W, xt::all(), k);
    y += xt::view(padded, xt::all(), xt::range(k, k + size_t(L)), xt::all()) * wk;
  }
  if (!b.empty()) y += arr(b, Dims{size_t(C)});
  return flat(y);
}

Values selective_scan(const Values& x, const Values& delta, const Values& A, const Values& Bm, const Values& Cm,
                      const Values& D, int64_t B, int64_t L, int64_t Ch, int64_t N) {
  const size_t b = size_t(B), l = size_t(L), c = size_t(Ch), n = size_t(N);
  const Array X = arr(x, Dims{b, l, c, 1}), Dl = arr(delta, Dims{b, l, c, 1});
  const Array dA = xt::exp(Dl * arr(A, Dims{c, n}));                     // [B, L, Ch, N]
  const Array dBx = Dl * arr(Bm, Dims{b, l, 1, n}) * X;                  // [B, L, Ch, N]
  const Array Cv = arr(Cm, Dims{b, l, n});
  Array h = xt::zeros<double>({b, c, n});
  Array y = xt::zeros<double>({b, l, c});
  for (size_t t = 0; t < l; ++t) {
    h = Array(xt::view(dA, xt::all(), t, xt::all(), xt::all())) * h + xt::view(dBx, xt::all(), t, xt::all(), xt::all());
    const Array Ct = xt::view(Cv, xt::all(), xt::range(t, t + 1), xt::all());  // [B, 1, N]
    xt::view(y, xt::all(), t, xt::all()) = xt::sum(h * Ct, {2});
  }
  return flat(y + arr(x, Dims{b, l, c}) * arr(D, Dims{c}));
}

}  // namespace attn::ref
