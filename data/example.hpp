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
  // A stream-native example (data/stream.hpp) has no target: src is the whole stream, labels[p]
  // the token to predict at p (Vocab::PAD: none) and distance[p] that label's distance.
  std::vector<int> labels;

  bool is_stream() const { return !labels.empty(); }
  bool operator==(const Example& o) const {
    return src == o.src && tgt == o.tgt && distance == o.distance && labels == o.labels;
  }
};

}  // namespace attn::data
