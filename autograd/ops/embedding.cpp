// Embedding lookup: rows of weight [V, D] gathered by id; backward scatter-adds into the rows.
#include <fmt/format.h>

#include <cstring>

#include "autograd/gradcheck.hpp"
#include "autograd/ops/reference.hpp"
#include "autograd/ops/registry.hpp"
#include "autograd/ops.hpp"

namespace attn {
namespace {
const OpDef kEmbedding("embedding");
}

template <class T>
Tensor<T> embedding(const Tensor<T>& weight, const std::vector<int>& ids, const Shape& ids_shape) {
  Graph<T>& g = weight.graph();
  g.check(weight, "embedding");
  if (weight.ndim() != 2) throw Error(fmt::format("embedding: weight {} is not [V, D]", weight.shape().str()));
  const int64_t V = weight.shape()[0], D = weight.shape()[1], n = ids_shape.numel();
  if ((int64_t)ids.size() != n)
    throw Error(fmt::format("embedding: {} ids given for shape {}", ids.size(), ids_shape.str()));
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= V)
      throw Error(fmt::format("embedding: id {} (position {}) is out of range for a table of {} rows", ids[i], i, V));
  Shape so = ids_shape;
  so.push_back(D);
  Tensor<T> y = g.make(kEmbedding, so, {&weight});
  const T* w = weight.data();
  T* py = y.mutable_data();
  for (int64_t i = 0; i < n; ++i) std::memcpy(py + i * D, w + (int64_t)ids[i] * D, sizeof(T) * D);
  if (!y.requires_grad()) return y;
  int* saved = g.template scratch<int>(n);
  std::memcpy(saved, ids.data(), sizeof(int) * n);
  const uint32_t iw = weight.index();
  g.set_backward(y, [=](Graph<T>& g, const Node<T>& out) {
    T* gw = g.grad_of(iw);
    for (int64_t i = 0; i < n; ++i) {  // serial: repeated ids add into the same row
      T* row = gw + (int64_t)saved[i] * D;
      const T* gr = out.grad + i * D;
      for (int64_t j = 0; j < D; ++j) row[j] += gr[j];
    }
  });
  return y;
}

template Tensor<float> embedding(const Tensor<float>&, const std::vector<int>&, const Shape&);
template Tensor<double> embedding(const Tensor<double>&, const std::vector<int>&, const Shape&);

namespace {
void cases(std::vector<GradCase>& out) {
  InputSpec w;
  w.shape = {5, 3};
  const std::vector<int> ids = {4, 0, 4, 2, 1, 4};  // repeated ids accumulate
  auto ref = [ids](const std::vector<std::vector<double>>& v) { return ref::embedding(v[0], 3, ids); };
  out.push_back(make_case("embedding", "repeated_ids", {w}, [ids](auto& x) { return embedding(x[0], ids, {2, 3}); }, ref));
  InputSpec w1;
  w1.shape = {2, 4};
  out.push_back(make_case("embedding", "batch1", {w1}, [](auto& x) { return embedding(x[0], {1}, {1, 1}); },
                          [](const std::vector<std::vector<double>>& v) {
                            return ref::embedding(v[0], 4, {1});
                          }));
}
}  // namespace

void add_embedding_ops(std::vector<const OpDef*>& ops) { ops.insert(ops.end(), {&kEmbedding}); }
void add_embedding_cases(std::vector<GradCase>& out) { cases(out); }

}  // namespace attn
