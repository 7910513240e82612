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

// The same two examples as one stream each (data/stream.hpp): source, SEP (1), target; the
// second right-padded. Labels on every real position, so that the source's logits get a gradient.
SeqBatch tiny_stream() {
  SeqBatch b = tiny_batch();
  b.len = 6;
  b.tokens = {3, 4, 2, 1, 3, 4, 4, 3, 1, 4, 3, 0};
  return b;
}
const std::vector<int> kStreamLabels = {4, 2, 1, 3, 4, 2, 3, 1, 4, 3, 2, 0};

bool reads_streams(const ModelConfig& c) { return c.resolved_format() == "lm"; }

}  // namespace

void add_model_case(std::vector<GradCase>& out, const std::string& op, const std::string& name, const ModelConfig& c,
                    const std::function<void(Seq2SeqModel<double>&)>& adjust) {
  auto m = std::shared_ptr<Seq2SeqModel<double>>(make_model<double>(c, 5));
  if (adjust) adjust(*m);
  GradCase gc;
  gc.op = op;
  gc.name = name;
  InputSpec anchor;  // the models take token ids only; this input just carries the graph
  anchor.shape = {1};
  anchor.requires_grad = false;
  gc.inputs = {anchor};
  const bool stream = reads_streams(c);
  gc.f64 = [m, stream](std::vector<Tensor<double>>& x) {
    const SeqBatch b = stream ? tiny_stream() : tiny_batch();
    Tensor<double> logits = m->forward(x[0].graph(), b);
    return cross_entropy(logits, stream ? kStreamLabels : std::vector<int>{3, 4, 2, 4, 2, 0}, 0, 0.1);
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
