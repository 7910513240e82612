// The encoder-decoder Transformer (models/transformer.hpp) as a model family.
#include <fmt/format.h>

#include <algorithm>

#include "autograd/shape.hpp"
#include "models/family.hpp"
#include "models/gradcheck_cases.hpp"
#include "models/transformer_fields.hpp"
#include "models/transformer.hpp"

namespace attn {

namespace {

std::vector<FieldSpec> transformer_fields() {
  std::vector<FieldSpec> f = width_fields();
  f.push_back(int_field("enc_layers", 2, "Encoder layers", 0));
  f.push_back(int_field("dec_layers", 2, "Decoder layers", 1));
  for (FieldSpec& s : block_fields("relu")) f.push_back(s);
  for (FieldSpec& s : position_fields("Positions (rope, alibi: in self-attention only; none: gpt only)")) f.push_back(s);
  f.push_back(bool_field("share_embeddings", false, "Source and target share one embedding table (equal vocabularies)"));
  f.push_back(bool_field("tie_output", false, "The output projection reuses the target embedding"));
  for (FieldSpec& s : f) s.in("Model");
  return f;
}

TransformerOptions options(const ModelConfig& c) {
  TransformerOptions o;
  o.layer = layer_config(c);
  o.enc_layers = c.integer("enc_layers");
  o.dec_layers = c.integer("dec_layers");
  o.pos = parse_pos_encoding(c.text("pos"));
  o.rope_base = c.real("rope_base");
  o.max_len = c.integer("max_len");
  o.share_embeddings = c.flag("share_embeddings");
  o.tie_output = c.flag("tie_output");
  return o;
}

void check(const ModelConfig& c) {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw Error("model config: " + what);
  };
  check_attention_fields(c);
  need(c.text("pos") != "none", "--pos none needs every self-attention causal: only gpt allows it");
  need(!c.flag("share_embeddings") || c.src_vocab == c.tgt_vocab,
       "share_embeddings needs equal source and target vocabularies");
}

void fit_to_data(ModelConfig& c, const DataShape& ds) {
  fit_position_table(c, (int64_t)std::max(ds.max_src_len, ds.max_tgt_len + 1), "sequence");
}

// In double: a config can ask for more than int64 can count.
double parameters(const ModelConfig& c) {
  const double d = (double)c.integer("d_model"), f = (double)c.integer("ff"), V = (double)c.tgt_vocab;
  const double enc = 4 * d * d + 2 * d * f + f + 9 * d;   // self-attention, feed-forward, 2 norms
  const double dec = 8 * d * d + 2 * d * f + f + 15 * d;  // plus cross-attention and a third norm
  double p = (double)c.src_vocab * d + (c.flag("share_embeddings") ? 0 : V * d) +
             (c.text("pos") == "learned" ? (double)c.integer("max_len") * d : 0);
  p += (double)c.integer("enc_layers") * enc + (double)c.integer("dec_layers") * dec + 4 * d;  // final norms
  p += c.flag("tie_output") ? V : V * d + V;
  return p;
}

std::vector<MemoryTerm> step_memory(const ModelConfig& c, const StepSize& n) {
  constexpr double F = 4;
  const double B = n.batch, S = n.src_len, T = n.tgt_len, L = std::max(S, T);
  const double d = (double)c.integer("d_model"), f = (double)c.integer("ff"), H = (double)c.integer("heads");
  const double enc_layers = (double)c.integer("enc_layers"), dec_layers = (double)c.integer("dec_layers");
  // Per token and layer on the tape: norm, packed q/k/v, attention output, fused output
  // projection + residual, norm, fused linear + relu, fused linear + residual (8d + ff); the
  // decoder adds cross-attention's norm, query, output and projection (4d) and its keys and
  // values over the source (2d per source token).
  const double enc = enc_layers * B * S * (8 * d + f), dec = dec_layers * B * (T * (12 * d + f) + S * 2 * d);
  // Each attention keeps its rows' max and 1/sum; each thread rebuilds one (batch, head)'s
  // score matrix and its gradient at a time.
  const double attn_layers = enc_layers + 2.0 * dec_layers;
  return {{"activations", F * (enc + dec + 2 * B * (S + T) * d)},
          {"attention statistics", F * attn_layers * B * H * L * 2},
          {"attention workspace", F * std::min(n.threads, B * H) * 2 * L * L},
          // Gradients alive at once during backward: about two layers' worth of activations.
          {"gradients in flight", F * 2 * B * L * (8 * d + f)}};
}

// Attention counted in full (not causal-halved).
double forward_flops(const ModelConfig& c, const StepSize& n) {
  const double D = (double)c.integer("d_model"), F = (double)c.integer("ff"), S = n.src_len, T = n.tgt_len,
               V = (double)c.tgt_vocab, E = (double)c.integer("enc_layers"), L = (double)c.integer("dec_layers");
  const double enc = S * E * (8 * D * D + 4 * D * F + 4 * S * D);
  const double dec = T * L * (8 * D * D + 4 * D * F + 4 * T * D + 4 * D * D + 4 * S * D) + S * L * 4 * D * D + T * 2 * D * V;
  return n.batch * (enc + dec);
}

void gradcheck_cases(std::vector<GradCase>& out) {
  ModelConfig t = ModelConfig::defaults("transformer");
  t.src_vocab = t.tgt_vocab = 5;
  t.set("d_model", 4).set("heads", 2).set("ff", 6).set("enc_layers", 1).set("dec_layers", 1).set("max_len", 4);
  add_model_case(out, "Seq2SeqTransformer", "reference_layout", t);
  ModelConfig p = t;
  p.set("norm_first", false).set("pos", "sinusoidal").set("share_embeddings", true).set("tie_output", true);
  p.set("activation", "gelu");
  add_model_case(out, "Seq2SeqTransformer", "post_ln_sinusoidal_tied", p);
  ModelConfig r = t;
  r.set("pos", "rope").set("rope_base", 100.0);
  add_model_case(out, "Seq2SeqTransformer", "rope", r);
  ModelConfig a = t;
  a.set("pos", "alibi").set("dec_layers", 2);
  add_model_case(out, "Seq2SeqTransformer", "alibi", a);
}

ModelFamily make_family() {
  ModelFamily f;
  f.name = "transformer";
  f.description = "Encoder-decoder Transformer (Vaswani et al. 2017), pre-LN by default, as PyTorch's nn.Transformer";
  f.fields = transformer_fields();
  f.caps.formats = {"seq2seq"};
  f.caps.decoding = "kv-cache";
  f.caps.attention = {{"encoder.layers.N.self_attn", "source", "source", false},
                      {"decoder.layers.N.self_attn", "target", "target", true},
                      {"decoder.layers.N.multihead_attn", "target", "source", false}};
  f.caps.bounded_positions = true;
  f.check = check;
  f.fit_to_data = fit_to_data;
  f.make_f32 = [](const ModelConfig& c, uint64_t seed) -> std::unique_ptr<Seq2SeqModel<float>> {
    return std::make_unique<Seq2SeqTransformer<float>>(c, options(c), seed);
  };
  f.make_f64 = [](const ModelConfig& c, uint64_t seed) -> std::unique_ptr<Seq2SeqModel<double>> {
    return std::make_unique<Seq2SeqTransformer<double>>(c, options(c), seed);
  };
  f.parameters = parameters;
  // Each decoder layer's cached keys and values: self-attention's over the target so far,
  // cross-attention's over the source.
  f.state_floats = [](const ModelConfig& c, double context) {
    return 2 * (double)c.integer("dec_layers") * (double)c.integer("d_model") * context;
  };
  f.step_memory = step_memory;
  f.forward_flops = forward_flops;
  f.gradcheck_cases = gradcheck_cases;
  f.position_limit = [](const ModelConfig& c) {
    return has_position_table(parse_pos_encoding(c.text("pos"))) ? c.integer("max_len") : int64_t(0);
  };
  return f;
}

}  // namespace

const ModelFamily& transformer_family() {
  static const ModelFamily f = make_family();
  return f;
}

}  // namespace attn
