#define BOOST_TEST_MODULE data_cli
#include "tests/common.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "data/checkers.hpp"
#include "data/task.hpp"
#include "tests/cli_runner.hpp"

using namespace attn::data;
namespace fs = std::filesystem;

using attn_test::attnlab;
using attn_test::contains;
using attn_test::Run;

BOOST_AUTO_TEST_CASE(tasks_lists_every_task_with_knobs) {
  const Run text = attnlab("tasks");
  BOOST_TEST_REQUIRE(text.code == 0, text.err);
  for (const auto* s : task_specs()) {
    BOOST_TEST(contains(text.out, s->name + ": " + s->summary), s->name);
    for (const auto& k : s->knobs) BOOST_TEST(contains(text.out, k.name + "=" + k.value_text(k.default_value)), s->name);
  }
  const Run js = attnlab("tasks --json");
  BOOST_TEST_REQUIRE(js.code == 0, js.err);
  const auto j = nlohmann::json::parse(js.out);
  BOOST_TEST(j.size() == task_specs().size());
  for (const auto& t : j) {
    BOOST_TEST(!t.at("distance").get<std::string>().empty());
    BOOST_TEST(t.at("knobs").size() == task_spec(t.at("name")).knobs.size());
    BOOST_TEST(t.at("chance").at("token").get<double>() > 0.0);
  }
}

// `sample --json` for every task prints examples the independent checker accepts.
BOOST_AUTO_TEST_CASE(sample_works_for_every_task) {
  for (const auto& name : task_names()) {
    for (const char* split : {"train", "valid", "test"}) {
      const Run r = attnlab("sample --json -n 3 --seed 4 --split " + std::string(split) + " --task " + name);
      BOOST_TEST_REQUIRE(r.code == 0, name << ": " << r.err);
      const auto j = nlohmann::json::parse(r.out);
      const auto task = make_task(name);
      BOOST_TEST(j.at("examples").size() == 3u);
      for (const auto& e : j.at("examples")) {
        Example ex;
        for (const auto& t : e.at("src")) ex.src.push_back(task->vocab().id(t.get<std::string>()));
        for (const auto& t : e.at("tgt")) ex.tgt.push_back(task->vocab().id(t.get<std::string>()));
        ex.distance = e.at("distance").get<std::vector<int>>();
        BOOST_TEST(check_example(*task, ex) == "", name << " " << split);
      }
    }
  }
  const Run text = attnlab("sample --task copy-memory --task-opt delay=3 --task-opt symbols=2 -n 1");
  BOOST_TEST(text.code == 0);
  BOOST_TEST(contains(text.out, "copy-memory (symbols=2 alphabet=8 delay=3 layout=target), split train, seed 1"), text.out);
  BOOST_TEST(contains(text.out, "distance: 6 5"), text.out);
}

BOOST_AUTO_TEST_CASE(sample_test_split_uses_test_knobs) {
  const Run r = attnlab("sample --json -n 2 --split test --task copy-memory --task-opt delay=5 --test-task-opt delay=40");
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  const nlohmann::json doc = nlohmann::json::parse(r.out);  // kept alive: the loop reads into it
  for (const auto& e : doc.at("examples")) BOOST_TEST(e.at("src").size() == 10u + 40u + 1u);
  // Parity of 10 bits: 300 test examples come from the ~64 held-out strings, none from training.
  const Run p = attnlab("sample --json -n 300 --split test --task parity --task-opt length=10");
  BOOST_TEST_REQUIRE(p.code == 0, p.err);
  const auto st = nlohmann::json::parse(p.out).at("stats");
  BOOST_TEST(st.at("examples").get<int>() == 300);
  BOOST_TEST((st.at("distinct_sources").get<int>() > 30 && st.at("distinct_sources").get<int>() < 110));
  BOOST_TEST(st.at("in_train").get<int>() == 0);
  BOOST_TEST(st.at("in_valid").get<int>() == 0);
}

BOOST_AUTO_TEST_CASE(bad_input_is_a_usage_error) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"sample --task nope", "unknown task 'nope'; known tasks: copy,"},
      {"sample --task copy --task-opt lenght=3", "task copy has no knob 'lenght'; its knobs: length, min_length, alphabet"},
      {"sample --task copy --task-opt length=0", "length=0 is out of range; allowed: 1 to 100000"},
      {"sample --task copy --task-opt length=abc", "length='abc' is not an integer"},
      {"sample --task copy --task-opt length", "'length' is not NAME=VALUE"},
      {"sample --task copy --test-task-opt alphabet=20", "token '10'"},
      {"sample --task copy --split dev", "--split"},
      {"sample --task copy -n 0", "--count"},
      {"sample", "exactly one of --task NAME, --data-dir DIR or --data-text FILE"},
      {"sample --task copy --data-dir x", "excludes"},
      {"sample --data-dir /nonexistent/attnlab", "/nonexistent/attnlab/train.tsv: missing file"},
  };
  for (const auto& [args, message] : cases) {
    const Run r = attnlab(args);
    BOOST_TEST(r.code == 2, args << ": exit " << r.code);
    BOOST_TEST(contains(r.err, message), args << ": " << r.err);
    BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, args << ": not one line: " << r.err);
    BOOST_TEST(r.out.empty(), args);
  }
}

BOOST_AUTO_TEST_CASE(sample_reads_and_rejects_file_datasets) {
  const fs::path dir = fs::temp_directory_path() / ("attnlab_test_cli_data_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "train.tsv") << "a b\tb a\nb\tb\n";
  std::ofstream(dir / "valid.tsv") << "a q\ta\n";
  std::ofstream(dir / "test.tsv") << "b\tb\n";
  const Run ok = attnlab("sample --split valid --data-dir '" + dir.string() + "'");
  BOOST_TEST(ok.code == 0, ok.err);
  BOOST_TEST(contains(ok.out, "src (2): a <unk>"), ok.out);
  BOOST_TEST(contains(ok.out, "1 tokens mapped to <unk>"), ok.out);
  std::ofstream(dir / "test.tsv") << "b\tb\nno tab\n";
  const Run bad = attnlab("sample --data-dir '" + dir.string() + "'");
  BOOST_TEST(bad.code == 2);
  BOOST_TEST(contains(bad.err, (dir / "test.tsv").string() + ":2: no TAB between source and target"), bad.err);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(help_describes_the_options) {
  const Run r = attnlab("sample --help");
  BOOST_TEST(r.code == 0);
  for (const char* opt : {"--task", "--task-opt", "--test-task-opt", "--data-dir", "--split", "--seed", "--json", "-n"})
    BOOST_TEST(contains(r.out, opt), opt);
  BOOST_TEST(attnlab("tasks --help").code == 0);
}

// The tasks of issue 14 in text mode with knobs set, as docs/tasks.md shows them.
BOOST_AUTO_TEST_CASE(sample_shows_the_literature_tasks) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"mqar --task-opt vocab=32 --task-opt pairs=3 --task-opt length=20", "mqar (vocab=32 pairs=3 length=20"},
      {"even-pairs --task-opt length=8", "even-pairs (length=8 min_length=1)"},
      {"cycle-navigation --task-opt length=6", "cycle-navigation (length=6 min_length=1)"},
      {"modular-arithmetic --task-opt brackets=1", "brackets=1"},
      {"stack-manipulation --task-opt length=8", "stack-manipulation (length=8 min_length=2)"},
      {"binary-addition --task-opt min_length=0", "binary-addition (length=40 min_length=0)"},
      {"dyck --task-opt kinds=3", "kinds=3"},
      {"copy-memory --task-opt min_delay=2 --task-opt delay=4", "delay=4 min_delay=2"},
      {"associative-recall --task-opt min_gap=1 --task-opt gap=3 --task-opt distinct_values=1", "min_gap=1 distinct_values=1"},
  };
  for (const auto& [args, header] : cases) {
    const Run r = attnlab("sample -n 2 --seed 3 --task " + args);
    BOOST_TEST_REQUIRE(r.code == 0, args << ": " << r.err);
    BOOST_TEST(contains(r.out, header), r.out);
    BOOST_TEST(contains(r.out, "distance: "), r.out);
  }
  const Run bad = attnlab("sample --task mqar --task-opt length=63");
  BOOST_TEST(bad.code == 2);
  BOOST_TEST(contains(bad.err, "length=63 is odd"), bad.err);
}

BOOST_AUTO_TEST_CASE(sample_shows_streams_and_text_corpora) {
  const Run r = attnlab("sample --task copy-memory --task-opt symbols=3 --task-opt delay=2 --format lm -n 1");
  BOOST_TEST(r.code == 0, r.err);
  BOOST_TEST(contains(r.out, "one stream"), r.out);
  BOOST_TEST(contains(r.out, "<sep>"), r.out);
  BOOST_TEST(contains(r.out, "label"), r.out);
  BOOST_TEST(contains(r.out, "<eos>"), r.out);
  const Run j = attnlab("sample --task copy --format lm --loss-on all -n 1 --json");
  BOOST_TEST(j.code == 0, j.err);
  const auto doc = nlohmann::json::parse(j.out);
  const auto& s = doc["examples"][0]["stream"];
  BOOST_TEST(s["tokens"].size() == s["labels"].size());
  BOOST_TEST(!s["labels"][0].is_null());  // --loss-on all labels the source too
  const fs::path file = fs::temp_directory_path() / ("attnlab_test_cli_text_" + std::to_string(getpid()) + ".txt");
  std::ofstream(file) << std::string(500, 'z') << "\n";
  const Run t = attnlab("sample --data-text '" + file.string() + "' --block 8 --split valid -n 2");
  BOOST_TEST(t.code == 0, t.err);
  BOOST_TEST(contains(t.out, "2 windows of 8 tokens"), t.out);
  const Run bad = attnlab("sample --data-text /nonexistent.txt");
  BOOST_TEST(bad.code == 2);
  BOOST_TEST(contains(bad.err, "/nonexistent.txt: cannot open the file"), bad.err);
  fs::remove(file);
}
