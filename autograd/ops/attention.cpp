// Fused scaled dot-product attention over packed heads. Per (batch, head):
//   S = Q K^T / sqrt(Dh) - m_h (pos_q - pos_k) (ALiBi, when slopes are given), masked to -inf;
//   P = softmax(S); O = P V.
// q, k, v and out keep the [B, T, H*Dh] layout of the projections, or sit side by side in one
// packed projection ([B, T, 3D] or [B, Tk, 2D]); gemm reads each head's columns through its
// leading dimension, so splitting and merging heads, or q, k and v, costs no copy.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <omp.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>

#include "autograd/blas.hpp"
#include "autograd/ops/registry.hpp"
#include "autograd/ops.hpp"
#include "autograd/ops/attention_tiled.hpp"
#include "autograd/ops/softmax_rows.hpp"

namespace attn {
namespace {
const OpDef kAttention("attention"), kAttentionQkv("attention_qkv"), kAttentionQKv("attention_q_kv"),
    kAttentionWeights("attention_weights", false);
AttentionKernel g_kernel;

// Where q, k and v live: column blocks, at `offset`, of graph nodes, which are one node when they
// are blocks of one packed projection. Gradients go to the same blocks of the nodes' gradients.
struct Operand {
  uint32_t node;
  int64_t offset;
};

template <class T>
const T* value_of(Graph<T>& g, Operand o) {
  return g.node(o.node).value + o.offset;
}
template <class T>
T* grad_of(Graph<T>& g, Operand o) {
  T* p = g.grad_of(o.node);
  return p ? p + o.offset : nullptr;
}

// q's, k's and v's gradient blocks for a backward that writes each element of each once: a node
// this backward writes first is not zeroed, and its blocks are written with beta 0 (fresh).
// Operands on one node share its buffer and its flag; when two of them are the same block
// (attention(x, x, x)), they add up, so that node is zeroed as usual.
template <class T>
struct GradBlocks {
  T* at[3] = {nullptr, nullptr, nullptr};
  bool fresh[3] = {false, false, false};
};
template <class T>
GradBlocks<T> grads_to_write(Graph<T>& g, const Operand (&ops)[3]) {
  GradBlocks<T> r;
  for (int i = 0; i < 3; ++i) {
    int first = i;  // the first operand on this node
    bool overlap = false;
    for (int j = 0; j < 3; ++j)
      if (j != i && ops[j].node == ops[i].node) {
        first = std::min(first, j);
        overlap = overlap || ops[j].offset == ops[i].offset;
      }
    T* base;
    if (first < i) {
      base = r.at[first] ? r.at[first] - ops[first].offset : nullptr;
      r.fresh[i] = r.fresh[first];
    } else if (overlap) {
      base = g.grad_of(ops[i].node);
    } else {
      base = g.grad_to_write(ops[i].node, &r.fresh[i]);
    }
    r.at[i] = base ? base + ops[i].offset : nullptr;
  }
  return r;
}

// The tiled kernel (attention_tiled.cpp): out from the tiles, and a backward that recomputes them.
template <class T>
void tiled_attention(Graph<T>& g, AttentionResult<T>& res, const AttentionShape& s, const AttentionKernel& kern,
                     Operand q, Operand k, Operand v) {
  T* stats = res.out.requires_grad() ? g.template scratch<T>(s.B * s.H * s.Tq * 2) : nullptr;
  tiled_attention_forward(g, s, kern.q_block, kern.k_block, value_of(g, q), value_of(g, k), value_of(g, v),
                          res.out.mutable_data(), stats);
  if (!res.out.requires_grad()) return;
  const int64_t qb = kern.q_block, kb = kern.k_block;
  g.set_backward(res.out, [=](Graph<T>& g, const Node<T>& out) {
    tiled_attention_backward(g, s, qb, kb, value_of(g, q), value_of(g, k), value_of(g, v), out.value, out.grad,
                             stats, grad_of(g, q), grad_of(g, k), grad_of(g, v));
  });
}
}  // namespace

void set_attention_kernel(const AttentionKernel& k) {
  if (k.q_block < 1 || k.k_block < 1)
    throw Error(fmt::format("attention kernel: blocks of {} queries and {} keys; both must be at least 1", k.q_block,
                            k.k_block));
  g_kernel = k;
}
const AttentionKernel& attention_kernel() { return g_kernel; }

namespace {
constexpr const char* kKernelNames[] = {"auto", "whole", "tiled"};  // in AttentionKernel::Kind's order
static_assert(std::size(kKernelNames) == AttentionKernel::tiled + 1, "a name for every kernel kind");
}  // namespace

const char* attention_kernel_name(AttentionKernel::Kind kind) {
  if (kind < 0 || (size_t)kind >= std::size(kKernelNames)) throw Error(fmt::format("attention kernel kind {}", (int)kind));
  return kKernelNames[kind];
}

AttentionKernel::Kind parse_attention_kernel(const std::string& name, const std::string& what) {
  for (size_t k = 0; k < std::size(kKernelNames); ++k)
    if (name == kKernelNames[k]) return AttentionKernel::Kind(k);
  throw Error(fmt::format("{}: '{}' is not one of {}", what, name, fmt::join(kKernelNames, ", ")));
}

void attention_kernel_from_env() {
  const char* v = std::getenv("ATTNLAB_ATTENTION");
  if (!v || !*v) return;
  g_kernel.kind = parse_attention_kernel(v, "ATTNLAB_ATTENTION");
}

// Two kernels: whole rows (below) and tiles (attention_tiled.cpp); attention_kernel() picks.
// The probabilities P (B*H*Tq*Tk) are the largest activation of a Transformer, so they are not
// kept for backward: the forward saves each row's max and 1/sum (B*H*Tq*2), and backward
// recomputes S = Q K^T and rebuilds P from them bit for bit, one (batch, head) at a time in a
// per-thread buffer (the FlashAttention trade: one more Tq x Tk x Dh gemm per head for O(T^2)
// less memory). P is kept only when the caller asks for the weights.
namespace {

void check_mask(const AttentionMask& mask, int64_t B, int64_t Tk, int64_t H) {
  if (!mask.key_padding.empty() && (int64_t)mask.key_padding.size() != B * Tk)
    throw Error(fmt::format("attention: key_padding has {} entries, want B*Tk = {}", mask.key_padding.size(), B * Tk));
  if (mask.query_offset < 0)
    throw Error(fmt::format("attention: query_offset {} is negative (query i has position i + offset >= 0)",
                            mask.query_offset));
  if (!mask.alibi_slopes.empty() && (int64_t)mask.alibi_slopes.size() != H)
    throw Error(fmt::format("attention: {} ALiBi slopes for {} heads, want one per head", mask.alibi_slopes.size(), H));
}

// res.out is made; this fills it from q, k and v (laid out as s says) and sets its backward.
template <class T>
void run_attention(Graph<T>& g, AttentionResult<T>& res, AttentionShape s, Operand oq, Operand ok, Operand ov,
                   const AttentionMask& mask, bool need_weights) {
  const int64_t B = s.B, Tq = s.Tq, Tk = s.Tk, D = s.D, H = s.H, Dh = s.Dh, ldq = s.ldq, ldkv = s.ldkv;
  const AttentionKernel kern = g_kernel;
  const bool tiled = !need_weights && (kern.kind == AttentionKernel::tiled ||
                                       (kern.kind == AttentionKernel::automatic && Tk >= (mask.causal ? kern.min_causal_keys : kern.min_keys)));
  uint8_t* pad = nullptr;
  if (!mask.key_padding.empty()) {
    pad = g.template scratch<uint8_t>(B * Tk);
    std::memcpy(pad, mask.key_padding.data(), B * Tk);
  }
  double* slopes = nullptr;
  if (!mask.alibi_slopes.empty()) {
    slopes = g.template scratch<double>(H);
    std::memcpy(slopes, mask.alibi_slopes.data(), H * sizeof(double));
  }
  s.pad = pad;
  s.slopes = slopes;
  if (tiled) {
    tiled_attention(g, res, s, kern, oq, ok, ov);
    return;
  }
  const bool keep_stats = res.out.requires_grad() && !need_weights;
  // One team thread per buffer: never more threads than (batch, head) pairs.
  const int threads = (int)std::min<int64_t>(omp_get_max_threads(), B * H);
  // Full P when the weights are wanted (backward then reads it); otherwise one Tq x Tk buffer
  // per thread, and the row statistics for backward.
  T* P = need_weights ? g.template scratch<T>(B * H * Tq * Tk) : g.workspace(threads * Tq * Tk);
  T* stats = keep_stats ? g.template scratch<T>(B * H * Tq * 2) : nullptr;
  const bool causal = mask.causal;
  const int64_t off = mask.query_offset;
  const T scale = T(1) / std::sqrt(T(Dh)), ninf = -std::numeric_limits<T>::infinity();
  // S = scale * Q_bh K_bh^T, plus ALiBi's bias, with the masks applied, into Sb (Tq x Tk). Both
  // forward and backward call it, so the replayed rows see the very same bits.
  auto scores = [=](const T* pq, const T* pk, int64_t b, int64_t h, T* Sb) {
    gemm<T>(false, true, Tq, Tk, Dh, scale, pq + b * Tq * ldq + h * Dh, ldq, pk + b * Tk * ldkv + h * Dh, ldkv, T(0),
            Sb, Tk);
    const uint8_t* padb = pad ? pad + b * Tk : nullptr;
    const double m = slopes ? slopes[h] : 0.0;
    for (int64_t i = 0; i < Tq; ++i) {
      T* row = Sb + i * Tk;
      const int64_t pos = i + off, last = causal ? std::min(pos, Tk - 1) : Tk - 1;  // last visible key
      for (int64_t j = last + 1; j < Tk; ++j) row[j] = ninf;
      if (!padb && !slopes) continue;
      for (int64_t j = 0; j <= last; ++j) {
        if (padb && padb[j])
          row[j] = ninf;
        else if (slopes)
          row[j] += T(-m * double(std::abs(pos - j)));  // |.|: an encoder's later keys too
      }
    }
  };
  const T *pq = value_of(g, oq), *pk = value_of(g, ok), *pv = value_of(g, ov);
  T* po = res.out.mutable_data();
#pragma omp parallel for num_threads(threads) if (B * H > 1)
  for (int64_t bh = 0; bh < B * H; ++bh) {
    const int64_t b = bh / H, h = bh % H;
    T* Pb = P + (need_weights ? bh : omp_get_thread_num()) * Tq * Tk;
    scores(pq, pk, b, h, Pb);
    for (int64_t i = 0; i < Tq; ++i)  // a row with no visible key becomes zeros
      softmax_row<T>(Pb + i * Tk, Pb + i * Tk, Tk, stats ? stats + (bh * Tq + i) * 2 : nullptr);
    gemm<T>(false, false, Tq, Dh, Tk, T(1), Pb, Tk, pv + b * Tk * ldkv + h * Dh, ldkv, T(0), po + b * Tq * D + h * Dh, D);
  }
  if (need_weights) res.weights = g.make_alias(kAttentionWeights, Shape{B, H, Tq, Tk}, P, false);
  if (!res.out.requires_grad()) return;
  g.set_backward(res.out, [=](Graph<T>& g, const Node<T>& out) {
    const GradBlocks<T> gb = grads_to_write(g, {oq, ok, ov});
    T *gq = gb.at[0], *gk = gb.at[1], *gv = gb.at[2];
    const T bq = gb.fresh[0] ? T(0) : T(1), bk = gb.fresh[1] ? T(0) : T(1), bv = gb.fresh[2] ? T(0) : T(1);
    const T *vq = value_of(g, oq), *vk = value_of(g, ok), *vv = value_of(g, ov), *go = out.grad;
    T* work = g.workspace(2 * threads * Tq * Tk);  // recomputed P and dS, per thread
#pragma omp parallel for num_threads(threads) if (B * H > 1)
    for (int64_t bh = 0; bh < B * H; ++bh) {
      const int64_t b = bh / H, h = bh % H;
      T* dSb = work + 2 * (int64_t)omp_get_thread_num() * Tq * Tk;
      T* Pb = need_weights ? P + bh * Tq * Tk : dSb + Tq * Tk;
      if (!need_weights) {
        scores(vq, vk, b, h, Pb);
        for (int64_t i = 0; i < Tq; ++i) softmax_row_replay<T>(Pb + i * Tk, Pb + i * Tk, Tk, stats + (bh * Tq + i) * 2);
      }
      const int64_t oo = b * Tq * D + h * Dh, oqq = b * Tq * ldq + h * Dh, okv = b * Tk * ldkv + h * Dh;
      if (gv) gemm<T>(true, false, Tk, Dh, Tq, T(1), Pb, Tk, go + oo, D, bv, gv + okv, ldkv);
      if (!gq && !gk) continue;
      gemm<T>(false, true, Tq, Tk, Dh, T(1), go + oo, D, vv + okv, ldkv, T(0), dSb, Tk);  // dP
      for (int64_t i = 0; i < Tq; ++i) {  // dS = P * (dP - rowsum(dP * P))
        T* d = dSb + i * Tk;
        const T* p = Pb + i * Tk;
        T dot = 0;
#pragma omp simd reduction(+ : dot)
        for (int64_t j = 0; j < Tk; ++j) dot += d[j] * p[j];
        for (int64_t j = 0; j < Tk; ++j) d[j] = p[j] * (d[j] - dot);
      }
      if (gq) gemm<T>(false, false, Tq, Dh, Tk, scale, dSb, Tk, vk + okv, ldkv, bq, gq + oqq, ldq);
      if (gk) gemm<T>(true, false, Tk, Dh, Tq, scale, dSb, Tk, vq + oqq, ldq, bk, gk + okv, ldkv);
    }
  });
}

}  // namespace

template <class T>
AttentionResult<T> attention(const Tensor<T>& q, const Tensor<T>& k, const Tensor<T>& v, int heads,
                             const AttentionMask& mask, bool need_weights) {
  Graph<T>& g = q.graph();
  g.check(k, "attention");
  g.check(v, "attention");
  const Shape sq = q.shape(), sk = k.shape();
  if (sq.ndim() != 3 || sk.ndim() != 3 || v.shape() != sk || sq[0] != sk[0] || sq[2] != sk[2] ||
      heads < 1 || sq[2] % heads != 0)
    throw Error(fmt::format("attention: q {}, k {}, v {} with {} heads: want q [B, Tq, D], k and v "
                            "[B, Tk, D], D divisible by heads",
                            sq.str(), sk.str(), v.shape().str(), heads));
  const int64_t B = sq[0], Tq = sq[1], Tk = sk[1], D = sq[2], H = heads;
  check_mask(mask, B, Tk, H);
  AttentionResult<T> res;
  res.out = g.make(kAttention, sq, {&q, &k, &v});
  run_attention(g, res, AttentionShape{B, Tq, Tk, D, H, D / H, D, D, nullptr, nullptr, mask.causal, mask.query_offset},
                {q.index(), 0}, {k.index(), 0}, {v.index(), 0}, mask, need_weights);
  return res;
}

template <class T>
AttentionResult<T> attention_qkv(const Tensor<T>& qkv, int heads, const AttentionMask& mask, bool need_weights) {
  Graph<T>& g = qkv.graph();
  const Shape s = qkv.shape();
  if (s.ndim() != 3 || heads < 1 || s[2] % (3 * heads) != 0)
    throw Error(fmt::format("attention_qkv: qkv {} with {} heads: want [B, T, 3 D], D divisible by heads", s.str(),
                            heads));
  const int64_t B = s[0], T_ = s[1], D = s[2] / 3, H = heads;
  check_mask(mask, B, T_, H);
  AttentionResult<T> res;
  res.out = g.make(kAttentionQkv, Shape{B, T_, D}, {&qkv});
  const uint32_t i = qkv.index();
  run_attention(g, res, AttentionShape{B, T_, T_, D, H, D / H, 3 * D, 3 * D, nullptr, nullptr, mask.causal, mask.query_offset},
                {i, 0}, {i, D}, {i, 2 * D}, mask, need_weights);
  return res;
}

template <class T>
AttentionResult<T> attention_q_kv(const Tensor<T>& q, const Tensor<T>& kv, int heads, const AttentionMask& mask,
                                  bool need_weights) {
  Graph<T>& g = q.graph();
  g.check(kv, "attention_q_kv");
  const Shape sq = q.shape(), skv = kv.shape();
  if (sq.ndim() != 3 || skv.ndim() != 3 || sq[0] != skv[0] || skv[2] != 2 * sq[2] || heads < 1 || sq[2] % heads != 0)
    throw Error(fmt::format("attention_q_kv: q {}, kv {} with {} heads: want q [B, Tq, D], kv [B, Tk, 2 D], D "
                            "divisible by heads",
                            sq.str(), skv.str(), heads));
  const int64_t B = sq[0], Tq = sq[1], Tk = skv[1], D = sq[2], H = heads;
  check_mask(mask, B, Tk, H);
  AttentionResult<T> res;
  res.out = g.make(kAttentionQKv, sq, {&q, &kv});
  run_attention(g, res, AttentionShape{B, Tq, Tk, D, H, D / H, D, 2 * D, nullptr, nullptr, mask.causal, mask.query_offset},
                {q.index(), 0}, {kv.index(), 0}, {kv.index(), D}, mask, need_weights);
  return res;
}

#define ATTN_INSTANTIATE(T)                                                                                      \
  template AttentionResult<T> attention(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, int,              \
                                        const AttentionMask&, bool);                                             \
  template AttentionResult<T> attention_qkv(const Tensor<T>&, int, const AttentionMask&, bool);                 \
  template AttentionResult<T> attention_q_kv(const Tensor<T>&, const Tensor<T>&, int, const AttentionMask&, bool);
ATTN_INSTANTIATE(float)
ATTN_INSTANTIATE(double)
#undef ATTN_INSTANTIATE

std::vector<double> alibi_slopes(int heads) {
  if (heads < 1) throw Error(fmt::format("alibi_slopes: {} heads, want at least 1", heads));
  // get_slopes_power_of_2(n) is start^k for k = 1..n with start = 2^(-2^-(log2(n) - 3)) = 2^(-8/n).
  auto power_of_2 = [](int n, int step, int count, std::vector<double>& out) {
    for (int k = 1; count > 0; k += step, --count) out.push_back(std::exp2(-8.0 * k / n));
  };
  int p = 1;
  while (p <= heads / 2) p *= 2;
  std::vector<double> s;
  power_of_2(p, 1, p, s);
  if (p < heads) power_of_2(2 * p, 2, heads - p, s);  // get_slopes(2p)[0::2][:n - p]
  return s;
}

void add_attention_ops(std::vector<const OpDef*>& ops) {
  ops.insert(ops.end(), {&kAttention, &kAttentionQkv, &kAttentionQKv, &kAttentionWeights});
}

}  // namespace attn
