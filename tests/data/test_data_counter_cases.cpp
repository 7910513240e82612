#define BOOST_TEST_MODULE data_counter_cases
#include "tests/common.hpp"

// Distance ranges, MQAR and the Chomsky-hierarchy counter-cases (issue 14).
#include <cmath>
#include <functional>
#include <set>
#include <tuple>

#include "data/checkers.hpp"
#include "data/error.hpp"
#include "data/task.hpp"
#include "tests/data/task_helpers.hpp"

using namespace attn::data;
using namespace attn_test::tasks;

// ---- issue 14: distance ranges, mqar, the Chomsky-hierarchy counter-cases ----

// Hashes of 400 examples (seed 2024) generated at commit 6fd0e36, before min_delay, min_gap and
// distinct_values existed: leaving the new knobs unset (or at their "unset" value) must give the
// same examples.
BOOST_AUTO_TEST_CASE(new_knobs_unset_reproduce_the_old_examples) {
  const std::vector<std::tuple<std::string, TaskOptions, uint64_t>> before = {
      {"copy-memory", {}, 0xc79afd97005bdb21ULL},
      {"copy-memory", {{"symbols", "3"}, {"alphabet", "5"}, {"delay", "17"}}, 0x3fbf4ad00bd6932cULL},
      {"associative-recall", {}, 0xd1893b9743879f36ULL},
      {"associative-recall", {{"pairs", "5"}, {"queries", "5"}, {"keys", "5"}, {"values", "2"}, {"gap", "7"}}, 0xd70d9f06924523c0ULL},
      {"associative-recall", {{"pairs", "30"}, {"queries", "11"}, {"keys", "1000"}, {"values", "40"}, {"gap", "3"}}, 0xbe861b6a8e5c9faaULL},
  };
  for (const auto& [name, opts, hash] : before) {
    BOOST_TEST(hash_examples(*make_task(name, opts), 2024, 400) == hash, describe(name, opts));
    TaskOptions explicit_unset = opts;
    explicit_unset[name == "copy-memory" ? "min_delay" : "min_gap"] = "-1";
    if (name != "copy-memory") explicit_unset["distinct_values"] = "0";
    BOOST_TEST(hash_examples(*make_task(name, explicit_unset), 2024, 400) == hash, describe(name, explicit_unset));
  }
}

// Every value of a uniform range of `n` values is seen, each count within 5 standard deviations
// of its binomial mean (a false alarm has probability below 1e-5 per value).
void check_uniform_counts(const std::map<int64_t, int>& counts, int64_t lo, int64_t hi, int draws) {
  const double p = 1.0 / (double)(hi - lo + 1), mean = draws * p, sd = std::sqrt(draws * p * (1 - p));
  BOOST_TEST(counts.size() == (size_t)(hi - lo + 1));
  for (const auto& [v, c] : counts) {
    BOOST_TEST((v >= lo && v <= hi), v);
    BOOST_TEST(std::abs(c - mean) < 5 * sd, "value " << v << " seen " << c << " times, expected " << mean);
  }
}

BOOST_AUTO_TEST_CASE(delay_and_gap_ranges_are_uniform) {
  const int n = 3000;
  const auto cm = make_task("copy-memory", {{"symbols", "2"}, {"delay", "9"}, {"min_delay", "3"}});
  const auto ar = make_task("associative-recall", {{"pairs", "4"}, {"queries", "2"}, {"gap", "8"}, {"min_gap", "0"}});
  std::map<int64_t, int> delays, gaps;
  Xoshiro rng(17);
  for (int i = 0; i < n; ++i) {
    ++delays[(int64_t)cm->generate(rng).src.size() - 2 - 1];
    ++gaps[(int64_t)ar->generate(rng).src.size() - 8 - 2];
  }
  check_uniform_counts(delays, 3, 9, n);
  check_uniform_counts(gaps, 0, 8, n);
  // min = max is a fixed delay; the distances follow the drawn delay.
  const auto fixed = make_task("copy-memory", {{"delay", "5"}, {"min_delay", "5"}, {"symbols", "1"}});
  BOOST_TEST(fixed->generate_seeded(3).distance == std::vector<int>{7});
  BOOST_TEST(contains(error_of([] { make_task("copy-memory", {{"delay", "5"}, {"min_delay", "6"}}); }),
                      "min_delay=6 exceeds delay=5"));
  BOOST_TEST(contains(error_of([] { make_task("associative-recall", {{"gap", "1"}, {"min_gap", "2"}}); }),
                      "min_gap=2 exceeds gap=1"));
  BOOST_TEST(contains(error_of([] { make_task("associative-recall", {{"values", "8"}, {"distinct_values", "1"}}); }),
                      "values=8 is smaller than pairs=16"));
}

BOOST_AUTO_TEST_CASE(mqar_keys_values_and_queries) {
  const auto t = make_task("mqar", {{"vocab", "64"}, {"pairs", "10"}, {"length", "60"}});
  Xoshiro rng(5);
  for (int i = 0; i < 300; ++i) {
    const Example ex = t->generate(rng);
    const auto s = t->vocab().to_strings(ex.src);
    std::set<int> keys, values;
    for (int p = 0; p < 20; p += 2) {
      keys.insert(std::stoi(s[p]));
      values.insert(std::stoi(s[p + 1]));
    }
    BOOST_TEST_REQUIRE(keys.size() == 10u);  // distinct, from [1, 32), values distinct from [32, 64)
    BOOST_TEST_REQUIRE(values.size() == 10u);
    BOOST_TEST_REQUIRE((*keys.begin() >= 1 && *keys.rbegin() < 32 && *values.begin() >= 32 && *values.rbegin() < 64));
    for (int k : keys) BOOST_TEST_REQUIRE(std::count(s.begin(), s.end(), std::to_string(k)) == 2);  // pair + one query
    BOOST_TEST_REQUIRE(ex.tgt.size() == 10u);
  }
}

// The gap of a query, in slots of two positions, follows p(g) ∝ (g+1)^(a-1) over the span.
// With K = 1 the law is exactly that; binned, the counts give a chi-square statistic with
// (bins - 1) degrees of freedom, compared with its 0.999 quantile (20.52 for 5 degrees): a
// correct generator fails with probability 0.001, and the fixed seed makes the outcome fixed.
double chi_square_of_gaps(int64_t power_a_milli, int draws) {
  const int64_t space = 32;
  const auto t = make_task("mqar", {{"vocab", "64"}, {"pairs", "1"}, {"length", std::to_string(2 + 2 * space)},
                                    {"power_a_milli", std::to_string(power_a_milli)}});
  const std::vector<int64_t> edges = {0, 1, 2, 4, 8, 16, 32};  // bins [edges[b], edges[b+1])
  const double a = (double)power_a_milli / 1000.0;
  std::vector<double> p(edges.size() - 1, 0.0);
  double total = 0;
  for (int64_t g = 0; g < space; ++g) total += std::pow((double)(g + 1), a - 1);
  std::vector<int> count(p.size(), 0);
  for (size_t b = 0; b < p.size(); ++b)
    for (int64_t g = edges[b]; g < edges[b + 1]; ++g) p[b] += std::pow((double)(g + 1), a - 1) / total;
  Xoshiro rng(2718);
  for (int i = 0; i < draws; ++i) {
    const int64_t g = (t->generate(rng).distance[0] - 2) / 2;  // the query sits at 2 + 2g, its key at 0
    for (size_t b = 0; b < p.size(); ++b) count[b] += g >= edges[b] && g < edges[b + 1];
  }
  double chi2 = 0;
  for (size_t b = 0; b < p.size(); ++b) chi2 += std::pow(count[b] - draws * p[b], 2) / (draws * p[b]);
  return chi2;
}

BOOST_AUTO_TEST_CASE(mqar_gaps_follow_the_power_law) {
  BOOST_TEST(chi_square_of_gaps(10, 20000) < 20.52);    // Zoology's a = 0.01
  BOOST_TEST(chi_square_of_gaps(1000, 20000) < 20.52);  // a = 1: uniform slots
  BOOST_TEST(chi_square_of_gaps(500, 20000) < 20.52);
  // The test can fail: a = 0.01 draws do not fit the uniform law.
  const auto t = make_task("mqar", {{"vocab", "64"}, {"pairs", "1"}, {"length", "66"}});
  int first_slot = 0;
  Xoshiro rng(1);
  for (int i = 0; i < 2000; ++i) first_slot += t->generate(rng).distance[0] == 2;
  // p(g = 0) = 1 / sum (g+1)^-0.99 over 32 slots, about 0.24, against 1/32 uniform.
  BOOST_TEST((first_slot > 400 && first_slot < 600), first_slot);
}

// The extremes of the knobs: the longest span with the steepest law keeps finite weights, so
// queries go to the far end of the span (weights grow as (g+1)^9).
BOOST_AUTO_TEST_CASE(mqar_extreme_power_law_stays_finite) {
  const auto t = make_task("mqar", {{"pairs", "3"}, {"length", "1000000"}, {"power_a_milli", "10000"}});
  Xoshiro rng(6);
  for (int i = 0; i < 2; ++i) {
    const Example ex = t->generate(rng);
    BOOST_TEST_REQUIRE(check_example(*t, ex).empty(), check_example(*t, ex));
    // The span has S = 499997 slots and P(slot < x S) is about x^10: a distance (about twice the
    // slot) of at most 400000 means a slot below 0.4 S, probability 1e-4 per key.
    for (int d : ex.distance) BOOST_TEST(d > 400000, d);
  }
}

BOOST_AUTO_TEST_CASE(dyck_classes_are_balanced_and_negatives_keep_counts) {
  for (const char* kinds : {"1", "3"}) {
    const auto t = make_task("dyck", {{"kinds", kinds}, {"length", "30"}, {"min_length", "2"}});
    Xoshiro rng(8);
    int balanced = 0;
    const int n = 4000;
    for (int i = 0; i < n; ++i) {
      const Example ex = t->generate(rng);
      BOOST_TEST_REQUIRE(check_example(*t, ex).empty());  // also: even length, every kind's counts equal
      balanced += t->vocab().token(ex.tgt[0]) == "balanced";
    }
    // Binomial(4000, 1/2): sd 31.6; 5 sd.
    BOOST_TEST(std::abs(balanced - n / 2) < 5 * 31.7, kinds << ": " << balanced);
  }
}

BOOST_AUTO_TEST_CASE(classes_are_declared) {
  const std::map<std::string, std::string> expected = {
      {"parity", "R"},     {"even-pairs", "R"},          {"cycle-navigation", "R"},   {"modular-arithmetic", "R"},
      {"reverse", "DCF"},  {"stack-manipulation", "DCF"}, {"dyck", "DCF"},            {"sort", "CS"},
      {"binary-addition", "CS"}, {"copy", "-"},          {"mqar", "-"},               {"listops", "-"}};
  for (const auto& [name, cls] : expected) {
    BOOST_TEST(task_spec(name).chomsky == cls, name);
    BOOST_TEST(make_task(name)->chomsky() == cls, name);
  }
  BOOST_TEST(make_task("modular-arithmetic", {{"brackets", "1"}})->chomsky() == "DCF");
}

BOOST_AUTO_TEST_CASE(baselines_beside_chance) {
  auto baseline = [](const std::string& name, const TaskOptions& o) { return make_task(name, o)->chance().baselines.at(0); };
  BOOST_TEST(baseline("copy-memory", {{"alphabet", "8"}}).value == std::log(8.0), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(baseline("copy-memory", {}).metric == "xent_nats_per_token");
  BOOST_TEST(baseline("mqar", {{"pairs", "8"}}).value == 1.0 / 8, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(baseline("associative-recall", {{"distinct_values", "1"}}).value == 1.0 / 16, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(baseline("associative-recall", {}).value == (1.0 + 15.0 / 64) / 16, boost::test_tools::tolerance(1e-12));
  // The context baseline against a simulation of it: pick a random pair, name its value.
  const auto t = make_task("associative-recall", {{"pairs", "4"}, {"queries", "4"}, {"values", "3"}});
  Xoshiro rng(4);
  int hits = 0, total = 0;
  for (int i = 0; i < 20000; ++i) {
    const Example ex = t->generate(rng);
    for (int v : ex.tgt) hits += ex.src[2 * rng.below(4) + 1] == v, ++total;
  }
  // (1 + 3/3)/4 = 0.5; binomial sd over 80000 (correlated within an example, so a loose 0.01).
  BOOST_TEST(std::abs((double)hits / total - t->chance().baselines.at(0).value) < 0.01);
  for (const char* name : {"even-pairs", "cycle-navigation", "modular-arithmetic", "dyck", "parity"}) {
    const Chance c = make_task(name)->chance();
    BOOST_TEST(c.baselines.at(0).name == "majority class", name);
    BOOST_TEST(c.baselines.at(0).value == c.token, name);
  }
}

BOOST_AUTO_TEST_CASE(counter_case_knob_errors) {
  const std::vector<std::pair<std::function<void()>, std::string>> cases = {
      {[] { make_task("mqar", {{"length", "63"}}); }, "length=63 is odd"},
      {[] { make_task("mqar", {{"length", "20"}}); }, "length=20 is below 4 x pairs=8"},
      {[] { make_task("mqar", {{"vocab", "16"}, {"pairs", "8"}, {"length", "64"}}); }, "pairs=8 exceeds the 7 keys of vocab=16"},
      {[] { make_task("binary-addition", {{"min_length", "2"}}); }, "min_length=2 is too short; this task needs lengths of at least 3"},
      {[] { make_task("stack-manipulation", {{"length", "5"}, {"min_length", "6"}}); }, "min_length=6 exceeds length=5"},
      {[] { make_task("dyck", {{"length", "3"}, {"min_length", "3"}}); }, "include no even length"},
      {[] { make_task("modular-arithmetic", {{"length", "4"}, {"min_length", "4"}}); }, "include no odd length"},
      {[] { make_task("dyck", {{"kinds", "0"}}); }, "kinds=0 is out of range; allowed: 1 to 50"},
  };
  for (const auto& [f, message] : cases) {
    const std::string e = error_of(f);
    BOOST_TEST(contains(e, message), e);
    BOOST_TEST(e.find('\n') == std::string::npos, e);
  }
}
