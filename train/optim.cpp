#include "train/optim.hpp"

#include <fmt/format.h>
#include <omp.h>

#include <cmath>
#include <utility>

namespace attn {

void OptimConfig::validate() const {
  auto need = [](bool ok, const std::string& m) {
    if (!ok) throw Error(m);
  };
  need(name == "adam" || name == "adamw" || name == "sgd", fmt::format("unknown optimizer '{}' (adam, adamw or sgd)", name));
  need(lr > 0 && std::isfinite(lr), fmt::format("--lr must be positive, got {}", lr));
  need(weight_decay >= 0, fmt::format("--weight-decay must be >= 0, got {}", weight_decay));
  need(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, fmt::format("--betas must be in [0, 1), got {} {}", beta1, beta2));
  need(momentum >= 0 && momentum < 1, fmt::format("--momentum must be in [0, 1), got {}", momentum));
  need(schedule == "constant" || schedule == "warmup-cosine" || schedule == "noam",
       fmt::format("unknown schedule '{}' (constant, warmup-cosine or noam)", schedule));
  need(warmup >= 0, fmt::format("--lr-warmup must be >= 0, got {}", warmup));
  need(lr_min >= 0 && lr_min <= lr, fmt::format("--lr-min {} must be in [0, --lr {}]", lr_min, lr));
  need(schedule != "noam" || warmup > 0, "the noam schedule needs --lr-warmup > 0");
}

double scheduled_lr(const OptimConfig& c, int64_t step, int64_t total) {
  const double s = double(step + 1), w = double(c.warmup);
  if (c.schedule == "noam") return c.lr * std::min(s / w, std::sqrt(w / s));
  if (c.warmup > 0 && s <= w) return c.lr * s / w;
  if (c.schedule == "warmup-cosine") {
    const double span = std::max(1.0, double(total) - w), done = std::min(1.0, (s - w) / span);
    return c.lr_min + (c.lr - c.lr_min) * 0.5 * (1.0 + std::cos(M_PI * done));
  }
  return c.lr;
}

template <class T>
BasicOptimizer<T>::BasicOptimizer(const OptimConfig& c, NamedParameters<T> params) : c_(c), params_(std::move(params)) {
  c_.validate();
  for (auto& [name, p] : params_) {
    total_ += (int64_t)p->value.size();
    m_.emplace_back(p->value.size(), T(0));
    v_.emplace_back(c.name == "sgd" ? 0 : p->value.size(), T(0));
  }
}

// The update and the norm are elementwise over every parameter: one OpenMP region each, every
// thread taking its static share of each parameter, with no barrier between parameters. Each
// element gets the same arithmetic whatever the thread count, so from the same gradients the
// update is bit for bit that of one thread. The norm's per-thread partial sums are added in
// thread order: the same from run to run at a given thread count, but not across thread counts,
// and so neither is a clipped gradient's scale.
namespace {

// This thread's static share [begin, end) of n elements.
std::pair<int64_t, int64_t> share(int64_t n) {
  const int t = omp_get_thread_num(), nt = omp_get_num_threads();
  return {n * t / nt, n * (t + 1) / nt};
}

}  // namespace

template <class T>
double BasicOptimizer<T>::grad_norm() const {
  std::vector<double> partial((size_t)omp_get_max_threads(), 0.0);
#pragma omp parallel if (total_ > kParallelElements)
  {
    double s = 0;
    for (auto& [name, p] : params_) {
      const T* g = p->grad.data();
      const int64_t n = (int64_t)p->grad.size();
      // This thread's static share, summed in vector lanes (a fixed order for this build).
      // Plain locals: clang 14 cannot reference structured bindings inside an omp simd region.
      const auto range = share(n);
      const int64_t i0 = range.first, i1 = range.second;
      double part = 0;
#pragma omp simd reduction(+ : part)
      for (int64_t i = i0; i < i1; ++i) part += double(g[i]) * g[i];
      s += part;
    }
    partial[(size_t)omp_get_thread_num()] = s;
  }
  double s = 0;
  for (double x : partial) s += x;
  return std::sqrt(s);
}

template <class T>
double BasicOptimizer<T>::clip_grad_norm(double max_norm) {
  const double n = grad_norm();
  if (max_norm > 0 && n > max_norm && std::isfinite(n)) {
    const T scale = T(max_norm / (n + 1e-6));  // as torch.nn.utils.clip_grad_norm_
#pragma omp parallel if (total_ > kParallelElements)
    for (auto& [name, p] : params_) {
      T* g = p->grad.data();
      const int64_t m = (int64_t)p->grad.size();
#pragma omp for schedule(static) nowait
      for (int64_t i = 0; i < m; ++i) g[i] *= scale;
    }
  }
  return n;
}

namespace {

template <class T>
struct Moments {
  T a, wd, b1, b2, eps, bc1, bc2, mom;
};

// One parameter's slice, over restrict pointers with no branch inside the loops, so that they
// vectorise (IEEE division and square root, so the same bits as the scalar loop).
template <class T>
void adam_span(T* __restrict w, const T* __restrict g, T* __restrict m, T* __restrict v, int64_t n, Moments<T> c,
               bool decoupled) {
  if (decoupled) {
    for (int64_t i = 0; i < n; ++i) {
      const T d = g[i];
      w[i] -= c.a * c.wd * w[i];
      m[i] = c.b1 * m[i] + (1 - c.b1) * d;
      v[i] = c.b2 * v[i] + (1 - c.b2) * d * d;
      w[i] -= c.a * (m[i] / c.bc1) / (std::sqrt(v[i] / c.bc2) + c.eps);
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    const T d = g[i] + c.wd * w[i];
    m[i] = c.b1 * m[i] + (1 - c.b1) * d;
    v[i] = c.b2 * v[i] + (1 - c.b2) * d * d;
    w[i] -= c.a * (m[i] / c.bc1) / (std::sqrt(v[i] / c.bc2) + c.eps);
  }
}

template <class T>
void sgd_span(T* __restrict w, const T* __restrict g, T* __restrict m, int64_t n, Moments<T> c) {
  for (int64_t i = 0; i < n; ++i) {
    const T d = g[i] + c.wd * w[i];
    m[i] = c.mom * m[i] + d;
    w[i] -= c.a * (c.mom > 0 ? m[i] : d);
  }
}

}  // namespace

template <class T>
void BasicOptimizer<T>::step(double lr) {
  ++t_;
  const Moments<T> base{T(lr), T(c_.weight_decay), T(c_.beta1), T(c_.beta2), T(c_.eps),
                        T(1.0 - std::pow(c_.beta1, double(t_))), T(1.0 - std::pow(c_.beta2, double(t_))),
                        T(c_.momentum)};
  const bool sgd = c_.name == "sgd", decoupled = c_.name == "adamw";
#pragma omp parallel if (total_ > kParallelElements)
  for (size_t k = 0; k < params_.size(); ++k) {
    Parameter<T>& p = *params_[k].second;
    Moments<T> c = base;
    if (p.no_weight_decay) c.wd = T(0);
    const auto [i0, i1] = share((int64_t)p.value.size());
    T *w = p.value.data() + i0, *g = p.grad.data() + i0, *m = m_[k].data() + i0;
    if (sgd)
      sgd_span(w, g, m, i1 - i0, c);
    else
      adam_span(w, g, m, v_[k].data() + i0, i1 - i0, c, decoupled);
  }
}

template <class T>
void BasicOptimizer<T>::save_state(Checkpoint& ck) const {
  for (size_t k = 0; k < params_.size(); ++k) {
    const auto& [name, p] = params_[k];
    ck.add("m." + name, m_[k].data(), p->shape.vec());
    if (!v_[k].empty()) ck.add("v." + name, v_[k].data(), p->shape.vec());
  }
  ck.metadata["optimizer_steps"] = std::to_string(t_);
}

template <class T>
void BasicOptimizer<T>::load_state(const Checkpoint& ck, const std::string& path) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  for (size_t k = 0; k < params_.size(); ++k) {
    expected.emplace_back("m." + params_[k].first, params_[k].second->shape.vec());
    if (!v_[k].empty()) expected.emplace_back("v." + params_[k].first, params_[k].second->shape.vec());
  }
  check_tensor_set(ck, expected, path);
  for (size_t k = 0; k < params_.size(); ++k) {
    read_tensor(ck, "m." + params_[k].first, m_[k].data(), m_[k].size(), path);
    if (!v_[k].empty()) read_tensor(ck, "v." + params_[k].first, v_[k].data(), v_[k].size(), path);
  }
  auto it = ck.metadata.find("optimizer_steps");
  if (it == ck.metadata.end()) throw CheckpointError(fmt::format("'{}': no optimizer_steps in metadata", path));
  t_ = std::stoll(it->second);
}

template class BasicOptimizer<float>;
template class BasicOptimizer<double>;

}  // namespace attn
