// Loops shared by the op files: broadcast iteration and a parallel-for threshold.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "autograd/shape.hpp"

namespace attn {

// Below this many elements, an OpenMP region costs more than it saves.
constexpr int64_t kParallelMin = 1 << 15;
// Below this many multiply-adds, a gemm with its epilogue runs on one thread.
constexpr int64_t kGemmSplitMin = 1 << 20;

// This thread's share [begin, end) of n items in the current OpenMP team (all of them outside a
// region), with inner boundaries on multiples of `align`.
inline std::pair<int64_t, int64_t> team_block(int64_t n, int64_t align) {
  const int t = omp_get_thread_num(), nt = omp_get_num_threads();
  auto edge = [&](int i) { return i == nt ? n : std::min(n, n * i / nt / align * align); };
  return {edge(t), edge(t + 1)};
}

// Strides of `in` as seen from `out` under NumPy broadcasting (0 on broadcast dimensions).
inline std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<int64_t> st(out.ndim(), 0);
  int64_t acc = 1;
  for (int i = in.ndim() - 1, o = out.ndim() - 1; i >= 0; --i, --o) {
    st[o] = in[i] == 1 ? 0 : acc;
    acc *= in[i];
  }
  return st;
}

// Calls f(i_out, i_a, i_b) for every element of `out`, where i_a and i_b are the offsets of the
// broadcast inputs. The innermost dimension runs as a tight loop. Serial: callers that
// accumulate into broadcast inputs rely on that.
template <class F>
void for_each_broadcast(const Shape& out, const std::vector<int64_t>& sa,
                        const std::vector<int64_t>& sb, F f) {
  const int nd = out.ndim();
  if (nd == 0) {
    f(0, 0, 0);
    return;
  }
  const int64_t inner = out[nd - 1], total = out.numel();
  if (total == 0) return;
  const int64_t ia_in = sa[nd - 1], ib_in = sb[nd - 1];
  int64_t idx[kMaxDims] = {};
  int64_t oa = 0, ob = 0;
  for (int64_t base = 0; base < total; base += inner) {
    for (int64_t j = 0; j < inner; ++j) f(base + j, oa + j * ia_in, ob + j * ib_in);
    for (int d = nd - 2; d >= 0; --d) {  // advance the outer counter
      if (++idx[d] < out[d]) {
        oa += sa[d];
        ob += sb[d];
        break;
      }
      oa -= sa[d] * (out[d] - 1);
      ob -= sb[d] * (out[d] - 1);
      idx[d] = 0;
    }
  }
}

}  // namespace attn
