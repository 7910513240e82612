#define BOOST_TEST_MODULE sweep_emit
#include "tests/common.hpp"

// `attnlab sweep --emit`: the cluster jobs it writes, run here for real (GNU parallel) or by
// hand (Slurm's array bodies), give the direct sweep's results.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <vector>

#include "tests/cli_runner.hpp"
#include "tests/train/sweep_fixtures.hpp"

using attn_test::attnlab;
using attn_test::contains;
using attn_test::count;
using attn_test::kTiny;
using attn_test::Run;
using attn_test::slurp;
using attn_test::TempDir;
namespace fs = std::filesystem;

namespace {

// results.csv without its `seconds` column: wall time is the one thing two runs of the same
// config do not share.
std::string without_seconds(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  std::string out, line;
  std::istringstream in(csv);
  size_t drop = std::string::npos;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream ls(line);
    while (std::getline(ls, cell, ',')) cells.push_back(cell);
    if (drop == std::string::npos) drop = std::find(cells.begin(), cells.end(), "seconds") - cells.begin();
    if (drop < cells.size()) cells.erase(cells.begin() + (long)drop);
    for (const std::string& c : cells) out += c + ",";
    out += "\n";
  }
  return out;
}

// Every log under `dir`, each headed by its name: what a failed job printed.
std::string logs_of(const std::string& dir) {
  std::string out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out += "--- " + e.path().string() + ":\n" + slurp(e.path().string());
  return out;
}

const std::string kEmitGrid = kTiny + "--vary length=3,4 --seeds 2 --tune-lr 0.001,0.003 --tune-seeds 1 ";

}  // namespace

// The GNU parallel jobs, run for real, give the direct sweep's results.csv.
BOOST_AUTO_TEST_CASE(emitted_parallel_jobs_give_the_direct_results) {
  TempDir t;
  const Run direct = attnlab(kEmitGrid + "--out " + t / "direct");
  BOOST_TEST_REQUIRE(direct.code == 0, direct.err);
  const Run emit = attnlab(kEmitGrid + "--emit parallel --emit-shards 3 --jobs 2 --out " + t / "par");
  BOOST_TEST_REQUIRE(emit.code == 0, emit.err);
  BOOST_TEST(contains(emit.out, "3 shards, 2 at a time"), emit.out);
  BOOST_TEST(!fs::exists(t / "par/runs"));  // written, not run
  const std::string lines = slurp(t / "par/emit/shards.txt");
  BOOST_TEST(count(lines, "--shard ") == 3u, lines);
  BOOST_TEST(contains(lines, "--shard 3/3 --jobs 1"), lines);
  BOOST_TEST(contains(lines, "--lr-from " + t / "par/tuning.json"), lines);
  BOOST_TEST(!contains(lines, "--tune-lr"), lines);
  const int status = std::system(("bash " + t / "par/emit/parallel.sh > " + t / "par.log 2>&1").c_str());
  BOOST_TEST_REQUIRE(status == 0, "status " << status << "\n" << slurp(t / "par.log") << "joblog:\n" << slurp(t / "par/emit/parallel.joblog")
                                                << logs_of(t / "par/emit/logs"));
  BOOST_TEST(without_seconds(slurp(t / "par/results.csv")) == without_seconds(slurp(t / "direct/results.csv")));
  BOOST_TEST(slurp(t / "par/tuning.json") == slurp(t / "direct/tuning.json"));
}

// The Slurm scripts: checked by content (no Slurm here), then their bodies run under bash with
// SLURM_ARRAY_TASK_ID set by hand, in the order submit.sh would.
BOOST_AUTO_TEST_CASE(emitted_slurm_jobs_say_what_they_need_and_their_bodies_run) {
  TempDir t;
  const Run direct = attnlab(kEmitGrid + "--out " + t / "direct");
  BOOST_TEST_REQUIRE(direct.code == 0, direct.err);
  const Run emit = attnlab(kEmitGrid + "--emit slurm --emit-shards 3 --out " + t / "sl");
  BOOST_TEST_REQUIRE(emit.code == 0, emit.err);
  const std::string dir = t / "sl/emit";
  const std::string shards = slurp(dir + "/shards.sbatch");
  for (const char* line : {"#SBATCH --array=1-3\n", "#SBATCH --cpus-per-task=1\n", "export OMP_NUM_THREADS=1\n",
                           "--shard ${SLURM_ARRAY_TASK_ID}/3 --jobs 1"})
    BOOST_TEST(contains(shards, line), line << " in\n" << shards);
  BOOST_TEST(contains(shards, "#SBATCH --output=" + dir + "/logs/shard-%a.log\n"), shards);
  BOOST_TEST(contains(shards, "#SBATCH --mem="), shards);
  const std::string submit = slurp(dir + "/submit.sh");
  BOOST_TEST(contains(submit, "tune=$(sbatch --parsable tune.sbatch)"), submit);
  BOOST_TEST(contains(submit, "--dependency=afterok:$tune shards.sbatch"), submit);
  BOOST_TEST(contains(submit, "sbatch --dependency=afterok:$array collect.sbatch"), submit);
  BOOST_TEST(contains(slurp(dir + "/tune.sbatch"), "--tune-only"));
  BOOST_TEST(contains(slurp(dir + "/collect.sbatch"), "sweep --collect " + t / "sl"));
  auto body = [&](const std::string& script, const std::string& env) {
    return std::system((env + " bash " + dir + "/" + script + " >> " + t / "sl.log 2>&1").c_str());
  };
  BOOST_TEST_REQUIRE(body("tune.sbatch", "") == 0, slurp(t / "sl.log"));
  for (int k = 1; k <= 3; ++k)
    BOOST_TEST_REQUIRE(body("shards.sbatch", "SLURM_ARRAY_TASK_ID=" + std::to_string(k)) == 0, slurp(t / "sl.log"));
  BOOST_TEST_REQUIRE(body("collect.sbatch", "") == 0, slurp(t / "sl.log"));
  BOOST_TEST(without_seconds(slurp(t / "sl/results.csv")) == without_seconds(slurp(t / "direct/results.csv")));
}

BOOST_AUTO_TEST_CASE(emit_refuses_what_it_cannot_write) {
  TempDir t;
  for (const char* extra : {"--emit pbs", "--emit slurm --plan", "--emit slurm --shard 1/2", "--emit slurm --emit-shards -1"}) {
    const Run r = attnlab(kTiny + "--vary length=3 --out " + t / "sw " + extra);
    BOOST_TEST(r.code == 2, extra << ": " << r.err);
    BOOST_TEST(!fs::exists(t / "sw/emit"), extra);
  }
}
