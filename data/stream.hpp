// The one-stream format (format "lm"), for decoder-only and other causal language models: one
// token sequence with a label at every position, PAD where the loss skips it (Zoology's -100).
//
// The default layout of any task or file dataset is `source SEP target EOS`, where SEP is the
// vocabulary's BOS id (shown as <sep>): the inputs are source, SEP and target; the label at SEP
// is the first target token, at each target token the next one, and at the last one EOS. With
// LossOn::all the source is trained on too: each source position is labelled with the token
// that follows it. Evaluation generates greedily from `source SEP`.
//
// Distance in a stream: the number of positions from the source token that determines a label
// to the position whose output predicts it. For target token j of a source of S tokens that is
// the seq2seq distance (S - p) plus j. Labels on the source (LossOn::all) have none (-1).
#pragma once
#include <string>
#include <vector>

#include "data/batch.hpp"

namespace attn::data {

enum class LossOn { target, all };
LossOn parse_loss_on(const std::string& s);  // "target" | "all"; throws data::Error
const char* loss_on_name(LossOn l);

// One example as a stream: input tokens, and per position a label (PAD: no loss) and a distance.
struct Stream {
  std::vector<int> tokens, labels, distance;
  int prompt = 0;  // tokens up to and including SEP, what generation starts from; 0: no generation
};
// An example with its task's own layout is that stream (loss_on does not apply: its labels say
// where the loss falls); any other is laid out `source SEP target`.
Stream to_stream(const Example& e, LossOn loss_on);

// The stream distance of target token j of `e` (-1 when unknown).
int stream_distance(const Example& e, size_t j);

// Fills b.len, b.tokens, b.labels and b.label_distance from `examples` (the batch's rows, in
// order), right-padded with PAD to the longest stream.
void add_stream(Batch& b, const std::vector<Example>& examples, LossOn loss_on);

}  // namespace attn::data
