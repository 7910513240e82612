#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "autograd/ops/registry.hpp"
#include "autograd/tensor.hpp"

namespace attn {

static const OpDef kLeaf("leaf", false);
static const OpDef kDetach("detach", false);
void add_graph_ops(std::vector<const OpDef*>& ops) { ops.insert(ops.end(), {&kLeaf, &kDetach}); }

// ---------------------------------------------------------------- Tensor

template <class T>
const Node<T>& Tensor<T>::node() const {
  if (!g_) throw Error("use of an undefined tensor");
  if (gen_ != g_->gen_ || idx_ >= g_->nodes_.size())
    throw Error("use of a tensor whose graph was reset");
  return g_->nodes_[idx_];
}

template <class T>
const char* Tensor<T>::op_name() const {
  return node().op ? node().op->name : "?";
}

template <class T>
const T* Tensor<T>::grad() const {
  const Node<T>& n = node();
  if (n.grad_released)
    throw Error(fmt::format("the gradient of this non-leaf tensor ('{}', shape {}) was recycled during backward; "
                            "call retain_grad() on it before backward to keep it",
                            n.op ? n.op->name : "?", n.shape.str()));
  return n.grad;
}

template <class T>
void Tensor<T>::retain_grad() const {
  node();
  g_->nodes_[idx_].retain_grad = true;
}

template <class T>
T Tensor<T>::item() const {
  if (numel() != 1)
    throw Error(fmt::format("item: tensor of shape {} has {} elements, not 1", shape().str(), numel()));
  return data()[0];
}

template <class T>
std::vector<T> Tensor<T>::values() const {
  return std::vector<T>(data(), data() + numel());
}

template <class T>
std::vector<T> Tensor<T>::grad_values() const {
  const T* gr = grad();
  if (!gr) return std::vector<T>(numel(), T(0));
  return std::vector<T>(gr, gr + numel());
}

// ---------------------------------------------------------------- Graph

template <class T>
Graph<T>::Graph() {
  nodes_.reserve(1024);
}

template <class T>
void Graph<T>::check(const Tensor<T>& t, const char* op) const {
  if (!t.defined()) throw Error(fmt::format("{}: an input tensor is undefined", op));
  if (t.g_ != this) throw Error(fmt::format("{}: an input tensor belongs to another graph", op));
  t.node();  // throws when stale
}

template <class T>
Tensor<T> Graph<T>::make(const OpDef& op, const Shape& s,
                         std::initializer_list<const Tensor<T>*> inputs) {
  bool rg = false;
  for (const Tensor<T>* in : inputs) {
    check(*in, op.name);
    rg = rg || nodes_[in->idx_].requires_grad;
  }
  if (detect_anomaly_)
    for (; checked_ < nodes_.size(); ++checked_) check_finite(checked_);
  if (released_) released_ = false;
  Node<T> n;
  n.shape = s;
  n.value = arena_.allocate_n<T>(s.numel());
  n.op = &op;
  n.requires_grad = rg && grad_enabled_;
  nodes_.push_back(std::move(n));
  return Tensor<T>(this, (uint32_t)nodes_.size() - 1, gen_);
}

template <class T>
Tensor<T> Graph<T>::make(const OpDef& op, const Shape& s, const std::vector<Tensor<T>>& inputs) {
  bool rg = false;
  for (const Tensor<T>& in : inputs) {
    check(in, op.name);
    rg = rg || nodes_[in.idx_].requires_grad;
  }
  Tensor<T> out = make(op, s, {});
  nodes_[out.idx_].requires_grad = rg && grad_enabled_;
  return out;
}

template <class T>
Tensor<T> Graph<T>::make_alias(const OpDef& op, const Shape& s, T* value, bool requires_grad) {
  if (detect_anomaly_)
    for (; checked_ < nodes_.size(); ++checked_) check_finite(checked_);
  Node<T> n;
  n.shape = s;
  n.value = value;
  n.aliased = true;
  n.op = &op;
  n.requires_grad = requires_grad && grad_enabled_;
  nodes_.push_back(std::move(n));
  return Tensor<T>(this, (uint32_t)nodes_.size() - 1, gen_);
}

template <class T>
void Graph<T>::set_backward(const Tensor<T>& out,
                            std::function<void(Graph<T>&, const Node<T>&)> fn) {
  Node<T>& n = nodes_[out.idx_];
  if (n.requires_grad) n.backward = std::move(fn);
}

template <class T>
Tensor<T> Graph<T>::tensor(const Shape& s, const std::vector<T>& values, bool requires_grad) {
  if ((int64_t)values.size() != s.numel())
    throw Error(fmt::format("tensor: {} values given for shape {} ({} elements)", values.size(),
                            s.str(), s.numel()));
  Tensor<T> t = zeros(s, requires_grad);
  std::copy(values.begin(), values.end(), t.mutable_data());
  return t;
}

template <class T>
Tensor<T> Graph<T>::full(const Shape& s, T value, bool requires_grad) {
  Tensor<T> t = make(kLeaf, s, {});
  Node<T>& n = nodes_[t.idx_];
  std::fill(n.value, n.value + s.numel(), value);
  n.requires_grad = requires_grad;  // leaves may require grad even in no-grad mode
  n.is_leaf = true;
  return t;
}

template <class T>
Tensor<T> Graph<T>::zeros(const Shape& s, bool requires_grad) {
  return full(s, T(0), requires_grad);
}

template <class T>
Tensor<T> Graph<T>::external(const Shape& s, T* value, T* grad) {
  Tensor<T> t = make_alias(kLeaf, s, value, false);
  Node<T>& n = nodes_[t.idx_];
  n.grad = grad;
  n.requires_grad = grad != nullptr;
  n.is_leaf = true;
  return t;
}

template <class T>
T* Graph<T>::grad_to_write(uint32_t i, bool* fresh) {
  Node<T>& n = nodes_[i];
  *fresh = false;
  if (!n.requires_grad) return nullptr;
  if (!n.grad) {
    n.grad = n.is_leaf ? arena_.allocate_n<T>(n.shape.numel()) : take_grad_buffer(n.shape.numel());
    n.grad_released = false;
    *fresh = true;
  }
  return n.grad;
}

template <class T>
T* Graph<T>::grad_of(uint32_t i) {
  bool fresh;
  T* g = grad_to_write(i, &fresh);
  if (fresh) std::memset(g, 0, sizeof(T) * (size_t)nodes_[i].shape.numel());
  return g;
}

template <class T>
std::vector<T*>& Graph<T>::free_list(int64_t count) {
  for (auto& [n, list] : free_grads_)
    if (n == count) return list;
  return free_grads_.emplace_back(count, std::vector<T*>()).second;
}

template <class T>
T* Graph<T>::take_grad_buffer(int64_t count) {
  grad_live_ += sizeof(T) * (size_t)count;
  grad_peak_ = std::max(grad_peak_, grad_live_);
  std::vector<T*>& list = free_list(count);
  if (list.empty()) return arena_.allocate_n<T>(count);
  T* p = list.back();
  list.pop_back();
  return p;
}

template <class T>
void Graph<T>::release_grad(Node<T>& n) {
  if (!n.grad || n.is_leaf || n.retain_grad) return;
  const int64_t count = n.shape.numel();
  free_list(count).push_back(n.grad);
  grad_live_ -= sizeof(T) * (size_t)count;
  n.grad = nullptr;
  n.grad_released = true;
}

template <class T>
void Graph<T>::check_finite(uint32_t i) const {
  const Node<T>& n = nodes_[i];
  const int64_t N = n.shape.numel();
  for (int64_t j = 0; j < N; ++j)
    if (!std::isfinite(n.value[j]))
      throw Error(fmt::format("anomaly: op '{}' (node {}, shape {}) produced a non-finite value {}",
                              n.op->name, i, n.shape.str(), n.value[j]));
}

template <class T>
void Graph<T>::check_grads_finite(const Node<T>& producer) const {
  for (const Node<T>& n : nodes_) {
    if (!n.grad) continue;
    const int64_t N = n.shape.numel();
    for (int64_t j = 0; j < N; ++j)
      if (!std::isfinite(n.grad[j]))
        throw Error(fmt::format("anomaly: the backward of op '{}' produced a non-finite gradient",
                                producer.op->name));
  }
}

template <class T>
void Graph<T>::backward(const Tensor<T>& root) {
  check(root, "backward");
  if (root.numel() != 1)
    throw Error(fmt::format("backward: the root has shape {}; pass an upstream gradient for a "
                            "tensor with more than one element",
                            root.shape().str()));
  const T one = T(1);
  backward(root, &one);
}

template <class T>
void Graph<T>::backward(const Tensor<T>& root, const T* upstream) {
  check(root, "backward");
  if (released_) throw Error("backward: this graph was already run backward; reset() it and rebuild");
  if (!root.requires_grad())
    throw Error("backward: the root does not require grad (no input requires grad, or grad mode was off)");
  if (detect_anomaly_)
    for (; checked_ < nodes_.size(); ++checked_) check_finite(checked_);
  T* g = grad_of(root.idx_);
  const int64_t N = root.numel();
  for (int64_t j = 0; j < N; ++j) g[j] += upstream[j];
  for (int64_t i = root.idx_; i >= 0; --i) {
    Node<T>& n = nodes_[i];
    if (n.grad && n.backward) {
      n.backward(*this, n);
      if (detect_anomaly_) check_grads_finite(n);
    }
    release_grad(n);
  }
  for (Node<T>& n : nodes_) n.backward = nullptr;  // release saved state
  released_ = true;
}

template <class T>
void Graph<T>::reset() {
  nodes_.clear();
  arena_.reset();
  for (auto& e : free_grads_) e.second.clear();  // keeps capacity: no heap traffic next step
  grad_live_ = grad_peak_ = 0;
  workspace_ = nullptr;
  workspace_n_ = 0;
  ++gen_;
  checked_ = 0;
  released_ = false;
}

template <class T>
Tensor<T> detach(const Tensor<T>& x) {
  Graph<T>& g = x.graph();
  g.check(x, "detach");
  return g.make_alias(kDetach, x.shape(), x.mutable_data(), false);
}

template class Tensor<float>;
template class Tensor<double>;
template class Graph<float>;
template class Graph<double>;
template Tensor<float> detach(const Tensor<float>&);
template Tensor<double> detach(const Tensor<double>&);

}  // namespace attn
