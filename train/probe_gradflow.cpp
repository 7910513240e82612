// The gradient-flow probe: per label, the gradient norm at every earlier input embedding and
// recurrent state, one backward per label position (rows are independent, so one backward
// serves every row's label at that position).
#include <fmt/core.h>

#include <cmath>

#include "autograd/ops.hpp"
#include "nn/lstm.hpp"
#include "train/evaluate.hpp"
#include "train/probe.hpp"

namespace attn {

namespace {

template <class T>
Embedding<T>& token_embedding(Seq2SeqModel<T>& m) {
  Embedding<T>* found = nullptr;
  for (auto& [name, mod] : m.named_modules())
    if (auto* e = dynamic_cast<Embedding<T>*>(mod)) {
      if (found) throw Error(fmt::format("probe: {} has more than one token embedding (an encoder-decoder?); the "
                                         "probes read one-stream models", m.config.type));
      found = e;
    }
  if (!found) throw Error(fmt::format("probe: {} has no token embedding", m.config.type));
  return *found;
}

// Every recurrence's keep_states flag and kept states, in module order.
template <class T>
struct Recurrences {
  std::vector<bool*> keep;
  std::vector<std::vector<std::vector<Tensor<T>>>*> states;
  explicit Recurrences(Seq2SeqModel<T>& m) {
    for (auto& [name, mod] : m.named_modules()) {
      if (auto* l = dynamic_cast<LSTM<T>*>(mod)) {
        keep.push_back(&l->keep_states);
        states.push_back(&l->last_states);
      } else if (auto* r = dynamic_cast<HiddenRecurrent<T>*>(mod)) {
        keep.push_back(&r->keep_states);
        states.push_back(&r->last_states);
      }
    }
  }
  void set(bool on) {
    for (bool* k : keep) *k = on;
  }
};

// Sets the probe flags and eval mode for its lifetime; restores the model however it ends.
template <class T>
struct KeepProbeTensors {
  Seq2SeqModel<T>& m;
  Embedding<T>& emb;
  Recurrences<T>& rec;
  bool was_training;
  KeepProbeTensors(Seq2SeqModel<T>& m, Embedding<T>& emb, Recurrences<T>& rec)
      : m(m), emb(emb), rec(rec), was_training(m.training()) {
    m.eval();
    emb.keep_output = true;
    rec.set(true);
  }
  ~KeepProbeTensors() {
    emb.keep_output = false;
    emb.last_output = Tensor<T>();
    rec.set(false);
    for (auto* layers : rec.states) layers->clear();
    m.zero_grad();
    m.train(was_training);
  }
};

// ||v||_2 of n values; 0 when no gradient reached the tensor (v null).
template <class T>
double row_norm(const T* v, int64_t n) {
  if (!v) return 0.0;
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(v[i]) * double(v[i]);
  return std::sqrt(s);
}

// The label positions of `b`, at most `max_positions` of them, evenly spaced.
std::vector<int64_t> label_positions(const data::Batch& b, int64_t max_positions) {
  std::vector<int64_t> all;
  for (int64_t p = 0; p < b.len; ++p)
    for (int r = 0; r < b.B; ++r)
      if (b.labels[(size_t)r * b.len + p] != data::Vocab::PAD) {
        all.push_back(p);
        break;
      }
  if (max_positions <= 0 || (int64_t)all.size() <= max_positions) return all;
  std::vector<int64_t> some;
  for (int64_t i = 0; i < max_positions; ++i) some.push_back(all[(size_t)(i * (int64_t)all.size() / max_positions)]);
  return some;
}

// The upstream gradient of sum_r CE(logits[r, pos], label[r, pos]): softmax minus one-hot at
// that position, zero elsewhere.
template <class T>
void label_upstream(const Tensor<T>& logits, const data::Batch& b, int64_t pos, std::vector<T>& up) {
  const int64_t V = logits.size(2);
  std::fill(up.begin(), up.end(), T(0));
  for (int r = 0; r < b.B; ++r) {
    const int label = b.labels[(size_t)r * b.len + pos];
    if (label == data::Vocab::PAD) continue;
    const T* z = logits.data() + ((int64_t)r * b.len + pos) * V;
    T* u = up.data() + ((int64_t)r * b.len + pos) * V;
    const T mx = *std::max_element(z, z + V);
    double sum = 0;
    for (int64_t v = 0; v < V; ++v) sum += std::exp(double(z[v] - mx));
    for (int64_t v = 0; v < V; ++v) u[v] = T(std::exp(double(z[v] - mx)) / sum);
    u[label] -= T(1);
  }
}

}  // namespace

template <class T>
std::vector<LabelGrads> label_gradients(Seq2SeqModel<T>& m, const data::Batch& b, int64_t max_positions) {
  if (!b.is_stream()) throw Error("probe: the batch is not a stream (the probes read one-stream models, format lm)");
  Embedding<T>& emb = token_embedding(m);
  Recurrences<T> rec(m);
  const SeqBatch sb = to_seq_batch(b);
  std::vector<LabelGrads> out;
  Graph<T> g;  // before the guard: the kept tensors are released before their graph
  KeepProbeTensors<T> keep(m, emb, rec);
  std::vector<T> up;
  for (int64_t pos : label_positions(b, max_positions)) {
    g.reset();
    Tensor<T> logits = m.forward(g, sb);
    up.resize((size_t)logits.numel());
    label_upstream(logits, b, pos, up);
    g.backward(logits, up.data());
    const int64_t D = emb.last_output.size(2);
    for (int r = 0; r < b.B; ++r) {
      const size_t at = (size_t)r * b.len + pos;
      if (b.labels[at] == data::Vocab::PAD) continue;
      LabelGrads lg;
      lg.row = r;
      lg.pos = pos;
      if (b.label_distance[at] >= 0 && b.label_distance[at] <= pos) lg.source = pos - b.label_distance[at];
      const T* gx = emb.last_output.requires_grad() ? emb.last_output.grad() : nullptr;
      for (int64_t p = 0; p <= pos; ++p) lg.input_norm.push_back(row_norm(gx + ((int64_t)r * b.len + p) * D, D));
      for (auto* layers : rec.states)
        for (const auto& steps : *layers) {
          std::vector<double> n;
          for (int64_t t = 0; t <= pos; ++t) {
            const Tensor<T>& h = steps[(size_t)t];
            const int64_t H = h.size(1);
            n.push_back(h.requires_grad() ? row_norm(h.grad() + (int64_t)r * H, H) : 0.0);
          }
          lg.state_norm.push_back(std::move(n));
        }
      out.push_back(std::move(lg));
    }
  }
  return out;
}

GradFlow bin_gradients(const std::vector<LabelGrads>& grads) {
  GradFlow f;
  double source_sum = 0;
  std::vector<std::vector<int64_t>> rel_count;  // labels whose lag-0 norm is positive
  auto add = [](std::vector<double>& sum, std::vector<int64_t>& count, size_t d, double v) {
    if (sum.size() <= d) sum.resize(d + 1, 0.0), count.resize(d + 1, 0);
    sum[d] += v;
    ++count[d];
  };
  for (const LabelGrads& lg : grads) {
    double total = 0;
    for (double v : lg.input_norm) total += v;
    if (total > 0) {
      for (size_t p = 0; p < lg.input_norm.size(); ++p) add(f.saliency, f.saliency_count, (size_t)lg.pos - p, lg.input_norm[p] / total);
      if (lg.source >= 0) {
        source_sum += lg.input_norm[(size_t)lg.source] / total;
        ++f.source_labels;
      }
    }
    if (f.state_raw.size() < lg.state_norm.size()) {
      f.state_raw.resize(lg.state_norm.size());
      f.state_relative.resize(lg.state_norm.size());
      f.state_count.resize(lg.state_norm.size());
      rel_count.resize(lg.state_norm.size());
    }
    for (size_t l = 0; l < lg.state_norm.size(); ++l) {
      const std::vector<double>& n = lg.state_norm[l];
      const double at_label = n.back();
      for (size_t t = 0; t < n.size(); ++t) {
        const size_t k = n.size() - 1 - t;
        add(f.state_raw[l], f.state_count[l], k, n[t]);
        if (at_label > 0) add(f.state_relative[l], rel_count[l], k, n[t] / at_label);
      }
    }
  }
  for (size_t d = 0; d < f.saliency.size(); ++d)
    if (f.saliency_count[d]) f.saliency[d] /= (double)f.saliency_count[d];
  for (size_t l = 0; l < f.state_raw.size(); ++l)
    for (size_t k = 0; k < f.state_raw[l].size(); ++k)
      if (f.state_count[l][k]) f.state_raw[l][k] /= (double)f.state_count[l][k];
  for (size_t l = 0; l < f.state_relative.size(); ++l)
    for (size_t k = 0; k < f.state_relative[l].size(); ++k)
      if (rel_count[l][k]) f.state_relative[l][k] /= (double)rel_count[l][k];
  if (f.source_labels) f.source_saliency = source_sum / (double)f.source_labels;
  return f;
}

template std::vector<LabelGrads> label_gradients(Seq2SeqModel<float>&, const data::Batch&, int64_t);
template std::vector<LabelGrads> label_gradients(Seq2SeqModel<double>&, const data::Batch&, int64_t);

}  // namespace attn
