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

// The embedding of the inputs whose saliency is measured: a stream model's one token embedding,
// or an encoder-decoder's source embedding ("src_emb").
template <class T>
Embedding<T>& input_embedding(Seq2SeqModel<T>& m, bool stream) {
  Embedding<T>* found = nullptr;
  for (auto& [name, mod] : m.named_modules())
    if (auto* e = dynamic_cast<Embedding<T>*>(mod); e && (stream || name == "src_emb")) {
      if (found) throw Error(fmt::format("probe: {} has more than one token embedding", m.config.type));
      found = e;
    }
  if (!found) throw Error(fmt::format("probe: {} has no {}", m.config.type, stream ? "token embedding" : "source embedding (src_emb)"));
  return *found;
}

// Every recurrence's keep_states flag and kept states, in module order: all of a stream model's,
// the encoder's of an encoder-decoder (the states its labels' sources pass through).
template <class T>
struct Recurrences {
  std::vector<bool*> keep;
  std::vector<std::vector<std::vector<Tensor<T>>>*> states;
  Recurrences(Seq2SeqModel<T>& m, bool stream) {
    for (auto& [name, mod] : m.named_modules()) {
      if (!stream && name != "encoder" && name.rfind("encoder.", 0) != 0) continue;
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
    emb.outputs.clear();
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

// Where a batch's labels and their inputs are. A stream's label at pos reads the stream up to
// pos, and its distances count from pos; an encoder-decoder's labels (each target token, then
// EOS) read the whole source, and their distances count from the source's end, as the tasks
// count them (docs/tasks.md).
struct Layout {
  const data::Batch& b;
  bool stream = b.is_stream();
  int64_t width() const { return stream ? b.len : b.tgt_len; }  // label positions per row
  int64_t input_len() const { return stream ? b.len : b.src_len; }
  int label(int r, int64_t pos) const { return b.targets()[(size_t)r * width() + pos]; }
  int64_t inputs(int r, int64_t pos) const { return stream ? pos + 1 : b.src_lengths[(size_t)r]; }
  int64_t origin(int r, int64_t pos) const { return stream ? pos : b.src_lengths[(size_t)r]; }
  int64_t source(int r, int64_t pos) const {
    const size_t at = (size_t)r * width() + pos;
    const int d = stream ? b.label_distance[at] : b.distance[at];
    const int64_t o = origin(r, pos), p = o - d;
    return d >= 0 && p >= 0 && p < inputs(r, pos) ? p : -1;
  }
};

// The label positions, at most `max_positions` of them, evenly spaced.
std::vector<int64_t> label_positions(const Layout& l, int64_t max_positions) {
  std::vector<int64_t> all;
  for (int64_t p = 0; p < l.width(); ++p)
    for (int r = 0; r < l.b.B; ++r)
      if (l.label(r, p) != data::Vocab::PAD) {
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
void label_upstream(const Tensor<T>& logits, const Layout& l, int64_t pos, std::vector<T>& up) {
  const int64_t V = logits.size(2);
  std::fill(up.begin(), up.end(), T(0));
  for (int r = 0; r < l.b.B; ++r) {
    const int label = l.label(r, pos);
    if (label == data::Vocab::PAD) continue;
    const T* z = logits.data() + ((int64_t)r * l.width() + pos) * V;
    T* u = up.data() + ((int64_t)r * l.width() + pos) * V;
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
  const Layout lay{b};
  Embedding<T>& emb = input_embedding(m, lay.stream);
  Recurrences<T> rec(m, lay.stream);
  const SeqBatch sb = to_seq_batch(b);
  std::vector<LabelGrads> out;
  Graph<T> g;  // before the guard: the kept tensors are released before their graph
  KeepProbeTensors<T> keep(m, emb, rec);
  std::vector<T> up;
  for (int64_t pos : label_positions(lay, max_positions)) {
    g.reset();
    emb.outputs.clear();
    Tensor<T> logits = m.forward(g, sb);
    up.resize((size_t)logits.numel());
    label_upstream(logits, lay, pos, up);
    g.backward(logits, up.data());
    const Tensor<T>& x = emb.outputs.at(0);  // the source, embedded before the target
    const int64_t D = x.size(2);
    const T* gx = x.requires_grad() ? x.grad() : nullptr;
    for (int r = 0; r < b.B; ++r) {
      if (lay.label(r, pos) == data::Vocab::PAD) continue;
      LabelGrads lg;
      lg.row = r;
      lg.pos = pos;
      lg.origin = lay.origin(r, pos);
      lg.source = lay.source(r, pos);
      const int64_t n = lay.inputs(r, pos);
      for (int64_t p = 0; p < n; ++p) lg.input_norm.push_back(gx ? row_norm(gx + ((int64_t)r * lay.input_len() + p) * D, D) : 0.0);
      for (auto* layers : rec.states)
        for (const auto& steps : *layers) {
          std::vector<double> norms;
          for (int64_t t = 0; t < n; ++t) {
            const Tensor<T>& h = steps[(size_t)t];
            const int64_t H = h.size(1);
            norms.push_back(h.requires_grad() ? row_norm(h.grad() + (int64_t)r * H, H) : 0.0);
          }
          lg.state_norm.push_back(std::move(norms));
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
      ++f.labels;
      for (size_t p = 0; p < lg.input_norm.size(); ++p) add(f.saliency, f.saliency_count, (size_t)lg.origin - p, lg.input_norm[p] / total);
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
      const double at_label = n.back();  // the state nearest the label
      for (size_t t = 0; t < n.size(); ++t) {
        const size_t k = (size_t)lg.origin - t;
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
