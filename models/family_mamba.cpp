// Mamba (models/mamba.hpp, nn/mamba.hpp) as a model family: a selective state-space language
// model that trains on the one-stream format (lm) and decodes with a recurrent state.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "autograd/shape.hpp"
#include "models/family.hpp"
#include "models/gradcheck_cases.hpp"
#include "models/mamba.hpp"

namespace attn {

namespace {

std::vector<FieldSpec> mamba_fields() {
  std::vector<FieldSpec> f = {
      int_field("d_model", 64, "Width of embeddings and layers", 1),
      int_field("layers", 2,
                "Layers (gpt: Transformer blocks; mamba: Mamba blocks; recurrent families: layers of the encoder and "
                "of the decoder)",
                1),
      int_field("d_state", 16, "mamba: SSM state size N per channel", 1, 1024),
      int_field("d_conv", 4, "mamba: width of the causal depthwise convolution", 1, 64),
      int_field("expand", 2, "mamba: inner width E * d_model of x and z", 1, 16),
      int_field("dt_rank", 0, "mamba: rank of the step size's projection (0: ceil(d_model / 16))"),
      bool_field("ssm_lti", false,
                 "mamba: time-invariant SSM (no selection): delta from dt_proj.bias, B and C learned vectors"),
      bool_field("tie_output", false, "The output projection reuses the token embedding")};
  for (FieldSpec& s : f) s.in("Model");
  return f;
}

MambaOptions options(const ModelConfig& c) {
  MambaOptions o;
  o.mixer.d_model = c.integer("d_model");
  o.mixer.n_layer = c.integer("layers");
  o.mixer.d_state = c.integer("d_state");
  o.mixer.d_conv = c.integer("d_conv");
  o.mixer.expand = c.integer("expand");
  o.mixer.dt_rank = c.integer("dt_rank");
  o.mixer.lti = c.flag("ssm_lti");
  o.tie_output = c.flag("tie_output");
  return o;
}

void check(const ModelConfig& c) {
  if (c.src_vocab != c.tgt_vocab)
    throw Error("model config: mamba reads and predicts one vocabulary: src_vocab and tgt_vocab must be equal");
}

// Nothing to fit: no position table, so any stream length works.
void fit_to_data(ModelConfig&, const DataShape&) {}

struct Sizes {
  double D, ED, N, K, R, V, layers;
  bool lti, tied;
};
Sizes sizes(const ModelConfig& c) {
  const MambaMixerConfig m = options(c).mixer;
  return {(double)m.d_model, (double)m.inner(), (double)m.d_state, (double)m.d_conv, (double)m.rank(),
          (double)c.tgt_vocab, (double)m.n_layer, m.lti, c.flag("tie_output")};
}

// In double: a config can ask for more than int64 can count.
double parameters(const ModelConfig& c) {
  const Sizes s = sizes(c);
  const double ssm_in = s.lti ? 2 * s.N : s.ED * (s.R + 2 * s.N) + s.ED * s.R;  // B, C or x_proj, dt_proj.weight
  // in_proj, conv1d weight and bias, (ssm inputs), dt_proj.bias, A_log, D, out_proj, norm
  const double layer = 2 * s.ED * s.D + s.ED * s.K + s.ED + ssm_in + s.ED + s.ED * s.N + s.ED + s.D * s.ED + s.D;
  return s.V * s.D + s.layers * layer + s.D + (s.tied ? 0 : s.V * s.D);
}

// Per token and block, the values the tape keeps: in_proj's 2ED, the x and z slices, conv, two
// silu, delta's projection and softplus, the scan, the gate product (10 ED), x_proj and its three
// slices (2 (R + 2N)), norm, out_proj and the residual (3 D). The scan's backward recomputes its
// states, 2 L ED N per thread, instead of keeping B L ED N.
std::vector<MemoryTerm> step_memory(const ModelConfig& c, const StepSize& n) {
  constexpr double F = 4;
  const Sizes s = sizes(c);
  const double B = n.batch, L = n.src_len + n.tgt_len;
  const double token = 10 * s.ED + 2 * (s.R + 2 * s.N) + 3 * s.D;
  return {{"activations", F * (s.layers * B * L * token + 2 * B * L * s.D)},
          {"scan workspace", F * std::min(n.threads, B) * (2 * L * s.ED * s.N + 2 * s.ED * s.N + s.ED)},
          {"gradients in flight", F * 2 * B * L * token},
          // estimate_training_memory counts logits over tgt_len positions; a stream has src_len more.
          {"output logits over the source", F * 3 * B * n.src_len * s.V}};
}

// The projections' matmuls, and the scan's 6 ED N (exp's argument, decay, input, output) and the
// conv's 2 ED K per token, though they are not matmuls: here they are a real share of the work.
double forward_flops(const ModelConfig& c, const StepSize& n) {
  const Sizes s = sizes(c);
  const double L = n.src_len + n.tgt_len;
  const double proj = s.lti ? 0 : 2 * s.ED * (s.R + 2 * s.N) + 2 * s.R * s.ED;
  const double layer = 2 * s.D * 2 * s.ED + proj + 2 * s.ED * s.D + 6 * s.ED * s.N + 2 * s.ED * s.K;
  return n.batch * L * (s.layers * layer + 2 * s.D * s.V);
}

// At the reference's init delta = softplus(dt_proj.bias) lies in [0.001, 0.1], so the state
// barely decays and the gradients of A_log, dt_proj and B, C are about 1e-6: central
// differences (noise about 1e-10) could not check them. The cases set delta's bias to
// softplus^-1 of 0.3 to 1.5 instead.
void larger_steps(Seq2SeqModel<double>& m) {
  for (auto& [name, p] : m.named_parameters())
    if (name.size() > 12 && name.compare(name.size() - 12, 12, "dt_proj.bias") == 0)
      for (size_t i = 0; i < p->value.size(); ++i) p->value[i] = std::log(std::expm1(0.3 + 0.4 * double(i % 4)));
}

void gradcheck_cases(std::vector<GradCase>& out) {
  ModelConfig t = ModelConfig::defaults("mamba");
  t.src_vocab = t.tgt_vocab = 5;
  t.set("d_model", 4).set("layers", 2).set("d_state", 3).set("d_conv", 3).set("expand", 2).set("dt_rank", 2);
  add_model_case(out, "MambaLM", "selective_two_layers", t, larger_steps);
  ModelConfig l = t;
  l.set("ssm_lti", true).set("tie_output", true).set("layers", 1);
  add_model_case(out, "MambaLM", "lti_tied", l, larger_steps);
}

ModelFamily make_family() {
  ModelFamily f;
  f.name = "mamba";
  f.description = "Mamba (S6) selective state-space language model over `source SEP target` (Gu & Dao 2023)";
  f.fields = mamba_fields();
  f.caps.formats = {"lm"};
  f.caps.decoding = "recurrent-state";
  f.caps.bounded_positions = false;
  f.check = check;
  f.fit_to_data = fit_to_data;
  f.make_f32 = [](const ModelConfig& c, uint64_t seed) -> std::unique_ptr<Seq2SeqModel<float>> {
    return std::make_unique<MambaLM<float>>(c, options(c), seed);
  };
  f.make_f64 = [](const ModelConfig& c, uint64_t seed) -> std::unique_ptr<Seq2SeqModel<double>> {
    return std::make_unique<MambaLM<double>>(c, options(c), seed);
  };
  f.parameters = parameters;
  // Per block: the SSM state (ED x N) and the convolution's last K - 1 inputs (ED each).
  f.state_floats = [](const ModelConfig& c, double) {
    const Sizes s = sizes(c);
    return s.layers * s.ED * (s.N + s.K - 1);
  };
  f.step_memory = step_memory;
  f.forward_flops = forward_flops;
  f.gradcheck_cases = gradcheck_cases;
  f.position_limit = [](const ModelConfig&) { return int64_t(0); };
  return f;
}

}  // namespace

const ModelFamily& mamba_family() {
  static const ModelFamily f = make_family();
  return f;
}

}  // namespace attn
