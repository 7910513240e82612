// Rotary position embedding (RoPE; Su et al. 2021, "RoFormer"), with the rotate-half pairing of
// GPT-NeoX and LLaMA. For each head of x [B, T, H*Dh] and i < Dh/2, the pair
// (x1, x2) = (x[i], x[i + Dh/2]) at position p = first_pos + t turns by p * theta_i,
// theta_i = base^(-2i/Dh):
//   y[i] = x1 cos - x2 sin,  y[i + Dh/2] = x2 cos + x1 sin.
// A rotation's transpose is its inverse, so backward turns the gradient back by -p * theta_i.
#include <fmt/format.h>

#include <cmath>

#include "autograd/gradcheck.hpp"
#include "autograd/ops/kernels.hpp"
#include "autograd/ops/reference.hpp"
#include "autograd/ops/registry.hpp"
#include "autograd/ops.hpp"

namespace attn {
namespace {
const OpDef kRotary("rotary");
}

template <class T>
Tensor<T> rotary(const Tensor<T>& x, int heads, double base, int64_t first_pos) {
  Graph<T>& g = x.graph();
  const Shape s = x.shape();
  if (s.ndim() != 3 || heads < 1 || s[2] % heads != 0 || (s[2] / heads) % 2 != 0 || s[2] == 0)
    throw Error(fmt::format("rotary: x {} with {} heads: want x [B, T, H*Dh] with an even head size Dh > 0",
                            s.str(), heads));
  if (!(base > 0) || !std::isfinite(base))
    throw Error(fmt::format("rotary: base {} must be positive and finite", base));
  if (first_pos < 0) throw Error(fmt::format("rotary: first_pos {} is negative", first_pos));
  const int64_t B = s[0], Tn = s[1], D = s[2], H = heads, Dh = D / H, half = Dh / 2;
  Tensor<T> y = g.make(kRotary, s, {&x});
  // cos and sin for each (t, i), computed in double so that float32 and float64 agree to rounding.
  // Backward reuses them, so they live in scratch: T*Dh values, independent of B and H.
  T* table = g.template scratch<T>(Tn * Dh);  // row t: cos[0..half), sin[0..half)
  for (int64_t t = 0; t < Tn; ++t)
    for (int64_t i = 0; i < half; ++i) {
      const double angle = double(first_pos + t) * std::pow(base, -2.0 * double(i) / double(Dh));
      table[t * Dh + i] = T(std::cos(angle));
      table[t * Dh + half + i] = T(std::sin(angle));
    }
  // out = R(t) in, or R(t)^T in when `transpose`, over every head of every row.
  auto turn = [=](const T* in, T* out, bool transpose, bool accumulate) {
#pragma omp parallel for if (B * Tn * D > kParallelMin)
    for (int64_t r = 0; r < B * Tn; ++r) {
      const T *c = table + (r % Tn) * Dh, *sn = c + half;
      for (int64_t h = 0; h < H; ++h) {
        const T* a = in + r * D + h * Dh;
        T* o = out + r * D + h * Dh;
        for (int64_t i = 0; i < half; ++i) {
          const T x1 = a[i], x2 = a[i + half], si = transpose ? -sn[i] : sn[i];
          const T y1 = x1 * c[i] - x2 * si, y2 = x2 * c[i] + x1 * si;
          if (accumulate) {
            o[i] += y1;
            o[i + half] += y2;
          } else {
            o[i] = y1;
            o[i + half] = y2;
          }
        }
      }
    }
  };
  turn(x.data(), y.mutable_data(), false, false);
  const uint32_t ix = x.index();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    if (T* gx = g.grad_of(ix)) turn(out.grad, gx, true, true);
  });
  return y;
}

template Tensor<float> rotary(const Tensor<float>&, int, double, int64_t);
template Tensor<double> rotary(const Tensor<double>&, int, double, int64_t);

// ---------------------------------------------------------------- gradcheck cases
namespace {

using Vals = std::vector<std::vector<double>>;

void add(std::vector<GradCase>& out, const char* name, Shape s, int heads, double base, int64_t first_pos) {
  InputSpec x;
  x.shape = s;
  x.lo = -1.5;
  x.hi = 1.5;
  out.push_back(make_case("rotary", name, {x}, [=](auto& v) { return rotary(v[0], heads, base, first_pos); },
                          [=](const Vals& v) { return ref::rotary(v[0], s[0], s[1], s[2], heads, base, first_pos); }));
}

void cases(std::vector<GradCase>& out) {
  add(out, "1head_dh2", {2, 3, 2}, 1, 10000, 0);
  add(out, "1head_first_pos5", {1, 4, 8}, 1, 10000, 5);
  add(out, "2heads_base100", {2, 3, 8}, 2, 100, 0);
  add(out, "2heads_dh6_base100_first_pos5", {1, 5, 12}, 2, 100, 5);
  add(out, "batch1_one_position", {1, 1, 4}, 2, 10000, 5);
  // x reused after the rotation: gradient accumulates from both uses.
  InputSpec x;
  x.shape = {2, 3, 8};
  out.push_back(make_case("rotary", "reused_input", {x}, [](auto& v) { return rotary(v[0], 2, 100, 5) * v[0]; },
                          [](const Vals& v) { return ref::mul(ref::rotary(v[0], 2, 3, 8, 2, 100, 5), v[0]); }));
}

}  // namespace

void add_rotary_ops(std::vector<const OpDef*>& ops) { ops.insert(ops.end(), {&kRotary}); }
void add_rotary_cases(std::vector<GradCase>& out) { cases(out); }

}  // namespace attn
