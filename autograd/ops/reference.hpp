// The independent oracle for gradcheck cases: naive forward references in double, written as
// xtensor expressions and xt::linalg products in reference.cpp (the one op-side file that
// includes xtensor). They share no code with the kernels: not their loops, not their
// broadcasting, not their index arithmetic. Private to the op files.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "autograd/shape.hpp"

namespace attn::ref {

using Values = std::vector<double>;

// f over NumPy-broadcast a and b (xtensor's broadcasting).
Values binary(const Shape& sa, const Shape& sb, const Values& a, const Values& b,
              const std::function<double(double, double)>& f);
Values unary(const Values& x, const std::function<double(double)>& f);
Values add(const Values& a, const Values& b);  // same shapes
Values mul(const Values& a, const Values& b);

// [..., M, K] @ [..., K, N] with broadcast batch dimensions.
Values matmul(const Shape& sa, const Shape& sb, const Values& a, const Values& b);
// x [..., in] times W^T (W [out, in]) plus b (empty: no bias).
Values linear(const Shape& sx, int64_t out, const Values& x, const Values& w, const Values& b);

Values permute(const Shape& s, const std::vector<int>& perm, const Values& x);
Values slice(const Shape& s, int axis, int64_t start, int64_t end, const Values& x);
Values concat(const std::vector<Shape>& shapes, int axis, const std::vector<Values>& parts);
Values stack(const Shape& s, int axis, const std::vector<Values>& parts);  // parts all of shape s

// "sum", "mean" or "max" over `axes` (all when empty); keepdim does not change the values.
Values reduce(const char* kind, const Shape& s, const std::vector<int>& axes, const Values& x);

// Over rows of C; a row with every entry -inf gives zeros.
Values softmax(const Values& x, int64_t C, bool log);
// Mean over non-ignored rows of (1-e) nll(target) + e mean_j nll(j) (PyTorch's definition).
Values cross_entropy(const Values& x, int64_t C, const std::vector<int>& targets, int ignore, double e);
Values layer_norm(const Values& x, const Values& w, const Values& b, int64_t D, double eps);
Values embedding(const Values& w, int64_t D, const std::vector<int>& ids);
// x where the broadcast mask is 0, else `value`.
Values masked_fill(const Shape& sx, const Shape& sm, const Values& x, const Values& m, double value);

// Multi-head attention over packed heads: q [B, Tq, D], k and v [B, Tk, D], per-head
// softmax(q k^T / sqrt(Dh) - slope_h |pos_q - pos_k|) v with causal and key-padding masks; query i
// is at position i + query_offset; no slopes, no bias; a query that sees no key gives 0.
struct AttentionDims {
  int64_t B, Tq, Tk, D, H;
};
Values attention(const Values& q, const Values& k, const Values& v, const AttentionDims& d, bool causal,
                 const std::vector<uint8_t>& key_padding, const std::vector<double>& alibi_slopes,
                 int64_t query_offset);

// Rotary embedding of x [B, T, H*Dh]: each head's vector at position first_pos + t times the
// block rotation matrix R(t) with R's plane (i, i + Dh/2) turned by (first_pos + t) / base^(2i/Dh).
Values rotary(const Values& x, int64_t B, int64_t T, int64_t D, int64_t H, double base, int64_t first_pos);

// RMS norm over rows of D: x / sqrt(mean(x^2) + eps) * w.
Values rms_norm(const Values& x, const Values& w, int64_t D, double eps);
// Causal depthwise convolution of x [B, L, C] by w [C, 1, K] plus b [C] (empty: no bias), as
// nn.Conv1d(groups=C, padding=K-1) cut to the first L outputs.
Values causal_conv1d(const Values& x, const Values& w, const Values& b, int64_t B, int64_t L, int64_t C, int64_t K);
// Mamba's selective scan, x and delta [B, L, Ch], A [Ch, N], Bm and Cm [B, L, N], D [Ch], as
// mamba_ssm's selective_scan_ref: exp(delta A) and delta B x for all steps, then the loop over t.
Values selective_scan(const Values& x, const Values& delta, const Values& A, const Values& Bm, const Values& Cm,
                      const Values& D, int64_t B, int64_t L, int64_t Ch, int64_t N);

}  // namespace attn::ref
