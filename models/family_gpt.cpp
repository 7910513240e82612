// The decoder-only Transformer (models/gpt.hpp) as a model family: a causal language model that
// trains on the one-stream format (lm).
#include <fmt/format.h>

#include <algorithm>

#include "autograd/shape.hpp"
#include "models/family.hpp"
#include "models/gpt.hpp"
#include "models/gradcheck_cases.hpp"
#include "models/transformer_fields.hpp"

namespace attn {

namespace {

std::vector<FieldSpec> gpt_fields() {
  std::vector<FieldSpec> f = width_fields();
  f.push_back(int_field("layers", 2,
                        "Layers (gpt: Transformer blocks; mamba: Mamba blocks; recurrent families: layers of the encoder and of the decoder)", 1));
  for (FieldSpec& s : block_fields("gelu")) f.push_back(s);
  for (FieldSpec& s : position_fields("Positions")) f.push_back(s);
  f.push_back(bool_field("tie_output", false, "The output projection reuses the token embedding"));
  for (FieldSpec& s : f) s.in("Model");
  return f;
}

GptOptions options(const ModelConfig& c) {
  GptOptions o;
  o.layer = layer_config(c);
  o.layers = c.integer("layers");
  o.pos = parse_pos_encoding(c.text("pos"));
  o.rope_base = c.real("rope_base");
  o.max_len = c.integer("max_len");
  o.tie_output = c.flag("tie_output");
  return o;
}

bool has_table(const ModelConfig& c) { return has_position_table(parse_pos_encoding(c.text("pos"))); }

void check(const ModelConfig& c) {
  check_attention_fields(c);
  if (c.src_vocab != c.tgt_vocab)
    throw Error("model config: gpt reads and predicts one vocabulary: src_vocab and tgt_vocab must be equal");
}

// The longest stream: source, SEP, target (its last label, EOS, needs no position of its own),
// or a text corpus's block.
void fit_to_data(ModelConfig& c, const DataShape& ds) { fit_position_table(c, (int64_t)ds.stream_len(), "stream"); }

// In double: a config can ask for more than int64 can count.
double parameters(const ModelConfig& c) {
  const double d = (double)c.integer("d_model"), f = (double)c.integer("ff"), V = (double)c.tgt_vocab;
  const double layer = 4 * d * d + 2 * d * f + f + 9 * d;  // attention, feed-forward, 2 norms
  double p = V * d + (c.text("pos") == "learned" ? (double)c.integer("max_len") * d : 0);
  p += (double)c.integer("layers") * layer + 2 * d;  // the final norm
  return p + (c.flag("tie_output") ? V : V * d + V);
}

// A step reads streams of src_len + tgt_len tokens (source, SEP, target; tgt_len counts SEP).
std::vector<MemoryTerm> step_memory(const ModelConfig& c, const StepSize& n) {
  constexpr double F = 4;
  const double B = n.batch, L = n.src_len + n.tgt_len, layers = (double)c.integer("layers");
  const double d = (double)c.integer("d_model"), f = (double)c.integer("ff"), H = (double)c.integer("heads");
  // Per token and layer, as an encoder layer's (family_transformer.cpp): 8d + ff.
  return {{"activations", F * (layers * B * L * (8 * d + f) + 2 * B * L * d)},
          {"attention statistics", F * layers * B * H * L * 2},
          {"attention workspace", F * std::min(n.threads, B * H) * 2 * L * L},
          {"gradients in flight", F * 2 * B * L * (8 * d + f)},
          // estimate_training_memory counts logits over tgt_len positions; a stream has src_len more.
          {"output logits over the source", F * 3 * B * n.src_len * (double)c.tgt_vocab}};
}

// Attention counted in full (not causal-halved).
double forward_flops(const ModelConfig& c, const StepSize& n) {
  const double D = (double)c.integer("d_model"), F = (double)c.integer("ff"), V = (double)c.tgt_vocab;
  const double L = n.src_len + n.tgt_len, layers = (double)c.integer("layers");
  return n.batch * L * (layers * (8 * D * D + 4 * D * F + 4 * L * D) + 2 * D * V);
}

// One whole-model case per position encoding, each also varying the layer options.
void gradcheck_cases(std::vector<GradCase>& out) {
  ModelConfig t = ModelConfig::defaults("gpt");
  t.src_vocab = t.tgt_vocab = 5;
  t.set("d_model", 4).set("heads", 2).set("ff", 6).set("layers", 1).set("max_len", 6);
  add_model_case(out, "DecoderOnlyTransformer", "reference_layout", t);
  ModelConfig s = t;
  s.set("pos", "sinusoidal").set("norm_first", false).set("activation", "relu").set("tie_output", true);
  add_model_case(out, "DecoderOnlyTransformer", "sinusoidal_post_ln_relu_tied", s);
  ModelConfig z = t;
  z.set("pos", "none").set("layers", 2);
  add_model_case(out, "DecoderOnlyTransformer", "nope_two_layers", z);
  ModelConfig r = t;
  r.set("pos", "rope").set("rope_base", 100.0);  // a small base: the pair's angles differ a lot
  add_model_case(out, "DecoderOnlyTransformer", "rope", r);
  ModelConfig a = t;
  a.set("pos", "alibi");
  add_model_case(out, "DecoderOnlyTransformer", "alibi", a);
}

ModelFamily make_family() {
  ModelFamily f;
  f.name = "gpt";
  f.description = "Decoder-only Transformer language model over `source SEP target` (pre-LN, GELU, as GPT-2)";
  f.fields = gpt_fields();
  f.caps.formats = {"lm"};
  f.caps.decoding = "kv-cache";
  f.caps.attention = {{"layers.N.self_attn", "stream", "stream", true}};
  f.caps.bounded_positions = true;  // with a table (learned, sinusoidal); position_limit says
  f.check = check;
  f.fit_to_data = fit_to_data;
  f.make_f32 = [](const ModelConfig& c, uint64_t seed) -> std::unique_ptr<Seq2SeqModel<float>> {
    return std::make_unique<DecoderOnlyTransformer<float>>(c, options(c), seed);
  };
  f.make_f64 = [](const ModelConfig& c, uint64_t seed) -> std::unique_ptr<Seq2SeqModel<double>> {
    return std::make_unique<DecoderOnlyTransformer<double>>(c, options(c), seed);
  };
  f.parameters = parameters;
  f.state_floats = [](const ModelConfig& c, double context) {  // the KV cache
    return 2 * (double)c.integer("layers") * (double)c.integer("d_model") * context;
  };
  f.step_memory = step_memory;
  f.forward_flops = forward_flops;
  f.gradcheck_cases = gradcheck_cases;
  f.position_limit = [](const ModelConfig& c) { return has_table(c) ? c.integer("max_len") : int64_t(0); };
  return f;
}

}  // namespace

const ModelFamily& gpt_family() {
  static const ModelFamily f = make_family();
  return f;
}

}  // namespace attn
