#include "train/evaluate.hpp"

#include <fmt/format.h>

#include <cmath>

namespace attn {

Interval wilson(int64_t k, int64_t n, double z) {
  if (n == 0) return {0, 1};
  const double p = double(k) / n, z2 = z * z, denom = 1 + z2 / n;
  const double centre = (p + z2 / (2 * n)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / denom;
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

SeqBatch to_seq_batch(const data::Batch& b) {
  SeqBatch s;
  s.batch = b.B;
  s.src_len = b.src_len;
  s.tgt_len = b.tgt_len;
  s.src = b.src;
  s.src_pad = b.src_pad;
  s.tgt_in = b.tgt_in;
  s.tgt_pad = b.tgt_pad;
  s.len = b.len;
  s.tokens = b.tokens;
  return s;
}

template <class T>
std::vector<std::vector<int>> predict_batch(Seq2SeqModel<T>& model, Graph<T>& g, const data::Batch& b) {
  // One step more than the longest target, so that a model that does not stop is seen to.
  return model.greedy_decode(g, to_seq_batch(b), b.tgt_len + 1, data::Vocab::BOS, data::Vocab::EOS);
}

std::vector<std::tuple<int, int, double, int64_t>> EvalResult::distance_bins(int bins) const {
  std::vector<std::tuple<int, int, double, int64_t>> out;
  if (by_distance.empty()) return out;
  const int lo = by_distance.begin()->first, hi = by_distance.rbegin()->first;
  const int width = (int)by_distance.size() <= bins ? 1 : std::max(1, (hi - lo + bins) / bins);
  for (int start = lo; start <= hi; start += width) {
    int64_t c = 0, n = 0;
    for (auto it = by_distance.lower_bound(start); it != by_distance.end() && it->first < start + width; ++it) {
      c += it->second.first;
      n += it->second.second;
    }
    if (n) out.emplace_back(start, start + width - 1, double(c) / n, n);
  }
  return out;
}

std::string EvalResult::describe_examples() const {
  if (split_examples <= examples) return fmt::format("{} examples", examples);
  return fmt::format("{} of {} examples, a fixed random subset", examples, split_examples);
}

nlohmann::json EvalResult::to_json(const std::string& p, bool per_example) const {
  nlohmann::json j;
  j[p + "token_accuracy"] = token_accuracy();
  j[p + "token_accuracy_ci"] = {token_interval().lo, token_interval().hi};
  j[p + "sequence_accuracy"] = sequence_accuracy();
  j[p + "sequence_accuracy_ci"] = {sequence_interval().lo, sequence_interval().hi};
  j[p + "loss"] = loss;
  if (dependent_loss >= 0) j[p + "dependent_loss"] = dependent_loss;
  if (memoryless_loss >= 0) j[p + "memoryless_loss"] = memoryless_loss;
  j[p + "examples"] = examples;
  if (split_examples > examples) j[p + "split_examples"] = split_examples;
  if (per_example) {
    std::string correct;
    for (uint8_t c : example_correct) correct += c ? '1' : '0';
    j[p + "per_example"] = {{"sequence_correct", correct}, {"tokens_correct", example_tokens_correct},
                            {"tokens", example_tokens}};
  }
  j[p + "chance_token"] = chance.token;
  j[p + "chance_sequence"] = chance.sequence;
  nlohmann::json d = nlohmann::json::object();
  for (auto& [lo, hi, acc, n] : distance_bins()) d[lo == hi ? std::to_string(lo) : fmt::format("{}-{}", lo, hi)] = acc;
  j[p + "accuracy_by_distance"] = d;
  nlohmann::json l = nlohmann::json::object();
  for (const auto& [len, c] : by_length)
    l[std::to_string(len)] = {{"examples", c.examples},
                              {"sequence_accuracy", c.examples ? double(c.sequences_correct) / c.examples : 0.0},
                              {"token_accuracy", c.tokens ? double(c.tokens_correct) / c.tokens : 0.0}};
  j[p + "accuracy_by_length"] = l;
  return j;
}

namespace {

// What a model must produce for `e`, and each token's distance: in a stream with the task's own
// layout the labelled positions, else the target.
struct Wanted {
  std::vector<int> tokens, distance;
};
Wanted wanted(const data::Example& e, bool stream) {
  Wanted w;
  if (stream && e.has_stream_layout()) {
    for (size_t p = 0; p < e.labels.size(); ++p)
      if (e.labels[p] != data::Vocab::PAD) {
        w.tokens.push_back(e.labels[p]);
        w.distance.push_back(e.label_distance[p]);
      }
    return w;
  }
  w.tokens = e.tgt;
  for (size_t j = 0; j < e.tgt.size(); ++j)
    w.distance.push_back(stream ? data::stream_distance(e, j) : j < e.distance.size() ? e.distance[j] : -1);
  return w;
}

// Argmax at each labelled position of a stream batch: fixed positions, nothing generated.
template <class T>
std::vector<std::vector<int>> argmax_at_labels(const Tensor<T>& logits, const data::Batch& b) {
  const int64_t V = logits.shape()[2];
  std::vector<std::vector<int>> out(b.B);
  for (int r = 0; r < b.B; ++r)
    for (int p = 0; p < b.len; ++p)
      if (b.labels[(size_t)r * b.len + p] != data::Vocab::PAD) {
        const T* row = logits.data() + ((int64_t)r * b.len + p) * V;
        out[r].push_back(int(std::max_element(row, row + V) - row));
      }
  return out;
}

}  // namespace

namespace {

// What one batch of evaluation gives before it is tallied: its teacher-forced losses summed over
// tokens, and the predictions.
struct BatchScore {
  double loss_sum = 0, dep_sum = 0;
  int64_t loss_tokens = 0, dep_tokens = 0;
  std::vector<std::vector<int>> pred;
  std::map<int, int64_t> dep_values;  // dependent label value -> count, for memoryless_loss
};

template <class T>
BatchScore score_batch(Seq2SeqModel<T>& model, Graph<T>& g, const data::Batch& b, bool positional) {
  BatchScore s;
  {  // teacher-forced loss
    NoGrad<T> ng(g);
    g.reset();
    Tensor<T> logits = model.forward(g, to_seq_batch(b));
    const auto& y = b.targets();
    s.loss_tokens = std::count_if(y.begin(), y.end(), [](int t) { return t != data::Vocab::PAD; });
    s.loss_sum = double(cross_entropy(logits, y, data::Vocab::PAD).item()) * s.loss_tokens;
    const std::vector<int>& dist = b.is_stream() ? b.label_distance : b.distance;
    std::vector<int> dep(y.size(), data::Vocab::PAD);
    for (size_t i = 0; i < y.size(); ++i)
      if (i < dist.size() && dist[i] >= 0 && y[i] != data::Vocab::PAD) ++s.dep_values[dep[i] = y[i]];
    s.dep_tokens = std::count_if(dep.begin(), dep.end(), [](int t) { return t != data::Vocab::PAD; });
    if (s.dep_tokens) s.dep_sum = double(cross_entropy(logits, dep, data::Vocab::PAD).item()) * s.dep_tokens;
    if (positional) s.pred = argmax_at_labels(logits, b);
  }
  if (!positional) s.pred = predict_batch(model, g, b);
  return s;
}

// Gives every rank every batch's score: batch j was scored by rank j % ranks. MessagePack keeps
// the doubles' bits, so the tally below is the one a single process makes.
void share_scores(std::vector<BatchScore>& scores, const Ranks& ranks) {
  nlohmann::json mine = nlohmann::json::array();
  for (size_t j = ranks.rank(); j < scores.size(); j += ranks.size()) {
    const BatchScore& s = scores[j];
    mine.push_back({s.loss_sum, s.dep_sum, s.loss_tokens, s.dep_tokens, s.pred,
                    std::vector<std::pair<int, int64_t>>(s.dep_values.begin(), s.dep_values.end())});
  }
  const std::vector<uint8_t> bytes = nlohmann::json::to_msgpack(mine);
  const std::vector<std::string> all = ranks.gather(std::string(bytes.begin(), bytes.end()));
  for (int r = 0; r < ranks.size(); ++r) {
    const nlohmann::json theirs = nlohmann::json::from_msgpack(all[r]);
    size_t j = r;
    for (const nlohmann::json& e : theirs) {
      BatchScore& s = scores[j];
      s = {e[0].get<double>(), e[1].get<double>(), e[2].get<int64_t>(), e[3].get<int64_t>(),
           e[4].get<std::vector<std::vector<int>>>(), {}};
      for (const auto& [value, count] : e[5].get<std::vector<std::pair<int, int64_t>>>()) s.dep_values[value] = count;
      j += ranks.size();
    }
  }
}

}  // namespace

template <class T>
EvalResult evaluate(Seq2SeqModel<T>& model, const data::Dataset& ds, data::Split split, size_t limit, int batch_size,
                    const Ranks* ranks) {
  const std::vector<data::Example> all = ds.eval_examples(split, limit);
  const size_t n = all.size();
  EvalResult r;
  r.chance = ds.chance(split, limit);
  r.split_examples = (int64_t)ds.size(split);
  const bool was_training = model.training();
  model.eval();
  Graph<T> g;
  const int n_ranks = ranks ? ranks->size() : 1, me = ranks ? ranks->rank() : 0;
  auto chunk_of = [&](size_t j) {
    return std::vector<data::Example>(all.begin() + j * batch_size, all.begin() + std::min(n, (j + 1) * batch_size));
  };
  const size_t n_batches = (n + batch_size - 1) / batch_size;
  std::vector<BatchScore> scores(n_batches);
  std::vector<uint8_t> stream(n_batches);
  for (size_t j = 0; j < n_batches; ++j) {
    const std::vector<data::Example> chunk = chunk_of(j);
    const data::Batch b = ds.batch(chunk, false);
    stream[j] = b.is_stream();
    if ((int)(j % n_ranks) == me) scores[j] = score_batch(model, g, b, b.is_stream() && chunk.front().has_stream_layout());
  }
  if (n_ranks > 1) share_scores(scores, *ranks);
  double loss_sum = 0, dep_sum = 0;
  std::map<int, int64_t> dep_values;  // label value -> count, for memoryless_loss
  int64_t loss_tokens = 0, dep_tokens = 0;
  for (size_t j = 0; j < n_batches; ++j) {
    const std::vector<data::Example> chunk = chunk_of(j);
    const BatchScore& s = scores[j];
    loss_sum += s.loss_sum;
    loss_tokens += s.loss_tokens;
    dep_sum += s.dep_sum;
    dep_tokens += s.dep_tokens;
    for (const auto& [value, count] : s.dep_values) dep_values[value] += count;
    for (size_t i = 0; i < chunk.size(); ++i) {
      const Wanted w = wanted(chunk[i], stream[j]);
      const std::vector<int>& p = s.pred[i];
      auto& by_len = r.by_length[(int)chunk[i].src.size()];
      const bool seq_ok = p == w.tokens;
      r.sequences_correct += seq_ok;
      by_len.examples += 1;
      by_len.sequences_correct += seq_ok;
      int right = 0;
      for (size_t k = 0; k < w.tokens.size(); ++k) {
        const bool ok = k < p.size() && p[k] == w.tokens[k];
        right += ok;
        r.tokens_correct += ok;
        by_len.tokens_correct += ok;
        const int d = w.distance[k];
        if (d >= 0) {
          auto& bucket = r.by_distance[d];
          bucket.first += ok;
          bucket.second += 1;
        }
      }
      r.tokens += (int64_t)w.tokens.size();
      by_len.tokens += (int64_t)w.tokens.size();
      r.example_correct.push_back(seq_ok);
      r.example_tokens.push_back((int)w.tokens.size());
      r.example_tokens_correct.push_back(right);
    }
    r.examples += (int64_t)chunk.size();
  }
  r.loss = loss_tokens ? loss_sum / loss_tokens : 0.0;
  r.dependent_loss = dep_tokens ? dep_sum / dep_tokens : -1.0;
  if (dep_tokens) {
    r.memoryless_loss = 0;
    for (const auto& [value, count] : dep_values) {
      const double q = (double)count / (double)dep_tokens;
      r.memoryless_loss -= q * std::log(q);
    }
  }
  model.train(was_training);
  return r;
}

template EvalResult evaluate(Seq2SeqModel<float>&, const data::Dataset&, data::Split, size_t, int, const Ranks*);
template std::vector<std::vector<int>> predict_batch(Seq2SeqModel<float>&, Graph<float>&, const data::Batch&);

}  // namespace attn
