#define BOOST_TEST_MODULE reliability
#include "tests/common.hpp"

// What users and machines do to a run: SIGKILL at any moment (inside checkpoint and metrics
// writes too, through the ATTNLAB_FAULT hook of models/fault.hpp), a full disk, checkpoints
// holding NaN, file bytes that are not printable. docs/reliability.md lists the promises.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "models/safetensors.hpp"
#include "train/run_files.hpp"
#include "tests/cli_runner.hpp"

using attn_test::attnlab;
using attn_test::contains;
using attn_test::metrics_without_timings;
using attn_test::Run;
using attn_test::TempDir;
namespace fs = std::filesystem;

namespace {

// A tiny model on a tiny task: six checkpoints in 60 steps, a fraction of a second per run.
const std::string kModel =
    "train --task copy --task-opt length=4 --d-model 16 --heads 2 --ff 32 --enc-layers 1 --dec-layers 1 --batch 8 "
    "--eval-examples 20 --threads 1 --quiet --dropout 0.1 ";
const std::string kRun = kModel + "--steps 60 --eval-every 10 --log-every 5 ";
// Long enough (a second or so) for kills at random times to land mid-run.
const std::string kLongRun = kModel + "--steps 1000 --eval-every 100 --log-every 20 ";

// Runs `ENV attnlab ARGS` through the shell; returns the raw wait status.
int run_with_env(const std::string& env, const std::string& args, const std::string& err_file = "/dev/null") {
  const std::string cmd = env + " exec '" + ATTNLAB_BINARY + "' " + args + " >/dev/null 2>" + err_file;
  return std::system(cmd.c_str());
}

nlohmann::json summary_without_timings(const std::string& dir) {
  auto j = nlohmann::json::parse(attn_test::slurp(dir + "/summary.json"));
  j.erase("wall_seconds");
  return j;
}

struct Reference {
  TempDir t;
  std::vector<nlohmann::json> rows;
  nlohmann::json summary;
  long fault_points = 0;  // how many a whole run passes
  explicit Reference(const std::string& run = kRun) {
    const std::string log = t / "count.log";
    BOOST_TEST_REQUIRE(run_with_env("ATTNLAB_FAULT=count", run + "--out " + t / "whole", log) == 0);
    const std::string err = attn_test::slurp(log);
    const auto at = err.find("fault points reached: ");
    BOOST_TEST_REQUIRE(at != std::string::npos, err);
    fault_points = std::stol(err.substr(at + 22));
    rows = metrics_without_timings(t / "whole");
    summary = summary_without_timings(t / "whole");
  }
};

// After a kill: --resume must succeed and end exactly as the uninterrupted run did.
void resume_and_compare(const Reference& ref, const std::string& dir, const std::string& what) {
  BOOST_TEST_CONTEXT(what) {
    const Run r = attnlab("train --resume " + dir);
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    BOOST_TEST(metrics_without_timings(dir) == ref.rows);
    BOOST_TEST(summary_without_timings(dir) == ref.summary);
    for (const char* f : {"/last.safetensors", "/best.safetensors"}) {  // the same weights, the same stamp
      const attn::Checkpoint a = attn::load_safetensors(dir + f), b = attn::load_safetensors(ref.t / "whole" + f);
      BOOST_TEST(a.metadata.at("step") == b.metadata.at("step"), f);
      BOOST_TEST_REQUIRE(a.tensors.size() == b.tensors.size());
      for (size_t i = 0; i < a.tensors.size(); ++i) BOOST_TEST((a.tensors[i].bytes == b.tensors[i].bytes), f << " " << a.tensors[i].name);
    }
    for (const auto& e : fs::directory_iterator(dir))
      BOOST_TEST(e.path().filename().string().find(".tmp") == std::string::npos, "left behind: " << e.path());
  }
}

}  // namespace

// SIGKILL at 24 fault points drawn from all that a run passes (most are inside checkpoint
// writes: between tensors, before fsync, before and after each rename; the others cut a metrics
// row in half), and at 8 random times.
BOOST_AUTO_TEST_CASE(sigkill_anywhere_then_resume_matches_the_uninterrupted_run) {
  const Reference ref;
  BOOST_TEST_REQUIRE(ref.fault_points > 100);
  std::mt19937 rng(2026);
  TempDir t;
  int killed = 0;
  for (int i = 0; i < 24; ++i) {
    const long at = 1 + (long)(rng() % (unsigned long)ref.fault_points);
    const std::string dir = t / ("kill" + std::to_string(i));
    const int status = run_with_env("ATTNLAB_FAULT=kill:" + std::to_string(at), kRun + "--out " + dir);
    BOOST_TEST_REQUIRE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL), "fault point " << at << " did not kill");
    ++killed;
    resume_and_compare(ref, dir, "killed at fault point " + std::to_string(at) + " of " + std::to_string(ref.fault_points));
  }
  // The timed kills land in the first half of the reference run's wall time. A run that ends
  // before its kill (this machine or its load changed since) is tried again with half the window.
  const auto t0 = std::chrono::steady_clock::now();
  const Reference long_ref(kLongRun);
  const auto run_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  unsigned window_ms = (unsigned)std::max<long long>(2, run_ms / 2);
  for (int i = 0; i < 8; ++i) {
    for (int attempt = 0;; ++attempt) {
      BOOST_TEST_REQUIRE(attempt < 8, "timed kill " << i << ": every run ended before its kill");
      const std::string dir = t / ("timed" + std::to_string(i) + "_" + std::to_string(attempt));
      const pid_t pid = fork();
      if (pid == 0) {
        const std::string cmd = "exec '" + std::string(ATTNLAB_BINARY) + "' " + kLongRun + "--out " + dir + " >/dev/null 2>&1";
        execl("/bin/sh", "sh", "-c", cmd.c_str(), (char*)nullptr);
        _exit(127);
      }
      for (int w = 0; w < 400 && !fs::exists(dir + "/config.json"); ++w) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % window_ms));
      kill(pid, SIGKILL);
      int status = 0;
      waitpid(pid, &status, 0);
      if (fs::exists(dir + "/config.json")) resume_and_compare(long_ref, dir, "killed at a random time");
      if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
        ++killed;
        break;
      }
      window_ms = std::max(2u, window_ms / 2);
    }
  }
  BOOST_TEST(killed == 32);  // the 24 fault-point kills and the 8 timed ones
}

// A write that fails (a full disk) names the file, and the checkpoint set before it stays whole:
// once there is room again, --resume ends as the uninterrupted run did.
BOOST_AUTO_TEST_CASE(a_failed_checkpoint_write_keeps_the_previous_set) {
  const Reference ref;
  TempDir t;
  const std::string dir = t / "full", err = t / "err";
  // Each file written passes one fsync point; the 4th is the second checkpoint's state file.
  const int status = run_with_env("ATTNLAB_FAULT=fail:checkpoint.fsync:4", kRun + "--out " + dir, err);
  BOOST_TEST_REQUIRE(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 1);
  const std::string msg = attn_test::slurp(err);
  BOOST_TEST(contains(msg, "state.safetensors"), msg);
  BOOST_TEST(contains(msg, "No space left on device"), msg);
  const attn::Checkpoint last = attn::load_safetensors(dir + "/last.safetensors");
  BOOST_TEST(last.metadata.at("step") == "10");
  BOOST_TEST(attn::load_safetensors(dir + "/state.safetensors").metadata.at("step") == "10");
  resume_and_compare(ref, dir, "after a failed write");
}

// A real file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored, so write() fails with EFBIG) hit by the
// very first checkpoint: one clear error naming the file, and no half-made run folder.
BOOST_AUTO_TEST_CASE(a_file_size_limit_before_the_first_checkpoint_leaves_no_folder) {
  TempDir t;
  const std::string dir = t / "limited", err = t / "err";
  // 64 KiB: room for config.json and the metrics, not for the state file (about 100 KiB).
  const std::string cmd = "trap '' XFSZ; ulimit -f 64; exec '" + std::string(ATTNLAB_BINARY) + "' " + kRun + "--out " +
                          dir + " >/dev/null 2>" + err;
  const int status = std::system(("bash -c \"" + cmd + "\"").c_str());
  BOOST_TEST_REQUIRE(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 1);
  const std::string msg = attn_test::slurp(err);
  BOOST_TEST(contains(msg, "state.safetensors"), msg);
  BOOST_TEST(contains(msg, "File too large"), msg);
  BOOST_TEST(!fs::exists(dir), "the failed run left " << dir);
}

// A checkpoint whose tensors hold NaN or Inf is refused, naming each tensor and its count;
// --allow-nonfinite loads it anyway, for forensics.
BOOST_AUTO_TEST_CASE(a_checkpoint_holding_nan_is_refused_by_name) {
  TempDir t;
  BOOST_TEST_REQUIRE(attnlab(kRun + "--out " + t / "run").code == 0);
  attn::Checkpoint ck = attn::load_safetensors(t / "run/best.safetensors");
  int poisoned = 0;
  for (attn::NamedTensor& x : ck.tensors)
    if (x.name == "out.bias") {
      const float bad[3] = {NAN, INFINITY, -NAN};
      std::memcpy(x.bytes.data(), bad, sizeof bad);
      poisoned = (int)x.numel();
    }
  BOOST_TEST_REQUIRE(poisoned > 3);
  attn::save_safetensors(t / "nan.safetensors", ck);
  for (const char* cmd : {"eval", "predict"}) {
    const std::string extra = std::string(cmd) == "predict" ? " --input '1 2 3'" : " --eval-examples 5";
    const Run r = attnlab(std::string(cmd) + " --checkpoint " + t / "nan.safetensors" + extra);
    BOOST_TEST(r.code == 2, cmd);
    BOOST_TEST(contains(r.err, "'out.bias' holds 3 of " + std::to_string(poisoned)), r.err);
    BOOST_TEST(contains(r.err, "--allow-nonfinite"), r.err);
    const Run ok = attnlab(std::string(cmd) + " --allow-nonfinite --checkpoint " + t / "nan.safetensors" + extra);
    BOOST_TEST(ok.code == 0, cmd << ": " << ok.err);
  }
  // The training state is checked too: --resume refuses a poisoned state.safetensors.
  attn::Checkpoint st = attn::load_safetensors(t / "run/state.safetensors");
  for (attn::NamedTensor& x : st.tensors)
    if (x.name.rfind("m.", 0) == 0) {
      const float bad = NAN;
      std::memcpy(x.bytes.data(), &bad, 4);
      break;
    }
  attn::save_safetensors(t / "run/state.safetensors", st);
  const Run r = attnlab("train --resume " + t / "run");
  BOOST_TEST(r.code == 2);
  BOOST_TEST(contains(r.err, "holds 1 of"), r.err);
}

// Bytes from a file that are not printable reach the terminal escaped, never raw.
BOOST_AUTO_TEST_CASE(error_messages_escape_bytes_from_files) {
  TempDir t;
  {  // a safetensors file whose tensor name holds an escape sequence and a stray byte
    std::string header = "{\"evil\x1b[2J\x07name\xff\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[0,2]}}";
    const uint64_t n = header.size();
    std::ofstream f(t / "evil.safetensors", std::ios::binary);
    f.write(reinterpret_cast<const char*>(&n), 8) << header << "ab";
  }
  const Run r = attnlab("eval --checkpoint " + t / "evil.safetensors");
  BOOST_TEST(r.code == 2);
  BOOST_TEST(!r.err.empty());
  for (unsigned char c : r.err) BOOST_TEST((c == '\n' || (c >= 0x20 && c < 0x7f)), "raw byte " << int(c) << " in: " << r.err);
  // A --config file with an unknown key holding an escape sequence (valid JSON: \u001b).
  std::ofstream(t / "config.json") << "{\"steps\": 5, \"x\\u001b]0;owned\\u0007\": 1}";
  const Run d = attnlab("train --config " + t / "config.json" + " --out " + t / "out");
  BOOST_TEST(d.code == 2, d.err);
  BOOST_TEST(contains(d.err, "\\x1b]0;owned\\x07"), d.err);
  for (unsigned char c : d.err) BOOST_TEST((c == '\n' || (c >= 0x20 && c < 0x7f)), "raw byte " << int(c) << " in: " << d.err);
}

// Under an 8 GB address-space limit, runs that cannot fit are refused before anything is
// allocated or written: exit 2, the estimate and its largest term, and no run folder.
BOOST_AUTO_TEST_CASE(a_run_too_large_for_memory_is_refused_up_front) {
  TempDir t;
  fs::create_directories(t / "long");
  {
    std::ofstream train(t / "long/train.tsv");
    train << "a b\tc\n";
    for (int i = 0; i < 2000000; ++i) train << (i % 2 ? "a " : "b ");
    train << "\tc\n";
    for (const char* f : {"valid.tsv", "test.tsv"}) std::ofstream(t / ("long/" + std::string(f))) << "a b\tc\n";
  }
  const std::pair<std::string, std::string> cases[] = {
      {"--d-model 100000", "optimiser state"},
      {"--task-opt delay=100000", "attention workspace"},
      {"--data-dir " + t / "long", "attention workspace"},
  };
  // (GCC defines __SANITIZE_ADDRESS__; clang answers __has_feature.)
#if defined(__has_feature)
#define ATTNLAB_CLANG_ASAN __has_feature(address_sanitizer)
#else
#define ATTNLAB_CLANG_ASAN 0
#endif
  // AddressSanitizer reserves terabytes of address space for its shadow memory, so an ASan
  // build cannot start under ulimit -v; there the same limit is given as --max-memory.
#if defined(__SANITIZE_ADDRESS__) || ATTNLAB_CLANG_ASAN
  const std::string limit = "", extra = " --max-memory 7812500K", where = "--max-memory 7812500K";
#else
  const std::string limit = "ulimit -v 8000000; ", extra = "", where = "address-space limit";
#endif
  for (const auto& [flags, largest] : cases) {
    BOOST_TEST_CONTEXT(flags) {
      const std::string out = t / "run", err = t / "err";
      const std::string cmd = limit + "exec '" + std::string(ATTNLAB_BINARY) + "' train " + flags + extra +
                              " --steps 2 --out " + out + " >/dev/null 2>" + err;
      const int status = std::system(("bash -c \"" + cmd + "\"").c_str());
      const std::string msg = attn_test::slurp(err);
      BOOST_TEST(WIFEXITED(status));
      BOOST_TEST(WEXITSTATUS(status) == 2, msg);
      BOOST_TEST(contains(msg, where), msg);
      BOOST_TEST(contains(msg, "The largest term is the " + largest), msg);
      BOOST_TEST(!fs::exists(out));
    }
  }
  // --max-memory sets the limit by hand.
  const Run r = attnlab(kRun + "--max-memory 1M --out " + t / "small");
  BOOST_TEST(r.code == 2);
  BOOST_TEST(contains(r.err, "--max-memory 1M"), r.err);
  BOOST_TEST(!fs::exists(t / "small"));
}

// The same seed on the same kernels (CPU kind, ISA path, thread count) gives identical metrics,
// and every run records those kernels in config.json and summary.json.
BOOST_AUTO_TEST_CASE(same_seed_same_kernels_same_metrics) {
  TempDir t;
  for (const char* run : {"a", "b"}) BOOST_TEST_REQUIRE(attnlab(kRun + "--out " + t / run).code == 0);
  BOOST_TEST(metrics_without_timings(t / "a") == metrics_without_timings(t / "b"));
  const auto config = nlohmann::json::parse(attn_test::slurp(t / "a/config.json"));
  const auto summary = nlohmann::json::parse(attn_test::slurp(t / "a/summary.json"));
  for (const auto& j : {config, summary}) {
    BOOST_TEST_REQUIRE(j.contains("machine"));
    const std::string isa = j["machine"]["isa"];
    BOOST_TEST((isa == "avx2" || isa == "avx512"));
    BOOST_TEST(!j["machine"]["blas_core"].get<std::string>().empty());
    BOOST_TEST(j["machine"]["threads"] == 1);
  }
  const char* want = std::getenv("ATTNLAB_ISA");
  if (want && std::string(want) != "auto") BOOST_TEST(config["machine"]["isa"] == want);
}

// Shards of one sweep write its shared files (sweep.json) at the same moment: each write still
// succeeds and leaves one writer's whole text, never a rename of another's half-file. Four
// processes, 300 writes each, so that writes overlap many times over.
BOOST_AUTO_TEST_CASE(concurrent_atomic_writes_of_one_file_all_succeed) {
  TempDir t;
  const std::string path = t / "shared.json";
  constexpr int kWriters = 4, kWrites = 300;
  std::vector<pid_t> pids;
  for (int w = 0; w < kWriters; ++w) {
    const pid_t pid = fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
      const std::string text(4096, char('a' + w));
      try {
        for (int i = 0; i < kWrites; ++i) attn::write_text_atomic(path, text);
      } catch (...) {
        _exit(1);
      }
      _exit(0);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    BOOST_TEST_REQUIRE(waitpid(pid, &status, 0) == pid);
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0), "a writer failed, status " << status);
  }
  const std::string final_text = attn_test::slurp(path);
  BOOST_TEST_REQUIRE(final_text.size() == 4096u);
  BOOST_TEST(final_text == std::string(4096, final_text[0]));
  for (const auto& e : fs::directory_iterator(t.dir)) BOOST_TEST(e.path().filename() == "shared.json", "left behind: " << e.path());
}
