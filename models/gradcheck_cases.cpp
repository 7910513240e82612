// Gradcheck cases for the three whole models at tiny sizes: the loss's gradient with respect to
// every parameter, in float64, on a padded batch.
#include "autograd/gradcheck.hpp"
#include "models/seq2seq.hpp"

namespace attn {

std::vector<ExternalInput> parameter_inputs(const Module<double>& m);  // nn/gradcheck_cases.cpp

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

void model_case(const std::string& op, const std::string& name, const ModelConfig& c) {
  auto m = std::shared_ptr<Seq2SeqModel<double>>(make_model<double>(c, 5));
  GradCase gc;
  gc.op = op;
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
  CaseRegistrar{std::move(gc)};
}

const bool kCases = [] {
  ModelConfig t = ModelConfig::defaults("transformer");
  t.src_vocab = t.tgt_vocab = 5;
  t.set("d_model", 4).set("heads", 2).set("ff", 6).set("enc_layers", 1).set("dec_layers", 1).set("max_len", 4);
  model_case("Seq2SeqTransformer", "reference_layout", t);
  ModelConfig p = t;
  p.set("norm_first", false).set("pos", "sinusoidal").set("share_embeddings", true).set("tie_output", true);
  p.set("activation", "gelu");
  model_case("Seq2SeqTransformer", "post_ln_sinusoidal_tied", p);
  ModelConfig l = ModelConfig::defaults("lstm");
  l.src_vocab = l.tgt_vocab = 5;
  l.set("hidden", 4).set("layers", 2);
  model_case("Seq2SeqLSTM", "two_layers", l);
  ModelConfig a = ModelConfig::defaults("lstm-attn");
  a.src_vocab = a.tgt_vocab = 5;
  a.set("hidden", 4).set("heads", 2).set("layers", 1);
  model_case("Seq2SeqLSTM+attention", "one_layer", a);
  return true;
}();

}  // namespace
}  // namespace attn
