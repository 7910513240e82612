// Module: the base of every layer. Parameters live in their own buffers (value and gradient);
// a forward pass binds them into a graph as leaves, so gradients accumulate straight into
// them. Names are hierarchical and dotted, as in PyTorch's state_dict.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/ops.hpp"

namespace attn {

template <class T>
struct Parameter {
  Shape shape;
  std::vector<T> value, grad;
  bool no_weight_decay = false;  // the optimiser's weight decay skips it (Mamba's A_log and D)
  Tensor<T> bind(Graph<T>& g) { return g.external(shape, value.data(), grad.data()); }
  // The elements from `offset` on, as a leaf of shape `s` (no copy): a block of a packed weight.
  Tensor<T> bind_at(Graph<T>& g, int64_t offset, const Shape& s);
};

template <class T>
using NamedParameters = std::vector<std::pair<std::string, Parameter<T>*>>;

template <class T>
class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  NamedParameters<T> named_parameters() const;
  // Every submodule, depth first, with its dotted path ("layers.0.self_attn"); not this one.
  std::vector<std::pair<std::string, Module<T>*>> named_modules() const;
  int64_t num_parameters() const;
  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }
  void zero_grad();

 protected:
  Parameter<T>& add_parameter(const std::string& name, const Shape& shape);
  // `child` must live as long as this module (a member, or owned through a unique_ptr).
  void add_module(const std::string& name, Module<T>& child);

 private:
  void collect(const std::string& prefix, NamedParameters<T>& out) const;
  std::vector<std::pair<std::string, std::unique_ptr<Parameter<T>>>> params_;
  std::vector<std::pair<std::string, Module<T>*>> children_;
  bool training_ = true;
};

// Initialisation schemes, as PyTorch's (see docs/modules.md).
template <class T> void init_uniform(Parameter<T>& p, double bound, Rng& rng);  // U(-bound, bound)
template <class T> void init_normal(Parameter<T>& p, double stddev, Rng& rng);  // N(0, stddev^2)
template <class T> void init_xavier_uniform(Parameter<T>& p, Rng& rng);       // bound sqrt(6/(fan_in+fan_out))
template <class T> void init_constant(Parameter<T>& p, double value);

}  // namespace attn
