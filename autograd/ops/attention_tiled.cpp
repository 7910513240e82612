// The attention op's tiled kernel (FlashAttention's forward and backward, Dao et al. 2022;
// FlashAttention-2's loop order). Per (batch, head) and block of queries, blocks of keys and
// values stream through an online softmax; scale, masks, ALiBi and exp are applied inside the
// tile. Only the row statistics outlive the forward; backward recomputes every tile's scores.
// The tile products are BLAS gemms on the packed [B, T, D] layout (a head's columns through the
// leading dimension), so no head is copied.
#include "autograd/ops/attention_tiled.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/blas.hpp"
#include "autograd/ops/softmax_rows.hpp"
#include "autograd/tensor.hpp"

namespace attn {

namespace {

// The last key query i (a row of the block starting at i0) sees.
inline int64_t last_key(const AttentionShape& s, int64_t i) {
  return s.causal ? std::min(i + s.offset, s.Tk - 1) : s.Tk - 1;
}

// S = scale * Q[i0 : i0+nq] K[j0 : j0+nk]^T of head (b, h), masked and biased, into S (ld nk).
template <class T>
void score_tile(const AttentionShape& s, const T* q, const T* k, int64_t b, int64_t h, int64_t i0, int64_t nq,
                int64_t j0, int64_t nk, T scale, T* S) {
  gemm<T>(false, true, nq, nk, s.Dh, scale, q + (b * s.Tq + i0) * s.ldq + h * s.Dh, s.ldq,
          k + (b * s.Tk + j0) * s.ldkv + h * s.Dh, s.ldkv, T(0), S, nk);
  const T ninf = -std::numeric_limits<T>::infinity();
  const uint8_t* pad = s.pad ? s.pad + b * s.Tk + j0 : nullptr;
  const double m = s.slopes ? s.slopes[h] : 0.0;
  for (int64_t i = 0; i < nq; ++i) {
    T* row = S + i * nk;
    const int64_t pos = i0 + i + s.offset, visible = std::clamp<int64_t>(last_key(s, i0 + i) - j0 + 1, 0, nk);
    for (int64_t j = visible; j < nk; ++j) row[j] = ninf;
    if (!pad && !s.slopes) continue;
    for (int64_t j = 0; j < visible; ++j) {
      if (pad && pad[j])
        row[j] = ninf;
      else if (s.slopes)
        row[j] += T(-m * double(std::abs(pos - (j0 + j))));
    }
  }
}

// The keys the block of queries [i0, i0 + nq) sees at all: [0, end).
inline int64_t keys_seen(const AttentionShape& s, int64_t i0, int64_t nq) { return last_key(s, i0 + nq - 1) + 1; }

// One block of queries: O = softmax(S) V over every key block, rescaling as the row max grows.
// The output rows themselves accumulate P V; m and l are the running max and sum.
template <class T>
void forward_block(const AttentionShape& s, int64_t q_block, int64_t k_block, const T* q, const T* k, const T* v,
                   T* out, T* stats, int64_t bh, int64_t i0, T* S, T* m, T* l) {
  const int64_t b = bh / s.H, h = bh % s.H, nq = std::min(q_block, s.Tq - i0), end = keys_seen(s, i0, nq);
  const T scale = T(1) / std::sqrt(T(s.Dh)), ninf = -std::numeric_limits<T>::infinity();
  T* o = out + (b * s.Tq + i0) * s.D + h * s.Dh;
  for (int64_t i = 0; i < nq; ++i) {
    m[i] = ninf, l[i] = 0;
    std::fill(o + i * s.D, o + i * s.D + s.Dh, T(0));
  }
  for (int64_t j0 = 0; j0 < end; j0 += k_block) {
    const int64_t nk = std::min(k_block, end - j0);
    score_tile(s, q, k, b, h, i0, nq, j0, nk, scale, S);
    for (int64_t i = 0; i < nq; ++i) {
      T* row = S + i * nk;
      const T top = std::max(m[i], row_max_of(row, nk));
      if (top == ninf) {  // nothing visible yet: the row stays zero
        std::fill(row, row + nk, T(0));
        continue;
      }
      const T shrink = m[i] == ninf ? T(0) : std::exp(m[i] - top);
      l[i] = l[i] * shrink + exp_row(row, row, nk, top);
      m[i] = top;
      if (shrink != T(1))
        for (int64_t d = 0; d < s.Dh; ++d) o[i * s.D + d] *= shrink;
    }
    gemm<T>(false, false, nq, s.Dh, nk, T(1), S, nk, v + (b * s.Tk + j0) * s.ldkv + h * s.Dh, s.ldkv, T(1), o, s.D);
  }
  for (int64_t i = 0; i < nq; ++i) {
    const T inv = l[i] > 0 ? T(1) / l[i] : T(0);  // a row with no visible key stays zero
    for (int64_t d = 0; d < s.Dh; ++d) o[i * s.D + d] *= inv;
    if (stats) stats[(bh * s.Tq + i0 + i) * 2] = m[i], stats[(bh * s.Tq + i0 + i) * 2 + 1] = inv;
  }
}

}  // namespace

template <class T>
void tiled_attention_forward(Graph<T>& g, const AttentionShape& s, int64_t q_block, int64_t k_block, const T* q,
                             const T* k, const T* v, T* out, T* stats) {
  const int64_t blocks = (s.Tq + q_block - 1) / q_block, jobs = s.B * s.H * blocks;
  const int threads = (int)std::min<int64_t>(omp_get_max_threads(), jobs);
  const int64_t per_thread = q_block * k_block + 2 * q_block;
  T* work = g.workspace(threads * per_thread);
#pragma omp parallel for num_threads(threads) if (jobs > 1) schedule(dynamic)
  for (int64_t job = 0; job < jobs; ++job) {
    T* S = work + omp_get_thread_num() * per_thread;
    forward_block(s, q_block, k_block, q, k, v, out, stats, job / blocks, (job % blocks) * q_block, S,
                  S + q_block * k_block, S + q_block * k_block + q_block);
  }
}

template <class T>
void tiled_attention_backward(Graph<T>& g, const AttentionShape& s, int64_t q_block, int64_t k_block, const T* q,
                              const T* k, const T* v, const T* out, const T* dout, const T* stats, T* dq, T* dk,
                              T* dv) {
  const int64_t pairs = s.B * s.H;
  const int threads = (int)std::min<int64_t>(omp_get_max_threads(), pairs);
  const int64_t per_thread = 2 * q_block * k_block + s.Tq;
  T* work = g.workspace(threads * per_thread);
  const T scale = T(1) / std::sqrt(T(s.Dh)), ninf = -std::numeric_limits<T>::infinity();
  // One (batch, head) per thread: its dk and dv columns gather over every block of queries.
#pragma omp parallel for num_threads(threads) if (pairs > 1) schedule(dynamic)
  for (int64_t bh = 0; bh < pairs; ++bh) {
    const int64_t b = bh / s.H, h = bh % s.H;
    T* P = work + omp_get_thread_num() * per_thread;
    T *dS = P + q_block * k_block, *rowdot = dS + q_block * k_block;
    const int64_t head = h * s.Dh;
    // rowsum(dP * P) = rowsum(dO * O) (FlashAttention-2), from the saved output.
    for (int64_t i = 0; i < s.Tq; ++i) {
      const T *o = out + (b * s.Tq + i) * s.D + head, *go = dout + (b * s.Tq + i) * s.D + head;
      T dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int64_t d = 0; d < s.Dh; ++d) dot += o[d] * go[d];
      rowdot[i] = dot;
    }
    for (int64_t i0 = 0; i0 < s.Tq; i0 += q_block) {
      const int64_t nq = std::min(q_block, s.Tq - i0), end = keys_seen(s, i0, nq);
      const int64_t oo = (b * s.Tq + i0) * s.D + head, oq = (b * s.Tq + i0) * s.ldq + head;  // out's, q's
      for (int64_t j0 = 0; j0 < end; j0 += k_block) {
        const int64_t nk = std::min(k_block, end - j0), okv = (b * s.Tk + j0) * s.ldkv + head;
        score_tile(s, q, k, b, h, i0, nq, j0, nk, scale, P);
        for (int64_t i = 0; i < nq; ++i) {
          const T* st = stats + (bh * s.Tq + i0 + i) * 2;
          T* row = P + i * nk;
          if (st[0] == ninf) std::fill(row, row + nk, T(0));
          else {
            exp_row(row, row, nk, st[0]);
            for (int64_t j = 0; j < nk; ++j) row[j] *= st[1];
          }
        }
        if (dv) gemm<T>(true, false, nk, s.Dh, nq, T(1), P, nk, dout + oo, s.D, T(1), dv + okv, s.ldkv);
        if (!dq && !dk) continue;
        gemm<T>(false, true, nq, nk, s.Dh, T(1), dout + oo, s.D, v + okv, s.ldkv, T(0), dS, nk);  // dP
        for (int64_t i = 0; i < nq; ++i) {  // dS = P * (dP - rowsum(dO * O))
          T* d = dS + i * nk;
          const T* p = P + i * nk;
          const T r = rowdot[i0 + i];
          for (int64_t j = 0; j < nk; ++j) d[j] = p[j] * (d[j] - r);
        }
        if (dq) gemm<T>(false, false, nq, s.Dh, nk, scale, dS, nk, k + okv, s.ldkv, T(1), dq + oq, s.ldq);
        if (dk) gemm<T>(true, false, nk, s.Dh, nq, scale, dS, nk, q + oq, s.ldq, T(1), dk + okv, s.ldkv);
      }
    }
  }
}

template void tiled_attention_forward(Graph<float>&, const AttentionShape&, int64_t, int64_t, const float*,
                                      const float*, const float*, float*, float*);
template void tiled_attention_forward(Graph<double>&, const AttentionShape&, int64_t, int64_t, const double*,
                                      const double*, const double*, double*, double*);
template void tiled_attention_backward(Graph<float>&, const AttentionShape&, int64_t, int64_t, const float*,
                                       const float*, const float*, const float*, const float*, const float*, float*,
                                       float*, float*);
template void tiled_attention_backward(Graph<double>&, const AttentionShape&, int64_t, int64_t, const double*,
                                       const double*, const double*, const double*, const double*, const double*,
                                       double*, double*, double*);

}  // namespace attn
