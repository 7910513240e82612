// The recurrent baselines (models/lstm_seq2seq.hpp) as two model families: lstm, and lstm-attn
// (the same with attention over the encoder's outputs).
#include <fmt/format.h>

#include <algorithm>

#include "autograd/shape.hpp"
#include "models/family.hpp"
#include "models/gradcheck_cases.hpp"
#include "models/lstm_seq2seq.hpp"

namespace attn {

namespace {

std::vector<FieldSpec> lstm_fields(bool attention) {
  std::vector<FieldSpec> f = {
      int_field("hidden", 128, "LSTM hidden size (also the attention's width in lstm-attn)", 1),
      int_field("layers", 1, "LSTM layers", 1),
      real_field("dropout", 0.0, "Dropout probability", 0.0, 0.999999),
  };
  if (attention) f.push_back(int_field("heads", 4, "Attention heads", 1));
  for (FieldSpec& s : f) s.in("Model");
  return f;
}

LstmOptions options(const ModelConfig& c, bool attention) {
  LstmOptions o;
  o.hidden = c.integer("hidden");
  o.layers = (int)c.integer("layers");
  o.dropout = c.real("dropout");
  o.attention = attention;
  if (attention) o.heads = (int)c.integer("heads");
  return o;
}

double parameters(const ModelConfig& c, bool attention) {
  const double h = (double)c.integer("hidden"), V = (double)c.tgt_vocab, layers = (double)c.integer("layers");
  double p = ((double)c.src_vocab + V) * h + 2 * layers * (8 * h * h + 8 * h) + h * V + V;
  if (attention) p += 4 * h * h + 4 * h;
  return p;
}

std::vector<MemoryTerm> step_memory(const ModelConfig& c, const StepSize& n, bool attention) {
  constexpr double F = 4;
  const double B = n.batch, S = n.src_len, T = n.tgt_len, L = std::max(S, T);
  const double h = (double)c.integer("hidden");
  // Per token and layer: input and recurrent gate pre-activations, their sum and activations
  // (4h each), the cell, its tanh, the hidden state and the gate products (about 6h).
  double act = (double)c.integer("layers") * B * (S + T) * 22 * h + B * (S + T) * h;
  std::vector<MemoryTerm> terms;
  if (attention) {
    act += B * T * 8 * h + B * S * 2 * h;
    terms.push_back({"attention workspace", F * std::min(n.threads, B * (double)c.integer("heads")) * 2 * S * T});
  }
  terms.push_back({"activations", F * act});
  terms.push_back({"gradients in flight", F * 2 * B * L * 22 * h});
  return terms;
}

void gradcheck_cases(std::vector<GradCase>& out, bool attention) {
  ModelConfig c = ModelConfig::defaults(attention ? "lstm-attn" : "lstm");
  c.src_vocab = c.tgt_vocab = 5;
  c.set("hidden", 4).set("layers", attention ? 1 : 2);
  if (attention) c.set("heads", 2);
  add_model_case(out, attention ? "Seq2SeqLSTM+attention" : "Seq2SeqLSTM", attention ? "one_layer" : "two_layers", c);
}

ModelFamily make_family(bool attention) {
  ModelFamily f;
  f.name = attention ? "lstm-attn" : "lstm";
  f.description = attention ? "LSTM encoder-decoder whose decoder attends over the encoder's outputs (no input feeding)"
                            : "LSTM encoder-decoder: the encoder's final state starts the decoder";
  f.fields = lstm_fields(attention);
  f.caps.formats = {"seq2seq"};
  f.caps.decoding = "recurrent-state";
  if (attention) f.caps.attention = {{"attn", "target", "source", false}};
  f.check = [attention](const ModelConfig& c) {
    if (attention && c.integer("hidden") % c.integer("heads") != 0)
      throw Error(fmt::format("model config: hidden {} is not divisible by {} heads", c.integer("hidden"),
                              c.integer("heads")));
  };
  f.fit_to_data = [](ModelConfig&, const DataShape&) {};
  f.make_f32 = [attention](const ModelConfig& c, uint64_t seed) -> std::unique_ptr<Seq2SeqModel<float>> {
    return std::make_unique<Seq2SeqLSTM<float>>(c, options(c, attention), seed);
  };
  f.make_f64 = [attention](const ModelConfig& c, uint64_t seed) -> std::unique_ptr<Seq2SeqModel<double>> {
    return std::make_unique<Seq2SeqLSTM<double>>(c, options(c, attention), seed);
  };
  f.parameters = [attention](const ModelConfig& c) { return parameters(c, attention); };
  f.step_memory = [attention](const ModelConfig& c, const StepSize& n) { return step_memory(c, n, attention); };
  f.gradcheck_cases = [attention](std::vector<GradCase>& out) { gradcheck_cases(out, attention); };
  return f;
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
