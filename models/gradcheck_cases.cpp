// The shared part of the whole-model gradcheck cases; the configs are in each family's file.
#include "models/gradcheck_cases.hpp"

#include "models/family.hpp"
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

}  // namespace

void add_model_case(std::vector<GradCase>& out, const std::string& op, const std::string& name, const ModelConfig& c) {
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
  out.push_back(std::move(gc));
}


std::vector<GradCase> model_cases() {
  std::vector<GradCase> out;
  for (const ModelFamily* f : model_families())
    if (f->gradcheck_cases) f->gradcheck_cases(out);
  return out;
}
}  // namespace attn
