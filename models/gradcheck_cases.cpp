// Gradcheck cases for the three whole models at tiny sizes: the loss's gradient with respect to
// every parameter, in float64, on a padded batch.
#include "models/gradcheck_cases.hpp"

#include "models/seq2seq.hpp"
#include "nn/gradcheck_cases.hpp"

namespace attn {

namespace {

SeqBatch tiny_batch() {
  SeqBatch b;
  b.batch = 2;
  b.src_len = 3;
  b.tgt_len = 3;
  b.src = {3, 4, 2, 4, 3, 0};  // second source padded at its end
  b.src_pad = {0, 0, 0, 0, 0, 1};
  b.tgt_in = {1, 3, 4, 1, 4, 0};
  b.tgt_pad = {0, 0, 0, 0, 0, 1};
  return b;
}

void model_case(std::vector<GradCase>& out, const std::string& name, const ModelConfig& c) {
  auto m = std::shared_ptr<Seq2SeqModel<double>>(make_model<double>(c, 5));
  GradCase gc;
  gc.op = c.type == "transformer" ? "Seq2SeqTransformer" : c.type == "lstm" ? "Seq2SeqLSTM" : "Seq2SeqLSTM+attention";
  gc.name = name;
  InputSpec anchor;  // the models take token ids only; this input just carries the graph
  anchor.shape = {1};
  anchor.requires_grad = false;
  gc.inputs = {anchor};
  gc.f64 = [m](std::vector<Tensor<double>>& x) {
    const SeqBatch b = tiny_batch();
    Tensor<double> logits = m->forward(x[0].graph(), b);
    return cross_entropy(logits, {3, 4, 2, 4, 2, 0}, 0, 0.1);
  };
  gc.externals = [m] { return parameter_inputs(*m); };
  gc.tol = module_tolerance();
  gc.is_op = false;
  out.push_back(std::move(gc));
}

void add_cases(std::vector<GradCase>& out) {
  ModelConfig t;
  t.src_vocab = t.tgt_vocab = 5;
  t.d_model = 4;
  t.heads = 2;
  t.ff = 6;
  t.enc_layers = t.dec_layers = 1;
  t.max_len = 4;
  model_case(out, "reference_layout", t);
  ModelConfig p = t;
  p.norm_first = false;
  p.pos = "sinusoidal";
  p.share_embeddings = p.tie_output = true;
  p.activation = "gelu";
  model_case(out, "post_ln_sinusoidal_tied", p);
  ModelConfig l = t;
  l.type = "lstm";
  l.hidden = 4;
  l.layers = 2;
  model_case(out, "two_layers", l);
  ModelConfig a = l;
  a.type = "lstm-attn";
  a.layers = 1;
  model_case(out, "one_layer", a);
}

}  // namespace

std::vector<GradCase> model_cases() {
  std::vector<GradCase> out;
  add_cases(out);
  return out;
}
}  // namespace attn
