#define BOOST_TEST_MODULE mamba_runs
#include "tests/common.hpp"

// mamba from the command line as a user runs it: it learns copy in the lm format, evaluates,
// samples text, takes --ssm-lti, refuses --format seq2seq, and `bench --arch gpt --model mamba`.
#include <cmath>
#include <fstream>

#include "models/checkpoint.hpp"
#include "models/memory_estimate.hpp"
#include "tests/cli_runner.hpp"

using namespace attn;
using attn_test::attnlab;
using attn_test::TempDir;

// 400 steps on copy of 4 symbols from 5 (about 10 s on one thread): it was 1.000 on the test
// split when measured; 0.9 leaves room for other kernels' rounding.
BOOST_AUTO_TEST_CASE(the_cli_trains_a_mamba_that_learns_copy) {
  TempDir t;
  const auto r = attnlab("train --model mamba --task copy --task-opt length=4 --task-opt alphabet=5 --lr 0.01 "
                         "--steps 400 --threads 1 --quiet --out " + t / "run");
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  const auto s = nlohmann::json::parse(attn_test::slurp(t / "run/summary.json"));
  BOOST_TEST(s["steps"].get<int>() == 400);
  BOOST_TEST(s["params"].get<int64_t>() == count_parameters(load_model<float>(t / "run/best.safetensors")->config));
  BOOST_TEST(s["test_sequence_accuracy"].get<double>() >= 0.9, s.dump());
  const auto e = attnlab("eval --checkpoint " + t / "run/best.safetensors" + " --eval-examples 20 --json");
  BOOST_TEST(e.code == 0, e.err);
}

BOOST_AUTO_TEST_CASE(the_time_invariant_ablation_and_text_run_end_to_end) {
  TempDir t;
  const std::string small = " --steps 2 --eval-every 2 --eval-examples 4 --batch 4 --d-model 8 --layers 1 "
                            "--d-state 4 --threads 1 --quiet ";
  const auto lti = attnlab("train --model mamba --ssm-lti --task copy" + small + "--out " + t / "lti");
  BOOST_TEST_REQUIRE(lti.code == 0, lti.err);
  const auto c = nlohmann::json::parse(attn_test::slurp(t / "lti/config.json"));
  BOOST_TEST(c.dump().find("\"ssm_lti\":true") != std::string::npos, c.dump());
  std::string text;
  for (int k = 0; k < 200; ++k) text += "the cat sat on the mat. ";
  std::ofstream(t / "text.txt") << text;
  const auto r = attnlab("train --model mamba --data-text " + t / "text.txt" + " --block 16" + small + "--out " + t / "text");
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  const auto s = attnlab("predict --checkpoint " + t / "text/best.safetensors" + " --input 'the ' --sample 40");
  BOOST_TEST(s.code == 0, s.err);
  BOOST_TEST(s.out.rfind("the ", 0) == 0, s.out);
}

BOOST_AUTO_TEST_CASE(seq2seq_is_refused_with_one_clear_error) {
  const auto f = attnlab("train --model mamba --format seq2seq --dry-run");
  BOOST_TEST(f.code == 2);
  BOOST_TEST(f.err == "attnlab: error: --model mamba does not take --format seq2seq (it takes: lm)\n", f.err);
}

BOOST_AUTO_TEST_CASE(bench_times_it_on_the_decoder_only_yardstick) {
  const auto b = attnlab("bench --arch gpt --model mamba --steps 1 --warmup 0 --no-peak --threads 1 --batch 2 "
                         "--seq-len 7 --vocab 9 --d-model 8 --layers 1 --memory-profile");
  BOOST_TEST_REQUIRE(b.code == 0, b.err);
  const auto j = nlohmann::json::parse(b.out);
  BOOST_TEST(j["model_gflop_per_step"].get<double>() > 0);
  BOOST_TEST(std::isfinite(j["final_loss"].get<double>()));
}
