#include "train/step.hpp"

#include <algorithm>
#include <cmath>

#include "data/vocab.hpp"
#include "train/evaluate.hpp"

namespace attn {

bool StepResult::finite() const { return std::isfinite(loss) && std::isfinite(grad_norm); }

data::Batch batch_rows(const data::Batch& b, int lo, int hi) {
  data::Batch r;
  r.B = hi - lo;
  for (int i = lo; i < hi; ++i) {
    r.src_len = std::max(r.src_len, b.src_lengths[i]);
    r.tgt_len = std::max(r.tgt_len, b.tgt_lengths[i] + 1);
  }
  auto rows = [&](const auto& v, int width, int keep, auto& out) {
    for (int i = lo; i < hi; ++i)
      out.insert(out.end(), v.begin() + (size_t)i * width, v.begin() + (size_t)i * width + keep);
  };
  rows(b.src, b.src_len, r.src_len, r.src);
  rows(b.src_pad, b.src_len, r.src_len, r.src_pad);
  rows(b.tgt_in, b.tgt_len, r.tgt_len, r.tgt_in);
  rows(b.tgt_out, b.tgt_len, r.tgt_len, r.tgt_out);
  rows(b.tgt_pad, b.tgt_len, r.tgt_len, r.tgt_pad);
  if (!b.distance.empty()) rows(b.distance, b.tgt_len, r.tgt_len, r.distance);
  if (b.is_stream()) {  // a stream row ends where its labels end (PAD after)
    for (int i = lo; i < hi; ++i) r.len = std::max(r.len, b.stream_lengths[i]);
    r.stream_lengths.assign(b.stream_lengths.begin() + lo, b.stream_lengths.begin() + hi);
    rows(b.tokens, b.len, r.len, r.tokens);
    rows(b.labels, b.len, r.len, r.labels);
    rows(b.label_distance, b.len, r.len, r.label_distance);
  }
  r.src_lengths.assign(b.src_lengths.begin() + lo, b.src_lengths.begin() + hi);
  r.tgt_lengths.assign(b.tgt_lengths.begin() + lo, b.tgt_lengths.begin() + hi);
  return r;
}

namespace {
int64_t target_tokens(const data::Batch& b) {
  return std::count_if(b.targets().begin(), b.targets().end(), [](int t) { return t != data::Vocab::PAD; });
}

// Adds each parameter's gradient into `flat` at its offset, in named_parameters() order.
template <class T>
void add_gradients(const NamedParameters<T>& params, std::vector<T>& flat) {
  size_t at = 0;
  for (const auto& [name, p] : params)
    for (T x : p->grad) flat[at++] += x;
}

}  // namespace

template <class T>
double accumulate_gradients(Seq2SeqModel<T>& model, Graph<T>& g, const data::Batch& b, int64_t micro,
                            double label_smoothing, const Ranks* ranks) {
  const int64_t n_ranks = ranks ? ranks->size() : 1, me = ranks ? ranks->rank() : 0;
  if (micro <= 1 && n_ranks == 1) {  // the plain step, kept free of any extra op
    g.reset();
    Tensor<T> loss = cross_entropy(model.forward(g, to_seq_batch(b)), b.targets(), data::Vocab::PAD, label_smoothing);
    const double v = loss.item();
    if (std::isfinite(v)) g.backward(loss);
    return v;
  }
  const NamedParameters<T> params = model.named_parameters();
  static thread_local std::vector<T> flat;  // the summed gradients, reused from step to step
  size_t count = 0;
  for (const auto& [name, p] : params) count += p->grad.size();
  flat.assign(count, T(0));
  double totals[2] = {0, 0};  // summed token loss, target tokens
  const int64_t parts = micro * n_ranks;
  std::string anomaly;  // an op's error on this rank, raised once every rank has its totals
  try {
    for (int64_t k = me * micro; k < (me + 1) * micro; ++k) {
      const data::Batch part = batch_rows(b, int(b.B * k / parts), int(b.B * (k + 1) / parts));
      const int64_t tokens = target_tokens(part);
      if (tokens == 0) continue;
      model.zero_grad();
      g.reset();
      Tensor<T> loss = cross_entropy(model.forward(g, to_seq_batch(part)), part.targets(), data::Vocab::PAD, label_smoothing);
      const double v = loss.item();
      totals[0] += v * (double)tokens;
      totals[1] += (double)tokens;
      if (!std::isfinite(v)) break;
      const T weight = T(tokens);  // the mean's gradient times its count: the sum's
      g.backward(loss, &weight);
      add_gradients(params, flat);
    }
  } catch (const Error& e) {
    if (!ranks || !ranks->many()) throw;
    anomaly = e.what();
    totals[0] = NAN;
  }
  if (ranks) ranks->sum(totals, 2);
  if (!anomaly.empty()) throw Error(anomaly);
  const double loss = totals[0] / totals[1];
  if (!std::isfinite(loss)) return loss;
  if (ranks) ranks->sum(flat.data(), flat.size());
  const T tokens = T(totals[1]);
  size_t at = 0;
  for (const auto& [name, p] : params)
    for (T& x : p->grad) x = flat[at++] / tokens;
  return loss;
}

StepResult train_step(Seq2SeqModel<float>& model, Optimizer& optim, Graph<float>& g, const data::Batch& b,
                      const StepSettings& s, double lr) {
  StepResult r;
  model.zero_grad();
  r.loss = r.grad_norm = NAN;
  try {
    r.loss = accumulate_gradients(model, g, b, s.accumulate, s.label_smoothing, s.ranks);
    if (std::isfinite(r.loss)) r.grad_norm = optim.clip_grad_norm(s.clip_norm);
  } catch (const Error& e) {
    if (!s.detect_anomaly) throw;
    r.anomaly = e.what();
  }
  if (r.finite()) optim.step(lr);
  return r;
}

template double accumulate_gradients(Seq2SeqModel<float>&, Graph<float>&, const data::Batch&, int64_t, double,
                                     const Ranks*);
template double accumulate_gradients(Seq2SeqModel<double>&, Graph<double>&, const data::Batch&, int64_t, double,
                                     const Ranks*);

}  // namespace attn
