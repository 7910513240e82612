#include "data/batch.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <stdexcept>

namespace attn::data {

namespace {
void check_ids(const std::vector<int>& ids, const Vocab& vocab, size_t row, const char* side) {
  for (int id : ids)
    if (id < 0 || id >= vocab.size() || id == Vocab::PAD || id == Vocab::BOS || id == Vocab::EOS)
      throw std::invalid_argument(
          fmt::format("make_batch: example {} {} holds id {} (vocabulary size {}; PAD/BOS/EOS not allowed)",
                      row, side, id, vocab.size()));
}
}  // namespace

Batch make_batch(const std::vector<Example>& examples, const Vocab& vocab) {
  if (examples.empty()) throw std::invalid_argument("make_batch: no examples");
  Batch b;
  b.B = (int)examples.size();
  for (size_t i = 0; i < examples.size(); ++i) {
    const Example& e = examples[i];
    if (e.src.empty()) throw std::invalid_argument(fmt::format("make_batch: example {} has an empty source", i));
    check_ids(e.src, vocab, i, "source");
    check_ids(e.tgt, vocab, i, "target");
    if (e.has_stream_layout() && (e.labels.size() != e.src.size() || e.label_distance.size() != e.src.size()))
      throw std::invalid_argument(fmt::format("make_batch: example {} has {} labels and {} label distances for {} "
                                              "tokens", i, e.labels.size(), e.label_distance.size(), e.src.size()));
    for (int y : e.labels)
      if (y != Vocab::PAD && (y < 0 || y >= vocab.size() || y == Vocab::BOS))
        throw std::invalid_argument(fmt::format("make_batch: example {} has label id {} (vocabulary size {})", i, y,
                                                vocab.size()));
    if (e.distance.size() != e.tgt.size())
      throw std::invalid_argument(fmt::format("make_batch: example {} has {} distances for {} target tokens", i,
                                              e.distance.size(), e.tgt.size()));
    b.src_len = std::max(b.src_len, (int)e.src.size());
    b.tgt_len = std::max(b.tgt_len, (int)e.tgt.size() + 1);
  }
  const size_t ns = (size_t)b.B * b.src_len, nt = (size_t)b.B * b.tgt_len;
  b.src.assign(ns, Vocab::PAD);
  b.src_pad.assign(ns, 1);
  b.tgt_in.assign(nt, Vocab::PAD);
  b.tgt_out.assign(nt, Vocab::PAD);
  b.tgt_pad.assign(nt, 1);
  b.distance.assign(nt, -1);
  for (int r = 0; r < b.B; ++r) {
    const Example& e = examples[r];
    const size_t s0 = (size_t)r * b.src_len, t0 = (size_t)r * b.tgt_len;
    std::copy(e.src.begin(), e.src.end(), b.src.begin() + s0);
    std::fill_n(b.src_pad.begin() + s0, e.src.size(), 0);
    b.tgt_in[t0] = Vocab::BOS;
    std::copy(e.tgt.begin(), e.tgt.end(), b.tgt_in.begin() + t0 + 1);
    std::copy(e.tgt.begin(), e.tgt.end(), b.tgt_out.begin() + t0);
    b.tgt_out[t0 + e.tgt.size()] = Vocab::EOS;
    std::fill_n(b.tgt_pad.begin() + t0, e.tgt.size() + 1, 0);
    std::copy(e.distance.begin(), e.distance.end(), b.distance.begin() + t0);
    b.src_lengths.push_back((int)e.src.size());
    b.tgt_lengths.push_back((int)e.tgt.size());
  }
  return b;
}

}  // namespace attn::data
