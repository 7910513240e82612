// Random leaves for the engine tests.
#pragma once
#include <vector>

#include "autograd/rng.hpp"
#include "autograd/tensor.hpp"

namespace attn_test {

// A leaf with values drawn from U(-bound, bound), in the generator's order.
template <class T>
attn::Tensor<T> uniform_leaf(attn::Graph<T>& g, attn::Rng& rng, const attn::Shape& s, double bound,
                             bool requires_grad = true) {
  std::vector<T> v(s.numel());
  for (T& e : v) e = T(rng.uniform() * 2 * bound - bound);
  return g.tensor(s, v, requires_grad);
}

}  // namespace attn_test
