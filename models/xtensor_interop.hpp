// Opt-in bridge between attnlab and xtensor, for cold code (analysis, tools, tests): views of a
// Tensor's values or a checkpoint tensor's bytes as xtensor arrays, and the way back. The only
// public header that includes xtensor; each file that includes it pays xtensor's compile cost
// (1-3 s, ~0.3 GB), so nothing widely included may. Link the target with xtensor and xsimd.
#pragma once
#include <cstring>
#include <fmt/format.h>
#include <string>
#include <type_traits>
#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>

#include "autograd/tensor.hpp"
#include "models/safetensors.hpp"

namespace attn::xtensor_interop {

using Dims = std::vector<size_t>;

inline Dims dims_of(const Shape& s) {
  Dims d;
  for (int i = 0; i < s.ndim(); ++i) d.push_back(size_t(s[i]));
  return d;
}
inline Dims dims_of(const std::vector<int64_t>& s) { return Dims(s.begin(), s.end()); }

// A read-only view of t's values (no copy), valid until its graph is reset.
template <class T>
auto view(const Tensor<T>& t) {
  return xt::adapt(t.data(), size_t(t.numel()), xt::no_ownership(), dims_of(t.shape()));
}
// A writable view, for filling inputs and parameters (see Tensor::mutable_data).
template <class T>
auto mutable_view(const Tensor<T>& t) {
  return xt::adapt(t.mutable_data(), size_t(t.numel()), xt::no_ownership(), dims_of(t.shape()));
}

// A new leaf of `g` holding a copy of `e` (any xtensor expression, evaluated once).
template <class T, class E>
Tensor<T> to_tensor(Graph<T>& g, const xt::xexpression<E>& e, bool requires_grad = false) {
  const xt::xarray<T> a = e.derived_cast();
  const Shape s(std::vector<int64_t>(a.shape().begin(), a.shape().end()));  // throws past kMaxDims
  return g.tensor(s, std::vector<T>(a.begin(), a.end()), requires_grad);
}

// Copies `e` into t's values; its shape must be t's exactly (no broadcasting).
template <class T, class E>
void assign(const Tensor<T>& t, const xt::xexpression<E>& e) {
  const auto& x = e.derived_cast();
  const Dims want = dims_of(t.shape()), got(x.shape().begin(), x.shape().end());
  if (got != want)
    throw Error(fmt::format("assign: an array of shape [{}] does not fit a tensor of shape {}",
                            fmt::join(got, ", "), t.shape().str()));
  mutable_view(t) = x;
}

// A checkpoint tensor's data viewed in place (no copy) when its dtype is T's; raw little-endian
// bytes, as on every CPU attnlab runs on. Valid while `nt` lives and its bytes do not change.
template <class T>
auto view(const NamedTensor& nt) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "F32 or F64 only");
  const std::string want = std::is_same_v<T, float> ? "F32" : "F64";
  if (nt.dtype != want)
    throw CheckpointError(fmt::format("tensor '{}' is {}, not {}: use to_xarray to convert", nt.name, nt.dtype, want));
  if (nt.bytes.size() != size_t(nt.numel()) * sizeof(T) || reinterpret_cast<uintptr_t>(nt.bytes.data()) % alignof(T))
    throw CheckpointError(fmt::format("tensor '{}': its bytes do not hold {} aligned elements", nt.name, nt.numel()));
  return xt::adapt(reinterpret_cast<const T*>(nt.bytes.data()), size_t(nt.numel()), xt::no_ownership(),
                   dims_of(nt.shape));
}

// A copy of a checkpoint tensor as T, converting F32 <-> F64.
template <class T>
xt::xarray<T> to_xarray(const NamedTensor& nt) {
  xt::xarray<T> a;
  if (nt.dtype == "F32") a = view<float>(nt);
  else if (nt.dtype == "F64") a = view<double>(nt);
  else throw CheckpointError(fmt::format("tensor '{}' has unsupported dtype {}", nt.name, nt.dtype));
  return a;
}

// A checkpoint tensor from an expression of float or double values (F32 or F64).
template <class E>
NamedTensor to_named_tensor(std::string name, const xt::xexpression<E>& e) {
  using T = std::decay_t<typename E::value_type>;
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "F32 or F64 only");
  const xt::xarray<T> a = e.derived_cast();
  return make_tensor(std::move(name), a.data(), std::vector<int64_t>(a.shape().begin(), a.shape().end()));
}

}  // namespace attn::xtensor_interop
