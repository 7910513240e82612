// The engine's core: a Graph (a tape of nodes whose buffers live in an arena) and Tensor, a
// cheap handle to one node of it. Nodes are appended in creation order, which is already a
// topological order, so backward is one reverse loop with no recursion.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "autograd/arena.hpp"
#include "autograd/shape.hpp"

namespace attn {

// Every differentiable op is defined by one OpDef object, listed in autograd_ops() so that the
// gradcheck suite can find every op and fail on one with no check case.
struct OpDef {
  // `differentiable` is false for nodes that pass no gradient by design (leaves, detach,
  // attention weights); gradcheck's coverage rule applies to the others.
  constexpr explicit OpDef(const char* name, bool differentiable = true)
      : name(name), differentiable(differentiable) {}
  const char* name;
  bool differentiable;
};
// Every OpDef of the engine, from the explicit list in autograd/ops/registry.cpp.
std::vector<const OpDef*> autograd_ops();

template <class T>
class Graph;

template <class T>
struct Node {
  Shape shape;
  T* value = nullptr;
  T* grad = nullptr;  // allocated (zeroed) when a gradient first flows here
  const OpDef* op = nullptr;
  bool requires_grad = false;
  bool is_leaf = false;
  bool aliased = false;        // value points into another node's buffer or outside the arena
  bool retain_grad = false;    // keep a non-leaf's gradient after its backward has run
  bool grad_released = false;  // its gradient went back to the pool during backward
  // Pushes this node's grad to its inputs, accumulating (+=). Captures what it needs, never the
  // node itself.
  std::function<void(Graph<T>&, const Node<T>&)> backward;
};

template <class T>
class Tensor {
 public:
  Tensor() = default;
  bool defined() const { return g_ != nullptr; }
  // By value: the node lives in the tape's vector, which moves when the tape grows, so a
  // reference would dangle after the next op (a held `const Shape&` binds to this copy).
  Shape shape() const { return node().shape; }
  int ndim() const { return shape().ndim(); }
  int64_t numel() const { return shape().numel(); }
  int64_t size(int axis) const { return shape().size(axis); }
  const T* data() const { return node().value; }
  // Writable values: meant for filling inputs and parameters, not for changing a value that an
  // op has already consumed.
  T* mutable_data() const { return node().value; }
  // Leaves keep their gradients. A non-leaf's gradient is recycled once its own backward has
  // run (as in PyTorch), unless retain_grad() was called before backward; reading a recycled
  // gradient throws.
  const T* grad() const;
  void retain_grad() const;
  bool requires_grad() const { return node().requires_grad; }
  const char* op_name() const;
  T item() const;
  std::vector<T> values() const;
  std::vector<T> grad_values() const;  // zeros when no gradient reached this tensor
  Graph<T>& graph() const { return *g_; }
  uint32_t index() const { return idx_; }
  const Node<T>& node() const;

 private:
  friend class Graph<T>;
  Tensor(Graph<T>* g, uint32_t idx, uint32_t gen) : g_(g), idx_(idx), gen_(gen) {}
  Graph<T>* g_ = nullptr;
  uint32_t idx_ = 0;
  uint32_t gen_ = 0;
};

template <class T>
class Graph {
 public:
  Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // ---- creating leaves ----
  Tensor<T> tensor(const Shape& s, const std::vector<T>& values, bool requires_grad = false);
  Tensor<T> zeros(const Shape& s, bool requires_grad = false);
  Tensor<T> full(const Shape& s, T value, bool requires_grad = false);
  // A leaf over memory owned elsewhere (a parameter). With a non-null `grad`, gradients
  // accumulate straight into it.
  Tensor<T> external(const Shape& s, T* value, T* grad);

  // ---- backward ----
  // From a one-element tensor (upstream gradient 1), or from any tensor with an explicit
  // upstream gradient of its size. Afterwards the graph's saved state is released; values, the
  // gradients of leaves and of retained tensors (Tensor::retain_grad) stay readable until
  // reset(); other gradients are recycled during backward.
  void backward(const Tensor<T>& root);
  void backward(const Tensor<T>& root, const T* upstream);
  // Drops every node and rewinds the arena. Handles from before become invalid.
  void reset();

  bool grad_enabled() const { return grad_enabled_; }
  void set_grad_enabled(bool on) { grad_enabled_ = on; }
  // Check each op's output (and, in backward, each op's input gradients) for NaN or Inf, and
  // throw naming the first op that produced one.
  void set_detect_anomaly(bool on) { detect_anomaly_ = on; }
  size_t num_nodes() const { return nodes_.size(); }
  const Arena& arena() const { return arena_; }
  // Bytes of non-leaf gradients alive at once: now, and the most since reset().
  size_t grad_bytes_live() const { return grad_live_; }
  size_t grad_bytes_peak() const { return grad_peak_; }

  // ---- for op implementations ----
  // Appends a node for `op` with an uninitialised value. It requires grad when grad mode is on
  // and any input does. All inputs must belong to this graph.
  Tensor<T> make(const OpDef& op, const Shape& s, std::initializer_list<const Tensor<T>*> inputs);
  Tensor<T> make(const OpDef& op, const Shape& s, const std::vector<Tensor<T>>& inputs);
  // A node whose value aliases `value` (reshape, detach).
  Tensor<T> make_alias(const OpDef& op, const Shape& s, T* value, bool requires_grad);
  void set_backward(const Tensor<T>& out, std::function<void(Graph<T>&, const Node<T>&)> fn);
  // Scratch memory that lives as long as the graph (saved activations, indices).
  template <class U>
  U* scratch(int64_t n) {
    return arena_.allocate_n<U>(n);
  }
  // Temporary memory for one kernel: valid until the next workspace() call, and reused by it,
  // so kernels that run one after another (forward ops, backward closures) share one buffer.
  T* workspace(int64_t n) {
    if (n > workspace_n_) {
      workspace_ = arena_.allocate_n<T>(n);
      workspace_n_ = n;
    }
    return workspace_;
  }
  // The gradient buffer of node `i`, allocated and zeroed on first use; nullptr when the node
  // does not require grad.
  T* grad_of(uint32_t i);
  // The same for a backward that overwrites every element: on first use the buffer is not
  // zeroed and *fresh is set true, and the caller must write all of it (gemm with beta = 0);
  // later, as grad_of, with *fresh false.
  T* grad_to_write(uint32_t i, bool* fresh);
  Node<T>& node(uint32_t i) { return nodes_[i]; }
  void check(const Tensor<T>& t, const char* op) const;

 private:
  friend class Tensor<T>;
  void check_finite(uint32_t i) const;
  void check_grads_finite(const Node<T>& producer) const;
  std::vector<T*>& free_list(int64_t count);
  T* take_grad_buffer(int64_t n);
  void release_grad(Node<T>& n);
  std::vector<Node<T>> nodes_;
  Arena arena_;
  // Recycled gradient buffers (carved from the arena), by element count. Gradients of one layer
  // are dead before the next layer's backward runs, so the same few buffers serve every layer.
  std::vector<std::pair<int64_t, std::vector<T*>>> free_grads_;
  size_t grad_live_ = 0, grad_peak_ = 0;
  T* workspace_ = nullptr;
  int64_t workspace_n_ = 0;
  uint32_t gen_ = 1;
  uint32_t checked_ = 0;  // nodes below this index have been checked for anomalies
  bool grad_enabled_ = true;
  bool detect_anomaly_ = false;
  bool released_ = false;
};

// Turns gradient recording off for one graph while in scope (evaluation, decoding).
template <class T>
class NoGrad {
 public:
  explicit NoGrad(Graph<T>& g) : g_(g), prev_(g.grad_enabled()) { g.set_grad_enabled(false); }
  ~NoGrad() { g_.set_grad_enabled(prev_); }
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  Graph<T>& g_;
  bool prev_;
};

// The same values, cut off from the graph: no gradient flows through it.
template <class T>
Tensor<T> detach(const Tensor<T>& x);

}  // namespace attn
