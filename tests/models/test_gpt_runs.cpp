#define BOOST_TEST_MODULE gpt_runs
#include "tests/common.hpp"

// gpt trained: on copy through the API until it decodes held-out sources, and from the CLI
// (train, eval, bench) as a user runs it.
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "data/task.hpp"
#include "models/checkpoint.hpp"
#include "models/family.hpp"
#include "models/memory_estimate.hpp"
#include "tests/cli_runner.hpp"
#include "tests/float_bounds.hpp"
#include "train/cli/bench.hpp"
#include "train/evaluate.hpp"
#include "train/optim.hpp"

using namespace attn;
using attn_test::attnlab;
using attn_test::TempDir;

// Trained on copy in the lm format until greedy decoding copies every validation example; then
// the held-out test examples decode to their sources.
BOOST_AUTO_TEST_CASE(a_gpt_trained_on_copy_decodes_the_copy) {
  data::DataConfig dc = data::task_config("copy", {{"length", "4"}, {"alphabet", "5"}}, {}, 1, 50, 50);
  dc.format = "lm";
  const data::Dataset ds(dc);
  ModelConfig c = ModelConfig::defaults("gpt");
  c.src_vocab = c.tgt_vocab = ds.vocab().size();
  c.set("d_model", 16).set("heads", 2).set("ff", 32).set("layers", 2).set("max_len", 16);
  auto m = make_model<float>(c, 1);
  OptimConfig oc;
  oc.lr = 0.01;
  Optimizer opt(oc, m->named_parameters());
  Graph<float> g;
  int64_t step = 0;
  for (; step < 3000; ++step) {
    if (step % 50 == 0 && evaluate(*m, ds, data::Split::Valid, 0).sequence_accuracy() == 1.0) break;
    const data::Batch b = ds.train_batch(step, 32);
    g.reset();
    m->zero_grad();
    g.backward(cross_entropy(m->forward(g, to_seq_batch(b)), b.targets(), data::Vocab::PAD));
    opt.clip_grad_norm(1.0);
    opt.step(oc.lr);
  }
  BOOST_TEST_MESSAGE("gpt learnt copy in " << step << " steps");
  BOOST_TEST_REQUIRE(step < 3000);
  m->eval();
  const std::vector<data::Example>& test = ds.examples(data::Split::Test);
  const auto out = predict_batch(*m, g, data::make_batch(test, ds.vocab()));
  for (size_t i = 0; i < test.size(); ++i) BOOST_TEST(out[i] == test[i].src, "test example " << i);
}

BOOST_AUTO_TEST_CASE(the_cli_trains_and_evaluates_a_gpt) {
  TempDir t;
  const auto r = attnlab("train --model gpt --task copy --steps 30 --threads 1 --quiet --out " + t / "run");
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  const auto s = nlohmann::json::parse(attn_test::slurp(t / "run/summary.json"));
  BOOST_TEST(s["steps"].get<int>() == 30);
  BOOST_TEST(s["params"].get<int64_t>() == count_parameters(load_model<float>(t / "run/best.safetensors")->config));
  const auto e = attnlab("eval --checkpoint " + t / "run/best.safetensors" + " --eval-examples 20 --json");
  BOOST_TEST(e.code == 0, e.err);
  // bench --arch gpt times it on the decoder-only yardstick's streams; forward_flops counts them.
  const auto b = attnlab("bench --arch gpt --model gpt --steps 1 --warmup 0 --no-peak --threads 1 --batch 2 "
                         "--seq-len 7 --vocab 9 --d-model 8 --heads 2 --ff 8 --layers 1 --memory-profile");
  BOOST_TEST_REQUIRE(b.code == 0, b.err);
  const auto j = nlohmann::json::parse(b.out);
  BOOST_TEST(j["model_gflop_per_step"].get<double>() > 0);
  BOOST_TEST(std::isfinite(j["final_loss"].get<double>()));
  // --gemm-profile's ceiling: every shape at its alone rate, the one-thread (per-head) shapes two
  // at a time on 2 threads, nothing else; with --no-peak its MFU is 0.
  const auto p = attnlab("bench --arch gpt --model gpt --steps 1 --warmup 0 --no-peak --threads 2 --batch 2 "
                         "--seq-len 7 --vocab 9 --d-model 8 --heads 2 --ff 8 --layers 1 --gemm-profile");
  BOOST_TEST_REQUIRE(p.code == 0, p.err);
  const auto jp = nlohmann::json::parse(p.out);
  BOOST_TEST(!jp["gemm_shapes"].empty());
  for (const auto& x : jp["gemm_shapes"]) BOOST_TEST(x["gflop_per_s_alone"].get<double>() > 0);
  BOOST_TEST(jp["gemm_ceiling"]["ms"] == attn::cli::gemm_ceiling_json(jp["gemm_shapes"], 0, 0, 2)["ms"]);
  BOOST_TEST(jp["gemm_ceiling"]["ms"].get<double>() > 0);
  BOOST_TEST(jp["gemm_ceiling"]["mfu"].get<double>() == 0.0);
  BOOST_TEST(!j.contains("gemm_ceiling"));
  // The tiled attention kernel, forced at small blocks, gives the first step's loss of whole rows
  // to float32 rounding (one layer: attention, feed-forward, head; reductions of at most 12
  // terms); bad kernel flags are one clear error.
  const std::string small = "bench --arch gpt --model gpt --steps 1 --warmup 0 --no-peak --threads 1 --batch 2 "
                            "--seq-len 12 --vocab 9 --d-model 8 --heads 2 --ff 8 --layers 1 ";
  const auto whole = attnlab(small + "--attention-kernel whole"), tiled = attnlab(small + "--attention-kernel tiled --attention-blocks 4x5");
  BOOST_TEST_REQUIRE(whole.code == 0, whole.err);
  BOOST_TEST_REQUIRE(tiled.code == 0, tiled.err);
  const auto jw = nlohmann::json::parse(whole.out), jt = nlohmann::json::parse(tiled.out);
  BOOST_TEST(jt["attention_kernel"]["q_block"] == 4);
  const double lw = jw["final_loss"].get<double>(), lt = jt["final_loss"].get<double>();
  BOOST_TEST(std::abs(lw - lt) <= attn_test::f32_network_bound(3, 12, lw), lw << " against " << lt);
  // ATTNLAB_ATTENTION sets the kernel for any command (bench's flag overrides it); another value
  // is one clear error.
  setenv("ATTNLAB_ATTENTION", "whole", 1);
  const auto by_env = attnlab(small);
  setenv("ATTNLAB_ATTENTION", "flash", 1);
  const auto bad_env = attnlab("models");
  unsetenv("ATTNLAB_ATTENTION");
  BOOST_TEST_REQUIRE(by_env.code == 0, by_env.err);
  BOOST_TEST(nlohmann::json::parse(by_env.out)["attention_kernel"]["kind"] == "whole");
  BOOST_TEST(nlohmann::json::parse(by_env.out)["final_loss"] == jw["final_loss"]);
  BOOST_TEST(bad_env.code == 2);
  BOOST_TEST(bad_env.err.find("ATTNLAB_ATTENTION: 'flash' is not one of auto, whole, tiled") != std::string::npos, bad_env.err);
  for (const char* bad : {"--attention-kernel flash", "--attention-blocks 4", "--attention-blocks 0x8", "--attention-blocks 4x8x"}) {
    const auto r = attnlab(small + bad);
    BOOST_TEST(r.code == 2, bad);
    BOOST_TEST(r.err.find(std::string(bad).substr(0, 18)) != std::string::npos, bad << ": " << r.err);
  }
  // Attention maps of the stream source SEP output, both axes labelled by its tokens.
  const auto m = attnlab("predict --checkpoint " + t / "run/best.safetensors" + " --input '3 1 4' --attention " + t / "maps");
  BOOST_TEST_REQUIRE(m.code == 0, m.err);
  const auto doc = nlohmann::json::parse(attn_test::slurp(t / "maps/attention.json"));
  const auto& stream = doc["stream"];
  BOOST_TEST(stream[3] == "<sep>");
  BOOST_TEST(doc["maps"].size() == 2u);  // one per layer
  for (const auto& map : doc["maps"]) {
    BOOST_TEST(map["queries"] == stream);
    BOOST_TEST(map["keys"] == stream);
    BOOST_TEST(map["weights"][0][1].get<double>() == 0.0);  // head 0 flat [query][key]: query 0 sees key 0 only
  }
  BOOST_TEST(std::filesystem::exists(t / "maps/layers.1.self_attn.head3.png"));
  const auto f = attnlab("train --model gpt --format seq2seq --dry-run");
  BOOST_TEST(f.code == 2);
  BOOST_TEST(attn_test::contains(f.err, "does not take --format seq2seq"), f.err);
}

// Known answers: 2 calls of 1000 x 1000 x 500 on 2 threads at 100 GFLOP/s take 0.02 s; 1000
// per-head calls of 100 x 100 x 50 at 50 GFLOP/s take 0.02 s on one thread, 0.01 s two at a time.
BOOST_AUTO_TEST_CASE(the_gemm_ceiling_runs_each_shape_at_its_alone_rate) {
  auto shapes = nlohmann::json::array({
      {{"m", 1000}, {"n", 1000}, {"k", 500}, {"calls", 2}, {"threads", 2}, {"gflop_per_s_alone", 100.0}},
      {{"m", 100}, {"n", 100}, {"k", 50}, {"calls", 1000}, {"threads", 1}, {"gflop_per_s_alone", 50.0}}});
  const auto two = attn::cli::gemm_ceiling_json(shapes, 3.0, 200.0, 2);
  BOOST_TEST(two["ms"].get<double>() == 30.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(two["mfu"].get<double>() == 0.5, boost::test_tools::tolerance(1e-12));  // 3 GFLOP / 0.03 s / 200
  shapes[0]["threads"] = 1;  // --threads 1: every call alone, one after another
  const auto one = attn::cli::gemm_ceiling_json(shapes, 3.0, 200.0, 1);
  BOOST_TEST(one["ms"].get<double>() == 40.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(attn::cli::gemm_ceiling_json(shapes, 3.0, 0.0, 1)["mfu"].get<double>() == 0.0);  // no peak measured
}

// gpt trains from the CLI on every task (the positions cycling through every --pos), on a TSV
// file dataset and on a text corpus: a few steps each, to show each combination runs end to end.
BOOST_AUTO_TEST_CASE(gpt_trains_on_every_task_file_dataset_and_text) {
  TempDir t;
  const char* pos[] = {"learned", "sinusoidal", "rope", "alibi", "none"};
  const std::string small = " --steps 2 --eval-every 2 --eval-examples 4 --batch 4 --d-model 8 --heads 2 --ff 8 "
                            "--layers 1 --threads 1 --quiet ";
  int i = 0;
  for (const std::string& task : data::task_names()) {
    const std::string p = pos[i++ % 5];
    const auto r = attnlab("train --model gpt --pos " + p + " --task " + task + small + "--out " + t / task);
    BOOST_TEST(r.code == 0, task << " --pos " << p << ": " << r.err);
  }
  // Arjovsky's aligned layout: a label at every position, scored at fixed positions.
  const auto aligned = attnlab("train --model gpt --task copy-memory --task-opt layout=aligned --task-opt delay=5" + small +
                               "--out " + t / "aligned");
  BOOST_TEST_REQUIRE(aligned.code == 0, aligned.err);
  const auto sa = nlohmann::json::parse(attn_test::slurp(t / "aligned/summary.json"));
  BOOST_TEST(sa["test_accuracy_by_distance"].contains("15"));  // T + N = 5 + 10
  const auto s2s = attnlab("train --model transformer --task copy-memory --task-opt layout=aligned --dry-run");
  BOOST_TEST(s2s.code == 2);
  BOOST_TEST(attn_test::contains(s2s.err, "needs a language model"), s2s.err);
  std::ofstream(t / "train.tsv") << "a b\tb a\nb c\tc b\nc a\ta c\n";
  std::ofstream(t / "valid.tsv") << "a c\tc a\n";
  std::ofstream(t / "test.tsv") << "b a\ta b\n";
  for (const char* p : pos) {
    const auto r = attnlab("train --model gpt --pos " + std::string(p) + " --data-dir " + t.dir.string() + small +
                           "--out " + t / ("files-" + std::string(p)));
    BOOST_TEST(r.code == 0, "files --pos " << p << ": " << r.err);
  }
  std::string text;
  for (int k = 0; k < 200; ++k) text += "the cat sat on the mat. ";
  std::ofstream(t / "text.txt") << text;
  const auto r = attnlab("train --model gpt --data-text " + t / "text.txt" + " --block 16" + small + "--out " + t / "text");
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  const auto s = attnlab("predict --checkpoint " + t / "text/best.safetensors" + " --input 'the ' --sample 40");
  BOOST_TEST(s.code == 0, s.err);
  BOOST_TEST(s.out.rfind("the ", 0) == 0, s.out);  // the prompt, then the sample as text
  // eval sizes the text model's table as training did (a window is its own stream).
  const auto e = attnlab("eval --checkpoint " + t / "text/best.safetensors" + " --eval-examples 4 --json");
  BOOST_TEST(e.code == 0, e.err);
  // Without --sample a text model predicts the next character at each position of the input.
  const auto p = attnlab("predict --checkpoint " + t / "text/best.safetensors" + " --input 'the cat' --attention " +
                         t / "text-maps");
  BOOST_TEST(p.code == 0, p.err);
  BOOST_TEST(std::filesystem::exists(t / "text-maps/layers.0.self_attn.head0.png"));
}
