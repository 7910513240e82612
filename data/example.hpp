// One training example, in vocabulary ids.
#pragma once
#include <vector>

namespace attn::data {

struct Example {
  std::vector<int> src;  // encoder input, no BOS/EOS
  std::vector<int> tgt;  // decoder target, no BOS/EOS (make_batch adds them)
  // One entry per tgt token: how many source positions separate the source token that
  // determines it from the end of the source (S - p for 0-based position p; the last source
  // token has distance 1). The farthest one counts when several do; S when the whole source does.
  // -1 when unknown (file datasets).
  std::vector<int> distance;
  // A task's own one-stream layout (data/stream.hpp), when it has one: src is the whole stream,
  // labels[p] the token to predict at position p (Vocab::PAD: none) and label_distance[p] that
  // label's distance (-1: none). A stream-only example (Arjovsky's aligned copy memory, a text
  // window) has no target; others (mqar) keep their seq2seq target beside it.
  std::vector<int> labels, label_distance;

  bool has_stream_layout() const { return !labels.empty(); }
  bool stream_only() const { return has_stream_layout() && tgt.empty(); }
  bool operator==(const Example& o) const {
    return src == o.src && tgt == o.tgt && distance == o.distance && labels == o.labels &&
           label_distance == o.label_distance;
  }
};

}  // namespace attn::data
