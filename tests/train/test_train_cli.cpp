#define BOOST_TEST_MODULE train_cli
#include "tests/common.hpp"

// The training CLI as a user meets it: files of a run, reproducibility, exact resume after an
// interruption, bad input, non-finite losses, eval, predict and sweep. Tiny models, so it is fast.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/cli_runner.hpp"
#include "train/evaluate.hpp"
#include "train/optim.hpp"

using attn_test::attnlab;
using attn_test::contains;
using attn_test::Run;
using attn_test::TempDir;
namespace fs = std::filesystem;

namespace {

// A small copy task and model: a run takes a second or two.
const std::string kTiny =
    "--task copy --task-opt length=4 --d-model 16 --heads 2 --ff 32 --enc-layers 1 --dec-layers 1 --batch 16 "
    "--eval-examples 50 --threads 1 --quiet ";

std::vector<nlohmann::json> metrics(const std::string& dir) { return attn_test::metrics_without_timings(dir); }

bool is_png(const std::string& path) {
  const std::string s = attn_test::slurp(path);
  return s.size() > 100 && s.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_run_writes_its_files) {
  TempDir t;
  const Run r = attnlab("train " + kTiny + "--steps 30 --eval-every 10 --log-every 5 --out " + t / "run");
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  for (const char* f : {"config.json", "metrics.jsonl", "metrics.csv", "last.safetensors", "best.safetensors",
                        "state.safetensors", "summary.json"})
    BOOST_TEST_CONTEXT(f) { BOOST_TEST(fs::exists(t / ("run/" + std::string(f)))); }
  BOOST_TEST(is_png(t / "run/loss.png"));
  BOOST_TEST(is_png(t / "run/accuracy.png"));
  const auto s = nlohmann::json::parse(attn_test::slurp(t / "run/summary.json"));
  for (const char* k : {"test_token_accuracy", "test_sequence_accuracy", "steps", "wall_seconds", "params"})
    BOOST_TEST_CONTEXT(k) { BOOST_TEST(s.contains(k)); }
  BOOST_TEST(s["steps"].get<int>() == 30);
  const auto rows = metrics(t / "run");
  BOOST_TEST(rows.size() == 6u);  // every 5 steps; evals at 10, 20, 30 share those rows
  BOOST_TEST(rows.back().contains("val_sequence_accuracy"));
  BOOST_TEST(rows.back().contains("val_accuracy_by_distance"));
  BOOST_TEST(contains(r.out, "sequence accuracy"));
  BOOST_TEST(contains(r.out, "chance"));
  // The run's config.json reruns it.
  const Run again = attnlab("train --config " + t / "run/config.json" + " --steps 10 --quiet --out " + t / "again");
  BOOST_TEST(again.code == 0, again.err);
  BOOST_TEST(nlohmann::json::parse(attn_test::slurp(t / "again/summary.json"))["steps"].get<int>() == 10);
}

BOOST_AUTO_TEST_CASE(same_seed_same_metrics) {
  TempDir t;
  for (const char* d : {"a", "b"})
    BOOST_TEST_REQUIRE(attnlab("train " + kTiny + "--steps 20 --eval-every 10 --dropout 0.1 --out " + t / d).code == 0);
  BOOST_TEST(metrics(t / "a") == metrics(t / "b"));
  BOOST_TEST(attnlab("train " + kTiny + "--steps 20 --eval-every 10 --dropout 0.1 --seed 9 --out " + t / "c").code == 0);
  BOOST_TEST(metrics(t / "a") != metrics(t / "c"));
}

// SIGINT mid-run writes a checkpoint; --resume then gives exactly the uninterrupted run's rows.
BOOST_AUTO_TEST_CASE(interrupted_and_resumed_run_matches_the_uninterrupted_one) {
  TempDir t;
  const std::string flags = kTiny + "--steps 1500 --eval-every 500 --log-every 10 --dropout 0.1 ";
  BOOST_TEST_REQUIRE(attnlab("train " + flags + "--out " + t / "whole").code == 0);
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string cmd = std::string("exec '") + ATTNLAB_BINARY + "' train " + flags + "--out " + t / "cut" + " >/dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), (char*)nullptr);
    _exit(127);
  }
  // Wait for the first metrics row (the loop is running), then interrupt.
  for (int i = 0; i < 600 && !fs::exists(t / "cut/metrics.jsonl"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  BOOST_TEST_REQUIRE(WIFEXITED(status));
  BOOST_TEST_REQUIRE(WEXITSTATUS(status) == 130);  // the signal came mid-run (1,500 steps take seconds)
  BOOST_TEST(metrics(t / "cut").size() < metrics(t / "whole").size());
  const Run r = attnlab("train --resume " + t / "cut");
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  BOOST_TEST(metrics(t / "cut") == metrics(t / "whole"));
}

BOOST_AUTO_TEST_CASE(bad_configurations_exit_2_and_write_nothing) {
  TempDir t;
  const std::string out = t / "bad";
  const std::pair<std::string, std::string> cases[] = {
      {"--d-model 30 --heads 4", "divisible"},
      {"--task nosuchtask", "nosuchtask"},
      {"--batch -3", "--batch"},
      {"--steps 0", "--steps"},
      {"--task-opt delay=-5", "delay"},
      {"--model nosuchmodel", "nosuchmodel"},  // (rnn and gru exist now)
      {"--optimizer lion", "lion"},
      {"--lr nan", "--lr"},
      {"--loss-on all", "--loss-on all applies to the lm format"},
      {"--format lm", "--model transformer does not take --format lm"},
      {"--data-text /nonexistent.txt", "--data-text is language modelling (format lm)"},
  };
  for (const auto& [flags, needle] : cases) {
    BOOST_TEST_CONTEXT(flags) {
      const Run r = attnlab("train " + flags + " --out " + out);
      BOOST_TEST(r.code == 2);
      BOOST_TEST(contains(r.err, needle), r.err);
      BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1);
      BOOST_TEST(!fs::exists(out));
    }
  }
  const Run unwritable = attnlab("train " + kTiny + "--out /proc/version/run");
  BOOST_TEST(unwritable.code == 2);
  BOOST_TEST(contains(unwritable.err, "/proc/version/run"));
  const Run flag = attnlab("train --no-such-flag");
  BOOST_TEST(flag.code == 2);
  BOOST_TEST(attnlab("train " + kTiny + "--steps 5 --out " + out).code == 0);
  const Run again = attnlab("train " + kTiny + "--steps 5 --out " + out);  // would overwrite a run
  BOOST_TEST(again.code == 2);
  BOOST_TEST(contains(again.err, "--resume"));
}

BOOST_AUTO_TEST_CASE(dry_run_prints_and_writes_nothing) {
  TempDir t;
  const Run r = attnlab("train " + kTiny + "--dry-run --out " + t / "dry");
  BOOST_TEST(r.code == 0);
  BOOST_TEST(contains(r.out, "parameters:"));
  BOOST_TEST(!fs::exists(t / "dry"));
}

BOOST_AUTO_TEST_CASE(a_non_finite_loss_stops_with_exit_3) {
  TempDir t;
  const Run r = attnlab("train " + kTiny + "--steps 50 --eval-every 10 --lr 1e30 --clip-norm 0 --out " + t / "nan");
  BOOST_TEST(r.code == 3, r.err);
  BOOST_TEST(contains(r.err, "step "));
  BOOST_TEST(contains(r.err, "not finite"));
  const Run a = attnlab("train " + kTiny + "--steps 50 --eval-every 10 --lr 1e30 --clip-norm 0 --detect-anomaly --out " + t / "nan2");
  BOOST_TEST(a.code == 3, a.err);
  BOOST_TEST(contains(a.err, "op '"), a.err);
}

BOOST_AUTO_TEST_CASE(eval_and_predict_work_from_the_checkpoint_alone) {
  TempDir t;
  BOOST_TEST_REQUIRE(attnlab("train " + kTiny + "--steps 20 --eval-every 10 --out " + t / "run").code == 0);
  const Run e = attnlab("eval --checkpoint " + t / "run/best.safetensors" + " --json --eval-examples 30");
  BOOST_TEST_REQUIRE(e.code == 0, e.err);
  const auto j = nlohmann::json::parse(e.out);
  BOOST_TEST(j["examples"].get<int>() == 30);
  for (const char* k : {"token_accuracy", "sequence_accuracy_ci", "chance_token", "accuracy_by_distance", "loss"})
    BOOST_TEST_CONTEXT(k) { BOOST_TEST(j.contains(k)); }
  const Run p = attnlab("predict --checkpoint " + t / "run/best.safetensors" + " --input '1 2 3 4' --attention " + t / "maps");
  BOOST_TEST_REQUIRE(p.code == 0, p.err);
  BOOST_TEST(!p.out.empty());
  BOOST_TEST(is_png(t / "maps/encoder.layers.0.self_attn.head0.png"));
  BOOST_TEST(is_png(t / "maps/decoder.layers.0.multihead_attn.head1.png"));
  BOOST_TEST(is_png(t / "maps/decoder.layers.0.self_attn.head1.png"));
  const auto maps = nlohmann::json::parse(attn_test::slurp(t / "maps/attention.json"));
  BOOST_TEST(maps["maps"].size() == 3u);
  // eval --task-opt rebuilds the knobs it was trained with, named ones (copy-memory's layout) too.
  BOOST_TEST_REQUIRE(attnlab("train --task copy-memory --task-opt symbols=2 --task-opt delay=3 --d-model 8 --heads 2 "
                             "--ff 8 --enc-layers 1 --dec-layers 1 --max-len 20 --steps 2 --eval-every 2 --eval-examples 5 --quiet "
                             "--out " + t / "cm").code == 0);
  const Run longer = attnlab("eval --checkpoint " + t / "cm/best.safetensors" + " --task-opt delay=6 --eval-examples 5");
  BOOST_TEST(longer.code == 0, longer.err);
  BOOST_TEST(contains(longer.out, "delay=6 layout=target"), longer.out);
  // A damaged checkpoint is one clear error.
  std::ofstream(t / "bad.safetensors") << "not a checkpoint";
  const Run bad = attnlab("eval --checkpoint " + t / "bad.safetensors");
  BOOST_TEST(bad.code == 2);
  BOOST_TEST(contains(bad.err, "bad.safetensors"));
}

BOOST_AUTO_TEST_CASE(sweep_shards_and_collects) {
  TempDir t;
  const std::string base = "sweep " + kTiny + "--steps 10 --eval-every 10 --vary length=3,5 --models transformer,lstm --hidden 16 --out " + t / "sw";
  BOOST_TEST_REQUIRE(attnlab(base + " --shard 1/2").code == 0);
  BOOST_TEST_REQUIRE(attnlab(base + " --shard 2/2").code == 0);
  const Run c = attnlab("sweep --collect " + t / "sw");
  BOOST_TEST_REQUIRE(c.code == 0, c.err);
  const std::string csv = attn_test::slurp(t / "sw/results.csv");
  BOOST_TEST(std::count(csv.begin(), csv.end(), '\n') == 5);  // header + 2 models x 2 values
  BOOST_TEST(is_png(t / "sw/accuracy_vs_length.png"));
  const Run bad = attnlab("sweep " + kTiny + "--vary nosuchknob=1,2 --out " + t / "sw2");
  BOOST_TEST(bad.code == 2);
  BOOST_TEST(contains(bad.err, "nosuchknob"));
}

BOOST_AUTO_TEST_CASE(wilson_interval_and_schedules) {
  // Wilson 95% interval for 8/10 is [0.4902, 0.9433]; for 0/1000 the upper bound is 0.0038.
  const attn::Interval a = attn::wilson(8, 10);
  BOOST_TEST(a.lo == 0.4902, boost::test_tools::tolerance(1e-3));
  BOOST_TEST(a.hi == 0.9433, boost::test_tools::tolerance(1e-3));
  BOOST_TEST(attn::wilson(0, 1000).hi == 0.0038, boost::test_tools::tolerance(2e-2));
  attn::OptimConfig c;
  c.lr = 1.0;
  c.schedule = "noam";
  c.warmup = 100;
  BOOST_TEST(attn::scheduled_lr(c, 99, 1000) == 1.0, boost::test_tools::tolerance(1e-12));  // peak at warmup
  BOOST_TEST(attn::scheduled_lr(c, 399, 1000) == 0.5, boost::test_tools::tolerance(1e-12));  // sqrt(100/400)
  c.schedule = "warmup-cosine";
  BOOST_TEST(attn::scheduled_lr(c, 49, 1000) == 0.5, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(attn::scheduled_lr(c, 999, 1000) == 0.0, boost::test_tools::tolerance(1e-9));
}
