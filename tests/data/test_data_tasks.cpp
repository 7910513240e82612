#define BOOST_TEST_MODULE data_tasks
#include "tests/common.hpp"

#include <cmath>
#include <functional>
#include <set>
#include <tuple>

#include "data/checkers.hpp"
#include "data/error.hpp"
#include "data/task.hpp"

using namespace attn::data;

namespace {

// Knob sets each task is checked under: the defaults and the edges of its knobs.
const std::vector<std::pair<std::string, TaskOptions>> kConfigs = {
    {"copy", {}},
    {"copy", {{"length", "7"}, {"min_length", "1"}, {"alphabet", "2"}}},
    {"reverse", {}},
    {"reverse", {{"length", "5"}, {"min_length", "3"}}},
    {"sort", {}},
    {"sort", {{"length", "9"}, {"min_length", "1"}, {"alphabet", "300"}}},
    {"copy-memory", {}},
    {"copy-memory", {{"delay", "0"}, {"symbols", "1"}, {"alphabet", "1"}}},
    {"adding", {}},
    {"adding", {{"length", "4"}}},
    {"adding", {{"length", "300"}}},
    {"associative-recall", {}},
    {"associative-recall", {{"pairs", "5"}, {"queries", "5"}, {"keys", "5"}, {"values", "2"}, {"gap", "7"}}},
    {"associative-recall", {{"pairs", "3"}, {"queries", "1"}, {"keys", "100000"}}},
    {"selective-copy", {}},
    {"selective-copy", {{"length", "6"}, {"symbols", "6"}}},
    {"selective-copy", {{"noise", "3"}, {"length", "30"}}},
    {"listops", {}},
    {"listops", {{"max_depth", "1"}, {"max_length", "4"}}},
    {"listops", {{"max_depth", "10"}, {"max_length", "400"}, {"max_args", "2"}}},
    {"parity", {}},
    {"parity", {{"length", "10"}, {"min_length", "1"}}},
    // Distance ranges of copy-memory and associative-recall.
    {"copy-memory", {{"delay", "9"}, {"min_delay", "0"}, {"symbols", "3"}}},
    {"associative-recall", {{"gap", "12"}, {"min_gap", "2"}, {"distinct_values", "1"}}},
    {"associative-recall", {{"pairs", "6"}, {"queries", "2"}, {"values", "6"}, {"distinct_values", "1"}}},
    // The literature's tasks (issue 14): 24 knob settings.
    {"mqar", {}},
    {"mqar", {{"random_filler", "0"}}},
    {"mqar", {{"vocab", "16"}, {"pairs", "7"}, {"length", "28"}}},  // every key and every slot used
    {"mqar", {{"vocab", "8"}, {"pairs", "1"}, {"length", "4"}, {"power_a_milli", "1000"}}},
    {"mqar", {{"pairs", "64"}, {"length", "512"}, {"power_a_milli", "2000"}}},
    {"even-pairs", {}},
    {"even-pairs", {{"length", "1"}}},
    {"even-pairs", {{"length", "300"}, {"min_length", "250"}}},
    {"cycle-navigation", {}},
    {"cycle-navigation", {{"length", "3"}, {"min_length", "0"}}},
    {"cycle-navigation", {{"length", "500"}, {"min_length", "41"}}},
    {"modular-arithmetic", {}},
    {"modular-arithmetic", {{"length", "1"}}},
    {"modular-arithmetic", {{"length", "8"}, {"min_length", "2"}}},
    {"modular-arithmetic", {{"brackets", "1"}}},
    {"modular-arithmetic", {{"brackets", "1"}, {"length", "4"}, {"min_length", "1"}}},
    {"modular-arithmetic", {{"brackets", "1"}, {"length", "200"}, {"min_length", "150"}}},
    {"stack-manipulation", {}},
    {"stack-manipulation", {{"length", "2"}, {"min_length", "0"}}},
    {"stack-manipulation", {{"length", "300"}, {"min_length", "100"}}},
    {"binary-addition", {}},
    {"binary-addition", {{"length", "3"}, {"min_length", "0"}}},
    {"binary-addition", {{"length", "400"}, {"min_length", "130"}}},  // numbers beyond 64 bits
    {"dyck", {}},
    {"dyck", {{"kinds", "1"}, {"length", "2"}}},
    {"dyck", {{"kinds", "30"}, {"length", "101"}, {"min_length", "51"}}},
};

// An example of `task` with the longest possible source (to test that a longer one is refused).
Example longest_example(const Task& task, uint64_t seed) {
  for (uint64_t s = seed; s < seed + 20000; ++s) {
    Example ex = task.generate_seeded(s);
    if (ex.src.size() == task.max_src_len()) return ex;
  }
  return {};
}

std::string describe(const std::string& name, const TaskOptions& o) {
  std::string s = name;
  for (const auto& [k, v] : o) s += " " + k + "=" + v;
  return s;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

uint64_t hash_examples(const Task& t, uint64_t seed, int n) {
  Xoshiro rng(seed);
  uint64_t h = 0;
  for (int i = 0; i < n; ++i) {
    const Example e = t.generate(rng);
    for (const auto* v : {&e.src, &e.tgt, &e.distance}) {
      h = hash_combine(h, v->size());
      for (int x : *v) h = hash_combine(h, (uint64_t)(int64_t)x);
    }
  }
  return h;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_task_is_listed_once) {
  const auto names = task_names();
  const std::vector<std::string> expected = {"copy",    "reverse",           "sort",         "copy-memory", "adding",
                                             "associative-recall", "selective-copy", "listops", "parity",
                                             "mqar", "even-pairs", "cycle-navigation", "modular-arithmetic",
                                             "stack-manipulation", "binary-addition", "dyck"};
  BOOST_TEST(names == expected, boost::test_tools::per_element());
  for (const auto* s : task_specs()) {
    BOOST_TEST(!s->summary.empty());
    BOOST_TEST(!s->distance.empty());
    BOOST_TEST(!s->citation.empty());
    for (const auto& k : s->knobs) BOOST_TEST((k.min <= k.default_value && k.default_value <= k.max), s->name << " " << k.name);
  }
}

BOOST_AUTO_TEST_CASE(checker_accepts_generated_examples) {
  for (const auto& [name, opts] : kConfigs) {
    const auto task = make_task(name, opts);
    Xoshiro rng(1234);
    for (int i = 0; i < 200; ++i) {
      const Example ex = task->generate(rng);
      const std::string why = check_example(*task, ex);
      BOOST_TEST_REQUIRE(why.empty(), describe(name, opts) << " example " << i << ": " << why);
      BOOST_TEST(ex.src.size() <= task->max_src_len());
      BOOST_TEST(ex.tgt.size() <= task->max_tgt_len());
    }
  }
}

BOOST_AUTO_TEST_CASE(checker_rejects_corrupted_examples) {
  for (const auto& [name, opts] : kConfigs) {
    const auto task = make_task(name, opts);
    const int ntok = task->vocab().size() - Vocab::NUM_SPECIAL;
    const Example good = task->generate_seeded(99);
    Example bad = good;  // change one target token to a different task token
    bad.tgt[0] = Vocab::NUM_SPECIAL + (bad.tgt[0] - Vocab::NUM_SPECIAL + 1) % ntok;
    BOOST_TEST(!check_example(*task, bad).empty(), describe(name, opts) << ": wrong target accepted");
    bad = good;
    bad.distance.back() += 1;
    BOOST_TEST(!check_example(*task, bad).empty(), describe(name, opts) << ": wrong distance accepted");
    bad = good;
    bad.tgt.push_back(bad.tgt.back());
    bad.distance.push_back(bad.distance.back());
    BOOST_TEST(!check_example(*task, bad).empty(), describe(name, opts) << ": extra target token accepted");
    // From the longest length, since a shorter source one token longer may be valid (listops
    // rarely reaches its maximum: there the generated example, whose extra token breaks it).
    bad = good.src.size() == task->max_src_len() ? good : longest_example(*task, 99);
    if (bad.src.empty()) bad = good;
    bad.src.push_back(bad.src.back());
    BOOST_TEST(!check_example(*task, bad).empty(), describe(name, opts) << ": longer source accepted");
  }
}

BOOST_AUTO_TEST_CASE(copy_memory_distance_follows_the_issue_formula) {
  const auto t = make_task("copy-memory", {{"symbols", "4"}, {"delay", "7"}});
  const Example ex = t->generate_seeded(5);
  BOOST_TEST(ex.src.size() == 4u + 7u + 1u);
  const std::vector<int> expected = {4 - 0 + 7 + 1, 4 - 1 + 7 + 1, 4 - 2 + 7 + 1, 4 - 3 + 7 + 1};
  BOOST_TEST(ex.distance == expected, boost::test_tools::per_element());
  BOOST_TEST(t->vocab().token(ex.src.back()) == ":");
}

BOOST_AUTO_TEST_CASE(generation_is_deterministic_and_seed_dependent) {
  for (const auto& name : task_names()) {
    const auto a = make_task(name), b = make_task(name);
    BOOST_TEST(hash_examples(*a, 7, 20) == hash_examples(*b, 7, 20), name);
    BOOST_TEST(hash_examples(*a, 7, 20) != hash_examples(*a, 8, 20), name);
  }
}

// Pinned output: the same seed must name the same examples on every platform and in every
// future version, or saved runs stop being reproducible. Update only on purpose.
BOOST_AUTO_TEST_CASE(generation_matches_pinned_hashes) {
  const std::map<std::string, uint64_t> pinned = {
      {"copy", 0x9e8fc308fbe6df9dULL},
      {"reverse", 0xe344e8826ed0944cULL},
      {"sort", 0xd4d4d9a3e0b8dc40ULL},
      {"copy-memory", 0x156bb55f49103090ULL},
      {"adding", 0x342c7c666ee30e67ULL},
      {"associative-recall", 0x47822d12aa22b6e3ULL},
      {"selective-copy", 0x37d0306a51d05a4eULL},
      {"listops", 0xcf691d43d52a9684ULL},
      {"parity", 0xcc24f0933b6e8612ULL},
      {"mqar", 0x82fe41dbd30ac209ULL},
      {"even-pairs", 0xc9738b4c24f51080ULL},
      {"cycle-navigation", 0xd8804a18f990afccULL},
      {"modular-arithmetic", 0xa2a34b13395a85b2ULL},
      {"stack-manipulation", 0x447ea4e49dd3ca18ULL},
      {"binary-addition", 0xb2d323e280ed277dULL},
      {"dyck", 0xf67c3a6e8eca3fd2ULL},
  };
  for (const auto& name : task_names()) {
    const uint64_t h = hash_examples(*make_task(name), 42, 10);
    BOOST_TEST_CONTEXT(name << " now hashes to 0x" << std::hex << h) {
      BOOST_TEST(pinned.count(name) == 1u);
      if (pinned.count(name)) BOOST_TEST(pinned.at(name) == h);
    }
  }
}

BOOST_AUTO_TEST_CASE(rng_is_pinned_and_in_range) {
  Xoshiro r(0);
  const uint64_t first = r.next();
  BOOST_TEST(first == 0x1a70a846bd9cc2a9ULL);  // splitmix64-seeded xoshiro256**, pinned
  BOOST_TEST(first != Xoshiro(1).next());
  std::vector<int> count(7, 0);
  for (int i = 0; i < 7000; ++i) ++count[r.below(7)];
  for (int c : count) BOOST_TEST((c > 850 && c < 1150));
  for (int i = 0; i < 1000; ++i) {
    const int64_t v = r.range(-3, 3);
    BOOST_TEST((v >= -3 && v <= 3));
  }
}

// The closed-form chance levels against the empirical best blind guess, on small configs.
BOOST_AUTO_TEST_CASE(chance_levels_match_sampling) {
  const std::vector<std::pair<std::string, TaskOptions>> small = {
      {"copy", {{"length", "3"}, {"min_length", "2"}, {"alphabet", "2"}}},
      {"reverse", {{"length", "2"}, {"alphabet", "3"}}},
      {"sort", {{"length", "4"}, {"min_length", "2"}, {"alphabet", "3"}}},
      {"sort", {{"length", "6"}, {"alphabet", "2"}}},
      {"copy-memory", {{"symbols", "2"}, {"alphabet", "3"}, {"delay", "1"}}},
      {"adding", {{"length", "8"}}},
      {"associative-recall", {{"pairs", "3"}, {"queries", "1"}, {"values", "4"}}},
      {"selective-copy", {{"length", "5"}, {"symbols", "2"}, {"alphabet", "3"}}},
      {"parity", {{"length", "5"}, {"min_length", "2"}}},
      {"associative-recall", {{"pairs", "3"}, {"queries", "2"}, {"values", "4"}, {"distinct_values", "1"}}},
      {"mqar", {{"vocab", "8"}, {"pairs", "2"}, {"length", "8"}}},
      {"even-pairs", {{"length", "4"}, {"min_length", "1"}}},
      {"even-pairs", {{"length", "9"}}},
      {"cycle-navigation", {{"length", "3"}, {"min_length", "1"}}},
      {"cycle-navigation", {{"length", "2"}}},
      {"dyck", {{"length", "6"}}},
  };
  for (const auto& [name, opts] : small) {
    const auto t = make_task(name, opts);
    const Chance exact = t->chance();
    const Chance est = estimate_chance(*t, 20000, 11);
    BOOST_TEST(exact.exact);
    BOOST_TEST(std::abs(exact.token - est.token) < 0.015, describe(name, opts) << " token " << exact.token << " vs " << est.token);
    BOOST_TEST(std::abs(exact.sequence - est.sequence) < 0.015,
               describe(name, opts) << " sequence " << exact.sequence << " vs " << est.sequence);
  }
  // Hand-computed: copy with lengths 2..3 over 2 symbols; the best full guess has length 2.
  const Chance c = make_task("copy", {{"length", "3"}, {"min_length", "2"}, {"alphabet", "2"}})->chance();
  BOOST_TEST(c.token == 0.5);
  BOOST_TEST(c.sequence == 0.5 * 0.25, boost::test_tools::tolerance(1e-12));
  const Chance a = make_task("adding")->chance();
  BOOST_TEST(a.token == 0.325, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(a.sequence == 0.1, boost::test_tools::tolerance(1e-12));
  const Chance l = make_task("listops")->chance();
  BOOST_TEST(!l.exact);
  BOOST_TEST((l.token > 0.1 && l.token < 0.5));
}

BOOST_AUTO_TEST_CASE(listops_respects_depth_and_length) {
  const auto t = make_task("listops", {{"max_depth", "3"}, {"max_length", "60"}});
  Xoshiro rng(3);
  std::set<size_t> lengths;
  int deepest = 0;
  for (int i = 0; i < 300; ++i) {
    const Example ex = t->generate(rng);
    BOOST_TEST_REQUIRE(check_example(*t, ex).empty());
    lengths.insert(ex.src.size());
    int depth = 0;
    for (int id : ex.src) {
      const std::string& s = t->vocab().token(id);
      depth += s[0] == '[' ? 1 : s == "]" ? -1 : 0;
      deepest = std::max(deepest, depth);
    }
  }
  BOOST_TEST(deepest == 3);           // the depth limit is reached...
  BOOST_TEST(lengths.size() > 20u);   // ...and lengths (distances) vary
  BOOST_TEST(*lengths.rbegin() <= 60u);
}

BOOST_AUTO_TEST_CASE(knob_errors_name_the_problem) {
  std::string e = error_of([] { make_task("nope"); });
  BOOST_TEST(contains(e, "unknown task 'nope'"), e);
  BOOST_TEST(contains(e, "copy-memory"), e);
  e = error_of([] { make_task("copy-memory", {{"dealy", "3"}}); });
  BOOST_TEST(contains(e, "no knob 'dealy'"), e);
  BOOST_TEST(contains(e, "delay"), e);
  e = error_of([] { make_task("copy-memory", {{"delay", "-1"}}); });
  BOOST_TEST(contains(e, "delay=-1 is out of range; allowed: 0 to 100000"), e);
  for (const char* bad : {"ten", "", "3x", "1e3", " 4", "99999999999999999999"}) {
    e = error_of([bad] { make_task("copy", {{"length", bad}}); });
    BOOST_TEST(contains(e, "is not an integer"), bad << ": " << e);
  }
  e = error_of([] { make_task("copy", {{"length", "5"}, {"min_length", "6"}}); });
  BOOST_TEST(contains(e, "min_length=6 exceeds length=5"), e);
  e = error_of([] { make_task("associative-recall", {{"queries", "20"}}); });
  BOOST_TEST(contains(e, "queries=20 exceeds pairs=16"), e);
  e = error_of([] { make_task("associative-recall", {{"keys", "8"}}); });
  BOOST_TEST(contains(e, "keys=8 is smaller than pairs=16"), e);
  e = error_of([] { make_task("selective-copy", {{"length", "4"}}); });
  BOOST_TEST(contains(e, "symbols=8 exceeds length=4"), e);
  e = error_of([] { parse_task_options({"delay"}); });
  BOOST_TEST(contains(e, "'delay' is not NAME=VALUE"), e);
  e = error_of([] { parse_task_options({"=3"}); });
  BOOST_TEST(contains(e, "no name"), e);
  e = error_of([] { parse_task_options({"delay=3", "delay=4"}); });
  BOOST_TEST(contains(e, "given twice"), e);
  BOOST_TEST(parse_task_options({"delay=3", "symbols=+4"}).at("symbols") == "+4");
  BOOST_TEST(make_task("copy-memory", {{"symbols", "+4"}})->knob("symbols") == 4);
}

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
