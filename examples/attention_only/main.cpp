// A model attnlab does not have, two attention layers and nothing else, built from its nn modules
// and trained by its step function and loop on the built-in copy task (docs/library.md).
#include <fmt/core.h>
#include "autograd/blas.hpp"
#include "nn/attention.hpp"
#include "train/hooks.hpp"
#include "train/step.hpp"

using namespace attn;

// Each target position reads the source through two cross-attention layers with residuals. Both
// sides carry sinusoidal positions, so target position t can find source position t.
class AttentionOnly : public Seq2SeqModel<float> {
 public:
  AttentionOnly(int64_t vocab, int64_t d, Rng& rng)
      : Seq2SeqModel<float>(ModelConfig{}), d_(d), emb_(vocab, d, rng), attn1_(d, 2, rng), attn2_(d, 2, rng),
        norm_(d), out_(d, vocab, true, rng) {
    config.src_vocab = config.tgt_vocab = vocab;  // config.type stays empty: no registered family
    add_module("emb", emb_), add_module("attn1", attn1_), add_module("attn2", attn2_);
    add_module("norm", norm_), add_module("out", out_);
  }
  Tensor<float> forward(Graph<float>& g, const SeqBatch& b) override {
    const Tensor<float> src = embed(g, b.src, b.batch, b.src_len);
    const AttentionMask mask(false, b.src_pad);  // padded source positions are never attended to
    Tensor<float> h = embed(g, b.tgt_in, b.batch, b.tgt_len);
    h = attn1_.forward(g, h, src, src, mask, h);  // h + attention(h, src, src)
    h = attn2_.forward(g, h, src, src, mask, h);
    return out_.forward(g, norm_.forward(g, h));
  }
  std::vector<std::vector<int>> greedy_decode(Graph<float>& g, const SeqBatch& src, int64_t max_steps, int bos,
                                              int eos) override {
    return greedy_decode_full(*this, g, src, max_steps, bos, eos);  // reruns forward on each prefix
  }
  Rng& dropout_rng() override { return no_dropout_; }

 private:
  Tensor<float> embed(Graph<float>& g, const std::vector<int>& ids, int64_t B, int64_t T) {
    return add(emb_.forward(g, ids, {B, T}), g.tensor({T, d_}, sinusoidal_table<float>(0, T, d_)));
  }
  int64_t d_;
  Embedding<float> emb_;
  MultiHeadAttention<float> attn1_, attn2_;
  LayerNorm<float> norm_;
  Linear<float> out_;
  Rng no_dropout_;  // nothing here draws from it
};

int main() {
  ensure_fast_blas();  // OpenBLAS 0.3.21's fast kernels on CPUs it does not know (may re-execute)
  const data::Dataset ds(data::task_config("copy", {{"length", "8"}}, {}, /*seed=*/1, 500, 500));
  Rng rng(1);
  AttentionOnly model(int64_t(ds.vocab().size()), 32, rng);
  OptimConfig oc;
  oc.lr = 3e-3, oc.schedule = "warmup-cosine", oc.warmup = 50;
  Optimizer optim(oc, model.named_parameters());
  Graph<float> g;
  const int64_t steps = 400;
  const StepFn step = [&](int64_t i, double& lr) {  // batch i of 32, at the schedule's rate
    lr = scheduled_lr(oc, i, steps);
    return train_step(model, optim, g, ds.train_batch(uint64_t(i), 32), StepSettings{}, lr);
  };
  Evaluation validation(model, ds, 500);  // a hook: validation every 100 steps, the best step kept
  LoopState state;
  run_loop(step, state, LoopSchedule{steps, 100, 100}, {&validation});
  const EvalResult test = evaluate(model, ds, data::Split::Test, 0);  // the final weights
  fmt::print("{} parameters, {} steps; best validation sequence accuracy {:.3f} (step {})\n"
             "test: sequence accuracy {:.3f}, token accuracy {:.3f} ({} examples; chance {:.3f})\n",
             model.num_parameters(), state.step, state.best, state.best_step, test.sequence_accuracy(),
             test.token_accuracy(), test.examples, test.chance.token);
}
