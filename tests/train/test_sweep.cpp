#define BOOST_TEST_MODULE sweep
#include "tests/common.hpp"

// `attnlab sweep` results that cannot mislead: run folders named by a hash of their config, no
// stale reuse, one column per setting, best_step in every table, categorical axes, and error bars
// that say what they are. Tiny models, so each run takes a second or two.
#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <nlohmann/json.hpp>

#include "data/task.hpp"
#include "tests/cli_runner.hpp"
#include "tests/train/sweep_fixtures.hpp"
#include "train/plot.hpp"
#include "train/sweep_key.hpp"

using attn_test::attnlab;
using attn_test::count;
using attn_test::kTiny;
using attn_test::contains;
using attn_test::Run;
using attn_test::slurp;
using attn_test::TempDir;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> header(const std::string& csv) {
  std::vector<std::string> cols;
  std::string cur;
  for (char c : csv.substr(0, csv.find('\n')) + ",") {
    if (c == ',') {
      cols.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  return cols;
}

size_t folders(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_directory();
  return n;
}

attn::TrainArgs copy_args() {
  attn::TrainArgs a;
  a.task = "copy";
  a.task_opt = {"length=4"};
  return a;
}

}  // namespace

BOOST_AUTO_TEST_CASE(fnv1a_matches_the_published_vectors) {
  BOOST_TEST(attn::fnv1a64("") == 0xcbf29ce484222325ull);
  BOOST_TEST(attn::fnv1a64("a") == 0xaf63dc4c8601ec8cull);
  BOOST_TEST(attn::fnv1a64("foobar") == 0x85944171f73967e8ull);
}

BOOST_AUTO_TEST_CASE(the_hash_covers_what_changes_results) {
  const attn::TrainArgs base = copy_args();
  const std::string h = attn::config_hash(attn::result_config(base));
  BOOST_TEST(h.size() == 12u);
  auto hash_with = [](attn::TrainArgs a) { return attn::config_hash(attn::result_config(a)); };
  attn::TrainArgs a = base;
  a.max_memory = "8G";
  a.detect_anomaly = true;
  a.quiet = true;
  BOOST_TEST(hash_with(a) == h);  // refuse or check a run, never change it
  a = base;
  a.lr = 0.003;
  BOOST_TEST(hash_with(a) != h);
  a = base;
  a.threads = 3;  // BLAS and OpenMP round differently with another thread count
  BOOST_TEST(hash_with(a) != h);
  a = base;
  a.task_opt = {"length=5"};
  BOOST_TEST(hash_with(a) != h);
  a = base;
  a.test_task_opt = {"length=6"};
  BOOST_TEST(hash_with(a) != h);
  // Knobs are resolved: a default given explicitly is the same run as one left out.
  for (const auto& k : attn::data::task_spec("copy").knobs) {
    a = base;
    if (k.name != "length") a.task_opt.push_back(k.name + "=" + std::to_string(k.default_value));
    BOOST_TEST(hash_with(a) == h, k.name);
  }
  BOOST_TEST(attn::run_folder_name("lstm-attn", "a/b c", 2, h) == "lstm-attn_a_b_c_seed2_" + h);
}

BOOST_AUTO_TEST_CASE(plot_script_has_labelled_categories_and_bounded_bars) {
  attn::PlotSpec spec;
  spec.title = "t";
  spec.subtitle = "bars: lowest to highest";
  spec.xtics = {{0, "learned"}, {1, "sinusoidal"}};
  attn::Series s{"m", {0, 1}, {0.5, 0.6}, {0.4, 0.5}, {0.7, 0.9}};
  const std::string gp = attn::lines_script(spec, {s});
  BOOST_TEST(contains(gp, "set xtics (\"learned\" 0, \"sinusoidal\" 1)"), gp);
  BOOST_TEST(contains(gp, "set title \"t\\nbars: lowest to highest\""), gp);
  BOOST_TEST(contains(gp, "using 1:2:3:4 with yerrorlines"), gp);
  BOOST_TEST(contains(gp, "1 0.6 0.5 0.9\n"), gp);  // x, y, low end, high end
}

BOOST_AUTO_TEST_CASE(a_changed_setting_never_reuses_a_stale_run) {
  TempDir t;
  const std::string sweep = kTiny + "--task-opt length=4 --vary lr=0.001,0.003 --out " + t / "sw";
  const Run first = attnlab(sweep);
  BOOST_TEST_REQUIRE(first.code == 0, first.err);
  BOOST_TEST(count(first.err, " done") == 2u, first.err);
  const std::string csv1 = slurp(t / "sw/results.csv");

  const Run again = attnlab(sweep);  // the same settings: both runs reused, nothing trained
  BOOST_TEST_REQUIRE(again.code == 0, again.err);
  BOOST_TEST(count(again.err, "reused") == 2u, again.err);
  BOOST_TEST(count(again.err, " done") == 0u, again.err);
  BOOST_TEST(slurp(t / "sw/results.csv") == csv1);

  // One task knob changed: two new runs in new folders, none of the old ones reused.
  const Run changed = attnlab(kTiny + "--task-opt length=3 --vary lr=0.001,0.003 --out " + t / "sw");
  BOOST_TEST_REQUIRE(changed.code == 0, changed.err);
  BOOST_TEST(count(changed.err, "reused") == 0u, changed.err);
  BOOST_TEST(count(changed.err, " done") == 2u, changed.err);
  BOOST_TEST(folders(t / "sw/runs") == 4u);
  const std::string csv2 = slurp(t / "sw/results.csv");
  BOOST_TEST(count(csv2, "\n") == 3u);  // the header and the two new runs only
  const nlohmann::json sweep_json = nlohmann::json::parse(slurp(t / "sw/sweep.json"));  // alive for the loop
  for (const auto& r : sweep_json["runs"]) {
    BOOST_TEST(contains(csv2, r["id"].get<std::string>()));
    BOOST_TEST(!contains(csv1, r["id"].get<std::string>()));
    const auto cfg = nlohmann::json::parse(slurp(t / ("sw/runs/" + r["id"].get<std::string>() + "/config.json")));
    BOOST_TEST(cfg["task_opt"].dump() == "[\"length=3\"]");
  }
}

BOOST_AUTO_TEST_CASE(a_folder_with_another_config_is_refused) {
  TempDir t;
  const std::string sweep = kTiny + "--task-opt length=4 --vary lr=0.001 --out " + t / "sw";
  BOOST_TEST_REQUIRE(attnlab(sweep).code == 0);
  const std::string id = nlohmann::json::parse(slurp(t / "sw/sweep.json"))["runs"][0]["id"];
  const std::string config = t / ("sw/runs/" + id + "/config.json");
  auto j = nlohmann::json::parse(slurp(config));
  j["lr"] = 0.01;  // edited by hand
  std::ofstream(config) << j.dump(2);
  const Run r = attnlab(sweep);
  BOOST_TEST(r.code == 2, r.err);
  BOOST_TEST(contains(r.err, id), r.err);
  BOOST_TEST(contains(r.err, "lr default (folder: 0.01)"), r.err);  // 0.001 is the default, left out of the hash
  BOOST_TEST(count(r.err, "\n") == 1u, r.err);
  const Run c = attnlab("sweep --collect " + t / "sw");
  BOOST_TEST(c.code == 2, c.err);
  BOOST_TEST(contains(c.err, id), c.err);
}

BOOST_AUTO_TEST_CASE(vary_lr_has_one_lr_column_and_every_table_has_best_step) {
  TempDir t;
  const Run r = attnlab(kTiny + "--task-opt length=4 --vary lr=0.001,0.003 --out " + t / "sw");
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  const std::string csv = slurp(t / "sw/results.csv");
  const auto cols = header(csv);
  BOOST_TEST(std::count(cols.begin(), cols.end(), "lr") == 1, csv);
  BOOST_TEST(cols[1] == "lr");
  const auto best = std::find(cols.begin(), cols.end(), "best_step");
  BOOST_TEST_REQUIRE((best != cols.end()), csv);
  // Numeric values keep a numeric (log) axis with a tic at each value; bootstrap bars.
  const std::string gp = slurp(t / "sw/accuracy_vs_lr.gp");
  BOOST_TEST(contains(gp, "set logscale x"), gp);
  BOOST_TEST(contains(gp, "set xtics (\"0.001\" 0.001, \"0.003\" 0.003)"), gp);
  BOOST_TEST(contains(gp, "bars: 95% bootstrap over seeds and test sequences"), gp);
  // Runs from before per-example results: one seed keeps its own Wilson interval.
  for (const auto& e : fs::directory_iterator(t / "sw/runs")) {
    if (!e.is_directory()) continue;
    auto s = nlohmann::json::parse(slurp(e.path() / "summary.json"));
    s.erase("test_per_example");
    std::ofstream(e.path() / "summary.json") << s.dump();
  }
  BOOST_TEST_REQUIRE(attnlab("sweep --collect " + t / "sw").code == 0);
  BOOST_TEST(contains(slurp(t / "sw/accuracy_vs_lr.gp"), "95% Wilson interval over 50 test examples"));
  BOOST_TEST(contains(slurp(t / "sw/token_accuracy_vs_lr.gp"), "95% Wilson interval over the test tokens of 50 examples"));
  const Run bad = attnlab(kTiny + "--vary lr=0.001 --model-lr transformer=0.003 --out " + t / "sw2");
  BOOST_TEST(bad.code == 2, bad.err);
  BOOST_TEST(contains(bad.err, "--model-lr"), bad.err);
  BOOST_TEST(!fs::exists(t / "sw2"));
}

BOOST_AUTO_TEST_CASE(categorical_values_get_a_categorical_axis) {
  TempDir t;
  const Run r = attnlab(kTiny + "--task-opt length=4 --vary pos=learned,sinusoidal --seeds 2 --out " + t / "sw");
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  const std::string gp = slurp(t / "sw/accuracy_vs_pos.gp");
  BOOST_TEST(contains(gp, "set xtics (\"learned\" 0, \"sinusoidal\" 1)"), gp);
  BOOST_TEST(contains(gp, "set xrange [-0.5:1.5]"), gp);
  BOOST_TEST(!contains(gp, "logscale x"), gp);
  BOOST_TEST(contains(gp, "using 1:2:3:4 with yerrorbars"), gp);  // no line between categories
  BOOST_TEST(!contains(gp, "yerrorlines"), gp);
  BOOST_TEST(contains(gp, "points: mean over 2 seeds (dots: each seed); bars: 95% bootstrap over seeds and test sequences"), gp);
  BOOST_TEST(count(gp, "with points") == 1u, gp);  // every seed drawn
  const std::string csv = slurp(t / "sw/results.csv");
  BOOST_TEST(header(csv)[1] == "pos");
  BOOST_TEST(contains(csv, ",sinusoidal,"));
  const auto cols = header(csv);
  BOOST_TEST((std::find(cols.begin(), cols.end(), "best_step") != cols.end()));
}

// --tune-lr: every trial runs at one value without reading test (the dataset counts its test
// reads), the rate is the one with the best mean validation accuracy (ties: lower loss),
// recomputed here from the trials' own summaries, and only the grid's runs read test.
BOOST_AUTO_TEST_CASE(tuning_reads_validation_only_and_the_grid_uses_its_choice) {
  TempDir t;
  const std::string sweep = kTiny + "--vary length=3,4,5 --tune-lr 0.00001,0.003 --tune-seeds 2 --out " + t / "sw";
  const Run r = attnlab(sweep);
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  BOOST_TEST(folders(t / "sw/tune") == 4u);
  std::map<double, std::pair<double, double>> sums;  // lr -> (accuracy, loss) summed over seeds
  for (const auto& e : fs::directory_iterator(t / "sw/tune")) {
    if (!e.is_directory()) continue;
    const auto s = nlohmann::json::parse(slurp(e.path() / "summary.json"));
    BOOST_TEST(s["test_split_reads"].get<int>() == 0);
    BOOST_TEST(!s.contains("test_sequence_accuracy"));
    const auto cfg = nlohmann::json::parse(slurp(e.path() / "config.json"));
    BOOST_TEST(cfg["task_opt"].dump() == "[\"length=4\"]");  // the middle value
    sums[s["lr"].get<double>()].first += s["best_val_sequence_accuracy"].get<double>();
    sums[s["lr"].get<double>()].second += s["best_val_loss"].get<double>();
  }
  BOOST_TEST_REQUIRE(sums.size() == 2u);
  const auto [lo, hi] = std::pair{sums.begin()->second, sums.rbegin()->second};
  const double want = hi.first > lo.first || (hi.first == lo.first && hi.second < lo.second) ? 0.003 : 0.00001;
  const auto tuning = nlohmann::json::parse(slurp(t / "sw/tuning.json"));
  BOOST_TEST(tuning["models"]["transformer"]["chosen_lr"].get<double>() == want);
  BOOST_TEST(tuning["at"] == "4");
  for (const auto& e : fs::directory_iterator(t / "sw/runs")) {
    if (!e.is_directory()) continue;
    const auto s = nlohmann::json::parse(slurp(e.path() / "summary.json"));
    BOOST_TEST(s["lr"].get<double>() == want);
    BOOST_TEST(s["test_split_reads"].get<int>() > 0);
    BOOST_TEST(s["test_per_example"]["sequence_correct"].get<std::string>().size() == 50u);
  }
  // The sweep wrote its report: the tuning trials, every cell, D50 and the paired tests.
  const std::string report = slurp(t / "sw/report.md");
  BOOST_TEST(contains(report, fmt::format("| transformer | {} (chosen, at the grid's edge) |", want)), report);  // 2 rates
  BOOST_TEST(count(report, "| transformer | ") == 2u + 1u + 3u + 1u, report);  // two trials, its size, three cells, D50
  BOOST_TEST(contains(report, "## D50"), report);
  BOOST_TEST(!contains(report, "## Paired comparisons"), report);  // one model: no pairs
  // Again: the trials are reused, not rerun; a second sweep takes the saved rates.
  const Run again = attnlab(sweep);
  BOOST_TEST(count(again.err, "reused") == 7u, again.err);
  const Run from = attnlab(kTiny + "--vary length=3,4 --lr-from " + t / "sw/tuning.json" + " --out " + t / "sw2");
  BOOST_TEST_REQUIRE(from.code == 0, from.err);
  BOOST_TEST(!fs::exists(t / "sw2/tune"));
  BOOST_TEST(nlohmann::json::parse(slurp(t / "sw2/sweep.json"))["model_lr"] == fmt::format("transformer={}", want));
  // A run without per-example results (as before they were recorded) cannot be reported.
  for (const auto& e : fs::directory_iterator(t / "sw2/runs")) {
    if (!e.is_directory()) continue;
    auto s = nlohmann::json::parse(slurp(e.path() / "summary.json"));
    s.erase("test_per_example");
    std::ofstream(e.path() / "summary.json") << s.dump();
    break;
  }
  const Run old = attnlab("report " + t / "sw2");
  BOOST_TEST(old.code == 2);
  BOOST_TEST(contains(old.err, "without per-example results"), old.err);
}

BOOST_AUTO_TEST_CASE(tuning_refuses_what_would_bypass_it) {
  TempDir t;
  const std::string base = kTiny + "--vary length=3,4 --tune-lr 0.001,0.003 --out " + t / "sw";
  for (const char* extra : {" --model-lr transformer=0.001", " --tune-at 9", " --shard 1/2", " --tune-seeds 0"}) {
    const Run r = attnlab(base + extra);
    BOOST_TEST(r.code == 2, extra << ": " << r.err);
    BOOST_TEST(!fs::exists(t / "sw/tune"), extra);
  }
  const Run one = attnlab(kTiny + "--vary length=3,4 --tune-lr 0.001 --out " + t / "sw");
  BOOST_TEST(one.code == 2);
  BOOST_TEST(contains(one.err, "at least two rates"), one.err);
  const Run missing = attnlab(kTiny + "--vary length=3,4 --lr-from " + t / "none.json" + " --out " + t / "sw");
  BOOST_TEST(missing.code == 2);
  BOOST_TEST(contains(missing.err, "none.json: cannot be read"), missing.err);
}

// --plan measures and runs nothing; --max-hours refuses a grid whose estimate is longer.
BOOST_AUTO_TEST_CASE(plan_runs_nothing_and_max_hours_refuses) {
  TempDir t;
  const std::string sweep = kTiny + "--vary length=3,4 --seeds 2 --tune-lr 0.001,0.003 --out " + t / "sw";
  const Run p = attnlab(sweep + " --plan");
  BOOST_TEST_REQUIRE(p.code == 0, p.err);
  BOOST_TEST(contains(p.out, "4 tuning runs and 4 grid runs"), p.out);
  BOOST_TEST(contains(p.out, "transformer tuning at length=3"), p.out);  // the lower middle of two values
  BOOST_TEST(contains(p.out, "estimated wall time:"), p.out);
  BOOST_TEST(!fs::exists(t / "sw"));
  const Run r = attnlab(sweep + " --max-hours 0.0000001");
  BOOST_TEST(r.code == 2);
  BOOST_TEST(contains(r.err, "is over --max-hours"), r.err);
  BOOST_TEST(!fs::exists(t / "sw"));
}

// kTiny without its --models.
const std::string kTinyAnyModel = kTiny.substr(0, kTiny.find("--models"));

// A variant is a family with fixed settings under its own name: its runs carry those settings,
// its folder and plot label carry the name, and a tuned rate is reused only for the same definition.
BOOST_AUTO_TEST_CASE(a_variant_is_a_named_family_with_fixed_settings) {
  TempDir t;
  const std::string sweep = kTinyAnyModel + "--vary length=3,4 --models transformer,narrow --variant narrow=transformer:ff=8:heads=1 " +
                            "--variant unused=transformer:ff=16 " +
                            "--tune-lr 0.001,0.003 --tune-seeds 1 --out " + t / "sw";
  const Run r = attnlab(sweep);
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  size_t narrow = 0;
  for (const auto& e : fs::directory_iterator(t / "sw/runs")) {
    if (!e.is_directory()) continue;
    const auto cfg = nlohmann::json::parse(slurp(e.path() / "config.json"));
    BOOST_TEST(cfg["model"] == "transformer");
    const bool is_narrow = e.path().filename().string().rfind("narrow_", 0) == 0;
    narrow += is_narrow;
    BOOST_TEST(cfg["ff"].get<int>() == (is_narrow ? 8 : 32));
    BOOST_TEST(cfg["heads"].get<int>() == (is_narrow ? 1 : 2));
  }
  BOOST_TEST(narrow == 2u);
  const auto tuning = nlohmann::json::parse(slurp(t / "sw/tuning.json"));
  BOOST_TEST(tuning["models"]["narrow"]["definition"] == "transformer:ff=8:heads=1");
  BOOST_TEST(contains(slurp(t / "sw/results.csv"), "narrow,3,1"));
  BOOST_TEST(contains(slurp(t / "sw/report.md"), "`narrow` is `transformer:ff=8:heads=1`"));
  BOOST_TEST(!contains(slurp(t / "sw/report.md"), "`unused`"));  // a variant the sweep does not train
  // The same name with another definition does not take the rate tuned for the first one.
  const Run other = attnlab(kTinyAnyModel + "--vary length=3 --models narrow --variant narrow=transformer:ff=16 --lr-from " +
                            t / "sw/tuning.json" + " --out " + t / "sw2");
  BOOST_TEST(other.code == 2);
  BOOST_TEST(contains(other.err, "narrow was tuned as 'transformer:ff=8:heads=1', not 'transformer:ff=16'"), other.err);
  BOOST_TEST(!fs::exists(t / "sw2"));
}

BOOST_AUTO_TEST_CASE(a_bad_variant_is_refused_before_anything_runs) {
  TempDir t;
  const std::string base = kTinyAnyModel + "--vary length=3 --out " + t / "sw ";
  const std::pair<const char*, const char*> cases[] = {
      {"--models x --variant x=nosuch", "'nosuch' is not a model family"},
      {"--models x --variant x=transformer:hidden=3", "hidden is not a setting of transformer"},
      {"--models x --variant x=transformer:ff", "is not NAME=FAMILY"},
      {"--models lstm --variant lstm=transformer", "the name is a model family's"},
      {"--models X --variant X=transformer", "lower-case letters"},
      {"--models x --variant x=transformer --variant x=transformer:ff=8", "defined twice"},
      {"--models x --variant x=transformer:ff=wide", "--variant x: 'wide' is not a valid value"},
      {"--models y --variant x=transformer", "'y' is neither a model family"},
  };
  for (const auto& [flags, message] : cases) {
    const Run r = attnlab(base + flags);
    BOOST_TEST(r.code == 2, flags << ": " << r.err);
    BOOST_TEST(contains(r.err, message), flags << ": " << r.err);
    BOOST_TEST(!fs::exists(t / "sw"), flags);
  }
}

// --plan reads --lr-from before it measures anything.
BOOST_AUTO_TEST_CASE(plan_checks_lr_from_first) {
  TempDir t;
  const Run r = attnlab(kTiny + "--vary length=3 --plan --lr-from " + t / "none.json --out " + t / "sw");
  BOOST_TEST(r.code == 2);
  BOOST_TEST(contains(r.err, "none.json: cannot be read"), r.err);
  BOOST_TEST(!contains(r.err, "plan: measuring"), r.err);
}

// A compound --vary sets its settings in step, one run per listed pair.
BOOST_AUTO_TEST_CASE(a_compound_vary_moves_settings_together) {
  TempDir t;
  const Run r = attnlab(kTiny + "--vary length:alphabet=3:5,4:6 --out " + t / "sw");
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  std::set<std::string> opts;
  for (const auto& e : fs::directory_iterator(t / "sw/runs"))
    if (e.is_directory()) opts.insert(nlohmann::json::parse(slurp(e.path() / "config.json"))["task_opt"].dump());
  BOOST_TEST(opts == (std::set<std::string>{"[\"length=3\",\"alphabet=5\"]", "[\"length=4\",\"alphabet=6\"]"}));
  BOOST_TEST(contains(slurp(t / "sw/results.csv"), "transformer,3:5,1"));
  // Plot files take "-" for the colon, which a Markdown link would read as a URL scheme.
  BOOST_TEST(fs::exists(t / "sw/accuracy_vs_length-alphabet.png"));
  BOOST_TEST(contains(slurp(t / "sw/report.md"), "](accuracy_vs_length-alphabet.png)"));
  for (const char* bad : {"length:alphabet=3:5,4", "length:seed=3:1", "length:lr=3:0.1", "length:=3:1"}) {
    const Run b = attnlab(kTiny + "--vary " + bad + " --out " + t / "bad");
    BOOST_TEST(b.code == 2, bad << ": " << b.err);
    BOOST_TEST(!fs::exists(t / "bad"), bad);
  }
}

// `study` names its sweeps; gpt's encoding in E1 is the one E0 chose on validation; --lr-from
// without E0's choice is refused. (E0's file is hand-made; nothing is trained.)
BOOST_AUTO_TEST_CASE(study_takes_gpt_positions_from_e0) {
  TempDir t;
  const Run bad = attnlab("study --only nosuch --out " + t / "st");
  BOOST_TEST(bad.code == 2);
  BOOST_TEST(contains(bad.err, "the study's sweeps are e0-gpt-positions, e1-copy-memory"), bad.err);
  const Run none = attnlab("study --only e1-copy-memory --lr-from " + t / "from --out " + t / "st");
  BOOST_TEST(none.code == 2);
  BOOST_TEST(contains(none.err, "no e0-gpt-positions/tuning.json"), none.err);
  fs::create_directories(t / "from/e0-gpt-positions");
  auto trial = [](double lr, double acc, double loss) {
    return nlohmann::json{{"lr", lr}, {"val_sequence_accuracy", acc}, {"val_loss", loss}, {"runs", 2}};
  };
  // rope's chosen rate scores highest; alibi's best trial is higher still but not at its chosen rate.
  const nlohmann::json tuning = {
      {"models",
       {{"gpt-learned", {{"chosen_lr", 0.001}, {"trials", {trial(0.001, 0.5, 1.0)}}}},
        {"gpt-rope", {{"chosen_lr", 0.001}, {"trials", {trial(0.001, 0.9, 1.0), trial(0.003, 0.2, 2.0)}}}},
        {"gpt-alibi", {{"chosen_lr", 0.003}, {"trials", {trial(0.001, 0.95, 1.0), trial(0.003, 0.8, 0.5)}}}}}}};
  std::ofstream(t / "from/e0-gpt-positions/tuning.json") << tuning.dump();
  const Run e1 = attnlab("study --only e1-copy-memory --lr-from " + t / "from --out " + t / "st");
  BOOST_TEST(contains(e1.err, "gpt with rope positions"), e1.err);
  BOOST_TEST(e1.code == 2);  // its own tuning.json is not there
  BOOST_TEST(contains(e1.err, "e1-copy-memory/tuning.json: cannot be read"), e1.err);
}
