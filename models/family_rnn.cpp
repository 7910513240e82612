// The Elman RNN baselines (models/recurrent_seq2seq.hpp, nn/recurrent.hpp, tanh) as two model
// families: rnn, and rnn-attn (the same with attention over the encoder's outputs).
#include "models/family_recurrent.hpp"

namespace attn {

namespace {

ModelFamily make_family(bool attention) {
  RecurrentKind k;
  k.name = attention ? "rnn-attn" : "rnn";
  k.cell = "RNN";
  k.attention = attention;
  k.gates = 1;
  // Per token and layer: the input and recurrent projections, their sum, its tanh and the
  // padding blend (about h each).
  k.activation_width = 5;
  set_factories<RNN>(k);
  return recurrent_family(k);
}

}  // namespace

const ModelFamily& rnn_family() {
  static const ModelFamily f = make_family(false);
  return f;
}

const ModelFamily& rnn_attn_family() {
  static const ModelFamily f = make_family(true);
  return f;
}

}  // namespace attn
