#define BOOST_TEST_MODULE loop
#include "tests/common.hpp"
#include "tests/cli_runner.hpp"
#include "tests/float_bounds.hpp"

// The training loop and its step: micro-batches give the unsplit step's gradient, a model written
// outside the project trains with the loop and its hooks, and --resume / --config apply flags as
// documented (docs/cli.md).
#include <cmath>
#include <filesystem>
#include <fstream>

#include "data/dataset.hpp"
#include "nn/layers.hpp"
#include "train/hooks.hpp"
#include "train/loop.hpp"
#include "train/step.hpp"

using namespace attn;
using attn_test::attnlab;
using attn_test::contains;
using attn_test::TempDir;

namespace {

data::Dataset copy_data(int examples) {
  // Sources of 1 to 6 tokens, so the micro-batches below are padded to different widths.
  return data::Dataset(data::task_config("copy", {{"length", "6"}, {"min_length", "1"}}, {}, 3, examples, examples));
}

template <class T>
std::vector<double> gradients(Seq2SeqModel<T>& m) {
  std::vector<double> g;
  for (auto& [name, p] : m.named_parameters()) g.insert(g.end(), p->grad.begin(), p->grad.end());
  return g;
}

using attn_test::normwise;

// A model from outside the project's families: it predicts target position t from source token
// t through an embedding and a linear layer (enough to learn copy).
class PositionCopier : public Seq2SeqModel<float> {
 public:
  PositionCopier(int64_t vocab, Rng& rng)
      : Seq2SeqModel<float>(ModelConfig{}), emb_(vocab, 16, rng), out_(16, vocab, true, rng), rng_(1) {
    config.src_vocab = config.tgt_vocab = vocab;
    add_module("emb", emb_);
    add_module("out", out_);
  }
  Tensor<float> forward(Graph<float>& g, const SeqBatch& b) override {
    return out_.forward(g, emb_.forward(g, aligned(b, b.tgt_len), {b.batch, b.tgt_len}));
  }
  std::vector<std::vector<int>> greedy_decode(Graph<float>& g, const SeqBatch& src, int64_t max_steps, int,
                                              int eos) override {
    NoGrad<float> ng(g);
    g.reset();
    SeqBatch b = src;
    b.tgt_len = max_steps;
    Tensor<float> logits = forward(g, b);
    const int64_t V = config.tgt_vocab;
    std::vector<std::vector<int>> out(src.batch);
    for (int64_t i = 0; i < src.batch; ++i)
      for (int64_t t = 0; t < max_steps; ++t) {
        const float* row = logits.data() + (i * max_steps + t) * V;
        const int tok = int(std::max_element(row, row + V) - row);
        if (tok == eos) break;
        out[i].push_back(tok);
      }
    g.reset();
    return out;
  }
  Rng& dropout_rng() override { return rng_; }

 private:
  // Source token t for target position t (PAD past the source).
  static std::vector<int> aligned(const SeqBatch& b, int64_t len) {
    std::vector<int> ids;
    for (int64_t i = 0; i < b.batch; ++i)
      for (int64_t t = 0; t < len; ++t) ids.push_back(t < b.src_len ? b.src[i * b.src_len + t] : 0);
    return ids;
  }
  Embedding<float> emb_;
  Linear<float> out_;
  Rng rng_;
};

struct CountSteps : LoopHook {
  int64_t steps = 0, evals = 0;
  void after_step(LoopContext& c) override {
    ++steps;
    evals += c.eval.has_value();
  }
};

}  // namespace

// The gradient of the batch's mean token loss, from K micro-batches, is the unsplit one up to
// summation order. In float64 each entry sums the same per-token terms (fewer than 10^4 products
// of reductions over at most 64 terms) in another order: relative error below 10^4 * 2^-53
// = 1.1e-12 per entry before cancellation; 1e-10 leaves a factor of 100 for it. Weighting each
// micro-batch equally instead (the mean of means) is off by far more, which the last check shows.
BOOST_AUTO_TEST_CASE(micro_batches_give_the_unsplit_gradient) {
  const data::Dataset ds = copy_data(10);
  const data::Batch b = ds.train_batch(0, 12);
  for (const char* type : {"transformer", "lstm-attn"}) {
    BOOST_TEST_CONTEXT(type) {
      ModelConfig c = ModelConfig::defaults(type);
      c.src_vocab = c.tgt_vocab = (int64_t)ds.vocab().size();
      if (std::string(type) == "transformer") c.set("d_model", 8).set("heads", 2).set("ff", 16).set("max_len", 8);
      else c.set("hidden", 8).set("heads", 2);
      auto m = make_model<double>(c, 4);
      Graph<double> g;
      m->zero_grad();
      const double whole = accumulate_gradients(*m, g, b, 1, 0.1);
      const std::vector<double> ref = gradients(*m);
      for (int64_t k : {2, 3, 12}) {
        m->zero_grad();
        const double split = accumulate_gradients(*m, g, b, k, 0.1);
        BOOST_TEST(std::fabs(split - whole) <= 1e-12 * whole, k << " micro-batches: loss " << split << " vs " << whole);
        BOOST_TEST(normwise(gradients(*m), ref) <= 1e-10, k << " micro-batches");
      }
      // Equal weights per micro-batch: not the batch's token mean.
      m->zero_grad();
      double sum = 0;
      for (int i = 0; i < 12; i += 4) {
        Graph<double> h;
        const data::Batch part = batch_rows(b, i, i + 4);
        Tensor<double> loss = cross_entropy(m->forward(h, to_seq_batch(part)), part.tgt_out, data::Vocab::PAD, 0.1);
        sum += loss.item() / 3;
        const double w = 1.0 / 3;
        h.backward(loss, &w);
      }
      BOOST_TEST(normwise(gradients(*m), ref) > 1e-4);
    }
  }
}

BOOST_AUTO_TEST_CASE(batch_rows_trims_to_the_rows_own_lengths) {
  const data::Dataset ds = copy_data(10);
  const data::Batch b = ds.train_batch(1, 8);
  const data::Batch r = batch_rows(b, 2, 5);
  BOOST_TEST(r.B == 3);
  BOOST_TEST(r.src_len == *std::max_element(b.src_lengths.begin() + 2, b.src_lengths.begin() + 5));
  for (int i = 0; i < 3; ++i)
    for (int t = 0; t < r.src_len; ++t) BOOST_TEST(r.src_at(i, t) == b.src_at(i + 2, t));
}

// A model the project does not know trains with the loop, its step function and its hooks.
BOOST_AUTO_TEST_CASE(a_model_written_outside_the_project_trains_with_the_loop) {
  const data::Dataset ds = copy_data(100);
  Rng rng(5);
  PositionCopier model((int64_t)ds.vocab().size(), rng);
  OptimConfig oc;
  oc.lr = 0.05;
  Optimizer optim(oc, model.named_parameters());
  Graph<float> g;
  const StepSettings settings;
  const StepFn step = [&](int64_t i, double& lr) {
    lr = oc.lr;
    return train_step(model, optim, g, ds.train_batch((uint64_t)i, 32), settings, lr);
  };
  Evaluation evaluation(model, ds, 100);
  EarlyStopping early(0.95);
  CountSteps count;
  LoopState st;
  const LoopSchedule schedule{2000, 50, 50};
  BOOST_TEST_REQUIRE((run_loop(step, st, schedule, {&evaluation, &early, &count}) == LoopEnd::Finished));
  BOOST_TEST(early.stopped_early());
  BOOST_TEST(st.best >= 0.95);
  BOOST_TEST(count.steps == st.step);
  BOOST_TEST(count.evals == st.step / 50);
  BOOST_TEST(st.step < 2000);
}

// greedy_decode_full, the generic decoder, serves a model whose config names no family.
BOOST_AUTO_TEST_CASE(greedy_decode_full_serves_a_model_outside_the_registry) {
  const data::Dataset ds = copy_data(20);
  Rng rng(6);
  PositionCopier model((int64_t)ds.vocab().size(), rng);
  BOOST_TEST_REQUIRE(model.config.type.empty());
  Graph<float> g;
  const SeqBatch b = to_seq_batch(ds.batch(ds.examples(data::Split::Valid), false));
  const auto own = model.greedy_decode(g, b, 7, data::Vocab::BOS, data::Vocab::EOS);
  BOOST_TEST((greedy_decode_full(model, g, b, 7, data::Vocab::BOS, data::Vocab::EOS) == own));
}

namespace {
const std::string kTiny =
    "--task copy --task-opt length=4 --d-model 16 --heads 2 --ff 32 --enc-layers 1 --dec-layers 1 --batch 16 "
    "--eval-examples 50 --eval-every 10 --log-every 5 --threads 1 --quiet ";
}

// --resume --steps N goes on from a finished run, exactly as a run given N steps from the start
// (the constant schedule does not depend on the total).
BOOST_AUTO_TEST_CASE(resume_extends_a_finished_run_and_refuses_to_rewrite_it) {
  TempDir t;
  BOOST_TEST_REQUIRE(attnlab("train " + kTiny + "--steps 20 --out " + t / "a").code == 0);
  const auto more = attnlab("train --resume " + t / "a" + " --steps 40");
  BOOST_TEST_REQUIRE(more.code == 0, more.err);
  BOOST_TEST(contains(more.err, "from step 20 to 40"), more.err);
  BOOST_TEST_REQUIRE(attnlab("train " + kTiny + "--steps 40 --out " + t / "b").code == 0);
  const auto a = attn_test::metrics_without_timings(t / "a"), b = attn_test::metrics_without_timings(t / "b");
  BOOST_TEST(a.size() == 8u);
  BOOST_TEST((a == b));
  const auto summary = nlohmann::json::parse(attn_test::slurp(t / "a/summary.json"));
  BOOST_TEST(summary["steps"] == 40);
  BOOST_TEST(nlohmann::json::parse(attn_test::slurp(t / "a/config.json"))["steps"] == 40);
  for (const auto& [flags, needle] : std::vector<std::pair<std::string, std::string>>{
           {"--lr 0.5", "--lr"}, {"--d-model 32", "--d-model"}, {"--seed 7 --batch 8", "--batch, --seed"},
           {"--task-opt length=5", "--task-opt"}}) {
    BOOST_TEST_CONTEXT(flags) {
      const auto r = attnlab("train --resume " + t / "a" + " --steps 50 " + flags);
      BOOST_TEST(r.code == 2);
      BOOST_TEST(contains(r.err, needle + " would rewrite the run's past"), r.err);
    }
  }
  // The stored value given again changes nothing, so it is accepted.
  const auto same = attnlab("train --resume " + t / "a" + " --d-model 16 --lr 0.001 --eval-examples 60");
  BOOST_TEST(same.code == 0, same.err);
  BOOST_TEST(nlohmann::json::parse(attn_test::slurp(t / "a/config.json"))["eval_examples"] == 60);
}

BOOST_AUTO_TEST_CASE(a_config_file_is_read_and_flags_win) {
  TempDir t;
  std::ofstream(t / "c.json") << R"({"model": "lstm", "hidden": 24, "steps": 7, "lr": 0.01})";
  const auto r = attnlab("train --config " + t / "c.json" + " --steps 9 --dry-run");
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  const auto j = nlohmann::json::parse(r.out.substr(0, r.out.rfind("parameters:")));
  BOOST_TEST(j["steps"] == 9);
  BOOST_TEST(j["lr"] == 0.01);
  BOOST_TEST(j["model"] == "lstm");
  BOOST_TEST(j["hidden"] == 24);
  BOOST_TEST(!j.contains("d_model"));
  std::ofstream(t / "bad.json") << R"({"model": "lstm", "hiden": 24})";
  const auto bad = attnlab("train --config " + t / "bad.json" + " --dry-run");
  BOOST_TEST(bad.code == 2);
  BOOST_TEST(contains(bad.err, "unknown key 'hiden'"), bad.err);
}
