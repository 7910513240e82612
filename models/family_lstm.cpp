// The LSTM baselines (models/recurrent_seq2seq.hpp) as two model families: lstm, and lstm-attn
// (the same with attention over the encoder's outputs). Both take the forget-gate bias and
// chrono initialisation options (nn/lstm.hpp).
#include <fmt/format.h>

#include "autograd/shape.hpp"
#include "models/family_recurrent.hpp"

namespace attn {

namespace {

std::vector<FieldSpec> lstm_fields() {
  return {
      real_field("forget_bias", 0.0,
                 "Forget-gate bias at init: bias_ih's forget slice set to this, bias_hh's to 0 (0: PyTorch's init)"),
      int_field("chrono_init", 0,
                "Chrono init with this T_max: b_f = log U(1, T_max - 1), b_i = -b_f (0: off; T_max >= 2)"),
  };
}

void check_init(const ModelConfig& c) {
  const double fb = c.real("forget_bias");
  const int64_t tmax = c.integer("chrono_init");
  if (fb != 0.0 && tmax != 0)
    throw Error("model config: forget_bias and chrono_init both set the forget-gate bias; choose one");
  if (tmax == 1) throw Error("model config: chrono_init needs T_max >= 2 (or 0 for off), got 1");
}

ModelFamily make_family(bool attention) {
  RecurrentKind k;
  k.name = attention ? "lstm-attn" : "lstm";
  k.cell = "LSTM";
  k.attention = attention;
  k.gates = 4;
  k.state_vectors = 2;
  // Per token and layer: input and recurrent gate pre-activations, their sum and activations
  // (4h each), the cell, its tanh, the hidden state and the gate products (about 6h).
  k.activation_width = 22;
  k.extra_fields = lstm_fields();
  k.extra_options = [](const ModelConfig& c, RecurrentOptions& o) {
    o.forget_bias = c.real("forget_bias");
    o.chrono_init = c.integer("chrono_init");
  };
  k.extra_check = check_init;
  set_factories<LSTM>(k);
  return recurrent_family(k);
}

}  // namespace

const ModelFamily& lstm_family() {
  static const ModelFamily f = make_family(false);
  return f;
}

const ModelFamily& lstm_attn_family() {
  static const ModelFamily f = make_family(true);
  return f;
}

}  // namespace attn
