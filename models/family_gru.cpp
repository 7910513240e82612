// The GRU baselines (models/recurrent_seq2seq.hpp, nn/recurrent.hpp) as two model families: gru,
// and gru-attn (the same with attention over the encoder's outputs).
#include "models/family_recurrent.hpp"

namespace attn {

namespace {

ModelFamily make_family(bool attention) {
  RecurrentKind k;
  k.name = attention ? "gru-attn" : "gru";
  k.cell = "GRU";
  k.attention = attention;
  k.gates = 3;
  // Per token and layer: input and recurrent projections (3h each), r and z pre-activations and
  // activations (4h), and n's path and the update (about 7h).
  k.activation_width = 17;
  set_factories<GRU>(k);
  return recurrent_family(k);
}

}  // namespace

const ModelFamily& gru_family() {
  static const ModelFamily f = make_family(false);
  return f;
}

const ModelFamily& gru_attn_family() {
  static const ModelFamily f = make_family(true);
  return f;
}

}  // namespace attn
