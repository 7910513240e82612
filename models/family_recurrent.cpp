#include "models/family_recurrent.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "autograd/shape.hpp"
#include "models/gradcheck_cases.hpp"

namespace attn {

namespace {

std::vector<FieldSpec> fields(const RecurrentKind& k) {
  std::vector<FieldSpec> f = {
      int_field("hidden", 128, "Recurrent hidden size (also the attention's width in the -attn families)", 1),
      int_field("layers", 1, "Recurrent layers (in the encoder and in the decoder)", 1),
      real_field("dropout", 0.0, "Dropout probability", 0.0, 0.999999),
  };
  if (k.attention) f.push_back(int_field("heads", 4, "Attention heads", 1));
  for (const FieldSpec& s : k.extra_fields) f.push_back(s);
  for (FieldSpec& s : f) s.in("Model");
  return f;
}

RecurrentOptions options(const RecurrentKind& k, const ModelConfig& c) {
  RecurrentOptions o;
  o.hidden = c.integer("hidden");
  o.layers = (int)c.integer("layers");
  o.dropout = c.real("dropout");
  o.attention = k.attention;
  if (k.attention) o.heads = (int)c.integer("heads");
  if (k.extra_options) k.extra_options(c, o);
  return o;
}

bool is_lm(const ModelConfig& c) { return c.resolved_format() == "lm"; }

// Seq2seq: embeddings, encoder and decoder (every layer's input is H wide), attention, output
// layer. lm: one embedding, one stack, the output layer.
double parameters(const RecurrentKind& k, const ModelConfig& c) {
  const double h = (double)c.integer("hidden"), V = (double)c.tgt_vocab, layers = (double)c.integer("layers");
  const double stack = layers * k.gates * (2 * h * h + 2 * h);
  if (is_lm(c)) return V * h + stack + h * V + V;
  double p = ((double)c.src_vocab + V) * h + 2 * stack + h * V + V;
  if (k.attention) p += 4 * h * h + 4 * h;
  return p;
}

std::vector<MemoryTerm> step_memory(const RecurrentKind& k, const ModelConfig& c, const StepSize& n) {
  constexpr double F = 4;
  const double B = n.batch, S = n.src_len, T = n.tgt_len, L = is_lm(c) ? S + T : std::max(S, T);
  const double h = (double)c.integer("hidden"), w = k.activation_width;
  double act = (double)c.integer("layers") * B * (S + T) * w * h + B * (S + T) * h;
  std::vector<MemoryTerm> terms;
  // A stream of S + T tokens (tgt_len counts SEP); estimate_training_memory counts logits over
  // tgt_len positions only.
  if (is_lm(c)) terms.push_back({"output logits over the source", F * 3 * B * S * (double)c.tgt_vocab});
  if (k.attention) {
    act += B * T * 8 * h + B * S * 2 * h;
    terms.push_back({"attention workspace", F * std::min(n.threads, B * (double)c.integer("heads")) * 2 * S * T});
  }
  terms.push_back({"activations", F * act});
  terms.push_back({"gradients in flight", F * 2 * B * L * w * h});
  return terms;
}

// A tiny whole-model case: two layers without attention, one with it.
void gradcheck_cases(const RecurrentKind& k, std::vector<GradCase>& out) {
  ModelConfig c = ModelConfig::defaults(k.name);
  c.src_vocab = c.tgt_vocab = 5;
  c.set("hidden", 4).set("layers", k.attention ? 1 : 2);
  if (k.attention) c.set("heads", 2);
  const std::string op = "Seq2Seq" + k.cell + (k.attention ? "+attention" : "");
  add_model_case(out, op, k.attention ? "one_layer" : "two_layers", c);
  if (k.attention) return;
  c.format = "lm";
  add_model_case(out, "RecurrentLM" + k.cell, "two_layers", c);
}

std::string description(const RecurrentKind& k) {
  if (k.attention)
    return k.cell + " encoder-decoder whose decoder attends over the encoder's outputs (no input feeding)";
  return k.cell + " encoder-decoder (the encoder's final state starts the decoder), or with --format lm one " + k.cell +
         " over the stream `source SEP target`";
}

template <class M>
M make(const RecurrentKind& k, const ModelConfig& c, uint64_t seed, const std::function<M(const ModelConfig&, const RecurrentOptions&, uint64_t)>& seq2seq,
       const std::function<M(const ModelConfig&, const RecurrentOptions&, uint64_t)>& lm) {
  return (is_lm(c) ? lm : seq2seq)(c, options(k, c), seed);
}

}  // namespace

ModelFamily recurrent_family(const RecurrentKind& k) {
  ModelFamily f;
  f.name = k.name;
  f.description = description(k);
  f.fields = fields(k);
  f.caps.formats = {"seq2seq"};
  if (!k.attention) f.caps.formats.push_back("lm");
  f.caps.decoding = "recurrent-state";
  if (k.attention) f.caps.attention = {{"attn", "target", "source", false}};
  f.check = [k](const ModelConfig& c) {
    if (is_lm(c) && c.src_vocab != c.tgt_vocab)
      throw Error("model config: in format lm one vocabulary is read and predicted: src_vocab and tgt_vocab must be equal");
    if (k.attention && c.integer("hidden") % c.integer("heads") != 0)
      throw Error(fmt::format("model config: hidden {} is not divisible by {} heads", c.integer("hidden"),
                              c.integer("heads")));
    if (k.extra_check) k.extra_check(c);
  };
  f.fit_to_data = [](ModelConfig&, const DataShape&) {};
  f.make_f32 = [k](const ModelConfig& c, uint64_t seed) { return make(k, c, seed, k.make_f32, k.make_lm_f32); };
  f.make_f64 = [k](const ModelConfig& c, uint64_t seed) { return make(k, c, seed, k.make_f64, k.make_lm_f64); };
  f.parameters = [k](const ModelConfig& c) { return parameters(k, c); };
  // The decoder's (or the stream's) recurrent state; with attention also the encoder's outputs,
  // H per source token (at most the context).
  f.state_floats = [k](const ModelConfig& c, double context) {
    const double h = (double)c.integer("hidden");
    return (double)c.integer("layers") * k.state_vectors * h + (k.attention ? h * context : 0);
  };
  f.step_memory = [k](const ModelConfig& c, const StepSize& n) { return step_memory(k, c, n); };
  f.gradcheck_cases = [k](std::vector<GradCase>& out) { gradcheck_cases(k, out); };
  return f;
}

}  // namespace attn
