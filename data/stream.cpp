#include "data/stream.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "data/error.hpp"

namespace attn::data {

LossOn parse_loss_on(const std::string& s) {
  if (s == "target") return LossOn::target;
  if (s == "all") return LossOn::all;
  throw Error(fmt::format("loss-on '{}': want target or all", s));
}

const char* loss_on_name(LossOn l) { return l == LossOn::all ? "all" : "target"; }

int stream_distance(const Example& e, size_t j) {
  if (j >= e.distance.size() || e.distance[j] < 0) return -1;
  return e.distance[j] + (int)j;
}

Stream to_stream(const Example& e, LossOn loss_on) {
  Stream s;
  if (e.has_stream_layout()) {
    s.tokens = e.src;
    s.labels = e.labels;
    s.distance = e.label_distance;
    return s;
  }
  const size_t S = e.src.size(), T = e.tgt.size();
  s.tokens = e.src;
  s.tokens.push_back(Vocab::BOS);
  s.tokens.insert(s.tokens.end(), e.tgt.begin(), e.tgt.end());
  s.labels.assign(s.tokens.size(), Vocab::PAD);
  s.distance.assign(s.tokens.size(), -1);
  if (loss_on == LossOn::all)
    for (size_t p = 0; p < S; ++p) s.labels[p] = s.tokens[p + 1];
  for (size_t j = 0; j <= T; ++j) {
    s.labels[S + j] = j < T ? e.tgt[j] : Vocab::EOS;
    if (j < T) s.distance[S + j] = stream_distance(e, j);
  }
  s.prompt = (int)S + 1;
  return s;
}

void add_stream(Batch& b, const std::vector<Example>& examples, LossOn loss_on) {
  if ((int)examples.size() != b.B)
    throw std::invalid_argument(fmt::format("add_stream: {} examples for a batch of {}", examples.size(), b.B));
  std::vector<Stream> rows;
  b.len = 0;
  b.stream_lengths.clear();
  for (const Example& e : examples) {
    rows.push_back(to_stream(e, loss_on));
    b.len = std::max(b.len, (int)rows.back().tokens.size());
    b.stream_lengths.push_back((int)rows.back().tokens.size());
  }
  const size_t n = (size_t)b.B * b.len;
  b.tokens.assign(n, Vocab::PAD);
  b.labels.assign(n, Vocab::PAD);
  b.label_distance.assign(n, -1);
  for (int r = 0; r < b.B; ++r) {
    const size_t o = (size_t)r * b.len;
    std::copy(rows[r].tokens.begin(), rows[r].tokens.end(), b.tokens.begin() + o);
    std::copy(rows[r].labels.begin(), rows[r].labels.end(), b.labels.begin() + o);
    std::copy(rows[r].distance.begin(), rows[r].distance.end(), b.label_distance.begin() + o);
  }
}

}  // namespace attn::data
