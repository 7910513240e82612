// A padded batch, laid out row-major [B x S] / [B x T], ready for a seq2seq model, and for a
// language model also as one stream per row [B x L].
#pragma once
#include <cstdint>
#include <vector>

#include "data/example.hpp"
#include "data/vocab.hpp"

namespace attn::data {

struct Batch {
  int B = 0;
  int src_len = 0;  // S: longest source in the batch
  int tgt_len = 0;  // T: longest target in the batch + 1 (for BOS / EOS)
  std::vector<int> src;          // [B x S], PAD after each source
  std::vector<uint8_t> src_pad;  // [B x S], 1 where src is padding (the key-padding mask)
  std::vector<int> tgt_in;       // [B x T], BOS then the target, then PAD (decoder input)
  std::vector<int> tgt_out;      // [B x T], the target then EOS, then PAD (what to predict)
  std::vector<uint8_t> tgt_pad;  // [B x T], 1 where tgt_out is PAD (positions the loss skips)
  std::vector<int> distance;     // [B x T], each target token's distance; -1 at EOS, padding, unknown
  std::vector<int> src_lengths;  // [B]
  std::vector<int> tgt_lengths;  // [B], without EOS
  // The one-stream rendering (format lm, data/stream.hpp); len is 0 for seq2seq batches.
  int len = 0;                        // L: longest stream in the batch
  std::vector<int> tokens;            // [B x L], the model's input, PAD after each stream
  std::vector<int> labels;            // [B x L], the token to predict; PAD where the loss skips
  std::vector<int> label_distance;    // [B x L], each label's stream distance; -1 when none
  std::vector<int> stream_lengths;    // [B]

  bool is_stream() const { return len > 0; }
  // What the model's logits are scored against: labels for a stream, else tgt_out.
  const std::vector<int>& targets() const { return is_stream() ? labels : tgt_out; }

  int src_at(int b, int s) const { return src[(size_t)b * src_len + s]; }
  int tgt_out_at(int b, int t) const { return tgt_out[(size_t)b * tgt_len + t]; }
};

// Pads to the longest source and target among `examples`. Throws std::invalid_argument for an
// empty list, an empty source (attention over nothing), an id outside `vocab`, a special id inside an example, or a distance list whose
// length differs from the target's.
Batch make_batch(const std::vector<Example>& examples, const Vocab& vocab);

}  // namespace attn::data
