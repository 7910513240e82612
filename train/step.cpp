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
}  // namespace

template <class T>
double accumulate_gradients(Seq2SeqModel<T>& model, Graph<T>& g, const data::Batch& b, int64_t micro,
                            double label_smoothing) {
  if (micro <= 1) {  // the plain step, kept free of any extra op
    g.reset();
    Tensor<T> loss = cross_entropy(model.forward(g, to_seq_batch(b)), b.targets(), data::Vocab::PAD, label_smoothing);
    const double v = loss.item();
    if (std::isfinite(v)) g.backward(loss);
    return v;
  }
  const double total = (double)target_tokens(b);
  double sum = 0;
  for (int64_t k = 0; k < micro; ++k) {
    const int lo = int(b.B * k / micro), hi = int(b.B * (k + 1) / micro);
    const data::Batch part = batch_rows(b, lo, hi);
    const double share = (double)target_tokens(part) / total;
    if (share == 0) continue;
    g.reset();
    Tensor<T> loss = cross_entropy(model.forward(g, to_seq_batch(part)), part.targets(), data::Vocab::PAD, label_smoothing);
    const double v = loss.item();
    if (!std::isfinite(v)) return v;
    const T weight = T(share);
    g.backward(loss, &weight);
    sum += v * share;
  }
  return sum;
}

StepResult train_step(Seq2SeqModel<float>& model, Optimizer& optim, Graph<float>& g, const data::Batch& b,
                      const StepSettings& s, double lr) {
  StepResult r;
  model.zero_grad();
  r.loss = r.grad_norm = NAN;
  try {
    r.loss = accumulate_gradients(model, g, b, s.accumulate, s.label_smoothing);
    if (std::isfinite(r.loss)) r.grad_norm = optim.clip_grad_norm(s.clip_norm);
  } catch (const Error& e) {
    if (!s.detect_anomaly) throw;
    r.anomaly = e.what();
  }
  if (r.finite()) optim.step(lr);
  return r;
}

template double accumulate_gradients(Seq2SeqModel<float>&, Graph<float>&, const data::Batch&, int64_t, double);
template double accumulate_gradients(Seq2SeqModel<double>&, Graph<double>&, const data::Batch&, int64_t, double);

}  // namespace attn
