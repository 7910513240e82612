#include "nn/module.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace attn {

template <class T>
Tensor<T> Parameter<T>::bind_at(Graph<T>& g, int64_t offset, const Shape& s) {
  if (offset < 0 || offset + s.numel() > shape.numel())
    throw Error(fmt::format("bind_at: {} at offset {} exceeds parameter {}", s.str(), offset, shape.str()));
  return g.external(s, value.data() + offset, grad.data() + offset);
}

template <class T>
Parameter<T>& Module<T>::add_parameter(const std::string& name, const Shape& shape) {
  auto p = std::make_unique<Parameter<T>>();
  p->shape = shape;
  p->value.assign(shape.numel(), T(0));
  p->grad.assign(shape.numel(), T(0));
  params_.emplace_back(name, std::move(p));
  return *params_.back().second;
}

template <class T>
void Module<T>::add_module(const std::string& name, Module<T>& child) {
  children_.emplace_back(name, &child);
}

template <class T>
void Module<T>::collect(const std::string& prefix, NamedParameters<T>& out) const {
  for (auto& [name, p] : params_) out.emplace_back(prefix + name, p.get());
  for (auto& [name, m] : children_) m->collect(prefix + name + ".", out);
}

template <class T>
NamedParameters<T> Module<T>::named_parameters() const {
  NamedParameters<T> out;
  collect("", out);
  return out;
}

template <class T>
std::vector<std::pair<std::string, Module<T>*>> Module<T>::named_modules() const {
  std::vector<std::pair<std::string, Module<T>*>> out;
  for (auto& [name, m] : children_) {
    out.push_back({name, m});
    for (auto& [sub, mm] : m->named_modules()) out.push_back({name + "." + sub, mm});
  }
  return out;
}

template <class T>
int64_t Module<T>::num_parameters() const {
  int64_t n = 0;
  for (auto& [name, p] : named_parameters()) n += p->shape.numel();
  return n;
}

template <class T>
void Module<T>::train(bool on) {
  training_ = on;
  for (auto& [name, m] : children_) m->train(on);
}

template <class T>
void Module<T>::zero_grad() {
  for (auto& [name, p] : named_parameters()) std::fill(p->grad.begin(), p->grad.end(), T(0));
}

template <class T>
void init_uniform(Parameter<T>& p, double bound, Rng& rng) {
  for (auto& v : p.value) v = T(rng.uniform(-bound, bound));
}
template <class T>
void init_normal(Parameter<T>& p, double stddev, Rng& rng) {
  for (auto& v : p.value) v = T(stddev * rng.normal());
}
template <class T>
void init_xavier_uniform(Parameter<T>& p, Rng& rng) {
  // PyTorch's fans for a 2-D weight [out, in]: fan_in = in, fan_out = out.
  const double fan_out = double(p.shape[0]), fan_in = double(p.shape.numel() / p.shape[0]);
  init_uniform(p, std::sqrt(6.0 / (fan_in + fan_out)), rng);
}
template <class T>
void init_constant(Parameter<T>& p, double value) {
  std::fill(p.value.begin(), p.value.end(), T(value));
}

#define ATTN_INSTANTIATE(T)                                      \
  template struct Parameter<T>;                                  \
  template class Module<T>;                                      \
  template void init_uniform(Parameter<T>&, double, Rng&);       \
  template void init_normal(Parameter<T>&, double, Rng&);        \
  template void init_xavier_uniform(Parameter<T>&, Rng&);        \
  template void init_constant(Parameter<T>&, double);
ATTN_INSTANTIATE(float)
ATTN_INSTANTIATE(double)
#undef ATTN_INSTANTIATE

}  // namespace attn
