#define BOOST_TEST_MODULE data_dataset
#include "tests/common.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "data/checkers.hpp"
#include "data/dataset.hpp"
#include "data/error.hpp"

using namespace attn::data;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}
bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::set<std::vector<int>> sources(const std::vector<Example>& v) {
  std::set<std::vector<int>> s;
  for (const auto& e : v) s.insert(e.src);
  return s;
}

}  // namespace

// Parity of 10 bits has 1,024 strings: without the held-out rule, a test set would mostly be
// training examples.
BOOST_AUTO_TEST_CASE(small_space_splits_are_disjoint) {
  for (const auto& [task, opts] : std::vector<std::pair<std::string, TaskOptions>>{
           {"parity", {{"length", "10"}}}, {"copy", {{"length", "10"}, {"alphabet", "2"}}}}) {
    const Dataset ds(task_config(task, opts, {}, 3, 300, 300));
    const auto valid = sources(ds.examples(Split::Valid)), test = sources(ds.examples(Split::Test));
    BOOST_TEST(valid.size() > 40u);  // the splits are not degenerate: ~1024/16 sources each
    BOOST_TEST(test.size() > 40u);
    std::set<std::vector<int>> train;
    for (uint64_t i = 0; i < 5000; ++i) train.insert(ds.example(Split::Train, i).src);
    BOOST_TEST(train.size() > 200u);  // the training stream covers most of its part of the space
    for (const auto& s : valid) BOOST_TEST_REQUIRE(train.count(s) == 0u, task << ": valid source in train");
    for (const auto& s : test) {
      BOOST_TEST_REQUIRE(train.count(s) == 0u, task << ": test source in train");
      BOOST_TEST_REQUIRE(valid.count(s) == 0u, task << ": test source in valid");
    }
    const SplitStats st = ds.stats(Split::Test);
    BOOST_TEST(st.examples == 300u);
    BOOST_TEST(st.distinct_sources == test.size());
    BOOST_TEST(st.in_train == 0u);
    BOOST_TEST(st.in_valid == 0u);
  }
}

BOOST_AUTO_TEST_CASE(held_out_rule_is_by_source_strings) {
  const Dataset ds(task_config("parity", {{"length", "12"}}, {}, 1, 50, 50));
  for (const auto& [split, v] : {std::make_pair(Split::Valid, &ds.examples(Split::Valid)),
                                 std::make_pair(Split::Test, &ds.examples(Split::Test))})
    for (const auto& e : *v) BOOST_TEST((source_owner(ds.vocab().to_strings(e.src)) == split));
  for (uint64_t i = 0; i < 200; ++i)
    BOOST_TEST((source_owner(ds.vocab().to_strings(ds.example(Split::Train, i).src)) == Split::Train));
  // About 1/16 of all sources belong to each held-out split.
  int valid = 0;
  for (int x = 0; x < 4096; ++x) {
    std::vector<std::string> bits;
    for (int b = 0; b < 12; ++b) bits.push_back((x >> b) & 1 ? "1" : "0");
    valid += source_owner(bits) == Split::Valid;
  }
  BOOST_TEST((valid > 4096 / 16 - 60 && valid < 4096 / 16 + 60), valid);
}

BOOST_AUTO_TEST_CASE(seed_streams_are_disjoint_and_deterministic) {
  const DataConfig cfg = task_config("copy", {}, {}, 9, 100, 100);
  const Dataset a(cfg), b(cfg);
  BOOST_TEST((a.examples(Split::Valid) == b.examples(Split::Valid)));
  BOOST_TEST((a.examples(Split::Test) == b.examples(Split::Test)));
  for (uint64_t i : {0ull, 1ull, 12345ull, 1ull << 40}) BOOST_TEST((a.example(Split::Train, i) == b.example(Split::Train, i)));
  // Index i of each split comes from a different seed.
  for (uint64_t i = 0; i < 100; ++i) {
    BOOST_TEST(!(a.example(Split::Train, i) == a.example(Split::Valid, i)));
    BOOST_TEST(!(a.example(Split::Valid, i) == a.example(Split::Test, i)));
  }
  const Dataset c(task_config("copy", {}, {}, 10, 100, 100));
  BOOST_TEST(!(c.example(Split::Valid, 0) == a.example(Split::Valid, 0)));
  BOOST_TEST(!(c.example(Split::Train, 0) == a.example(Split::Train, 0)));
  // A shorter split is a prefix of a longer one.
  const Dataset small(task_config("copy", {}, {}, 9, 10, 10));
  for (uint64_t i = 0; i < 10; ++i) BOOST_TEST((small.example(Split::Test, i) == a.example(Split::Test, i)));
}

BOOST_AUTO_TEST_CASE(test_split_uses_test_knobs) {
  const Dataset ds(task_config("copy-memory", {{"delay", "20"}}, {{"delay", "60"}}, 1, 30, 30));
  for (const auto& e : ds.examples(Split::Valid)) BOOST_TEST(e.src.size() == 10u + 20u + 1u);
  for (const auto& e : ds.examples(Split::Test)) {
    BOOST_TEST(e.src.size() == 10u + 60u + 1u);
    BOOST_TEST(check_example(*ds.task(Split::Test), e) == "");
  }
  BOOST_TEST(ds.max_src_len() == 71u);
  BOOST_TEST(ds.task(Split::Test)->knob("delay") == 60);
  BOOST_TEST(ds.task(Split::Valid)->knob("delay") == 20);
  BOOST_TEST(ds.config().describe() ==
             "copy-memory (symbols=10 alphabet=8 delay=20 layout=target), test (symbols=10 alphabet=8 delay=60 layout=target)");
}

BOOST_AUTO_TEST_CASE(test_knobs_must_fit_the_training_vocabulary) {
  // A smaller alphabet is fine: its tokens keep their training ids.
  const Dataset ok(task_config("copy", {{"alphabet", "10"}}, {{"alphabet", "3"}}, 1, 5, 50));
  for (const auto& e : ok.examples(Split::Test))
    for (int id : e.src) BOOST_TEST((id >= Vocab::NUM_SPECIAL && id < Vocab::NUM_SPECIAL + 3));
  const std::string e = error_of([] { Dataset(task_config("copy", {}, {{"alphabet", "12"}}, 1, 5, 5)); });
  BOOST_TEST(contains(e, "token '10'"), e);
  BOOST_TEST(contains(e, "alphabet=12"), e);
}

BOOST_AUTO_TEST_CASE(too_small_space_is_an_error) {
  const std::string e = error_of([] { Dataset(task_config("parity", {{"length", "1"}}, {}, 1, 5, 5)); });
  BOOST_TEST(contains(e, "too few distinct sources"), e);
}

BOOST_AUTO_TEST_CASE(train_batches_follow_step_indexing) {
  const Dataset ds(task_config("copy", {{"length", "6"}, {"min_length", "2"}}, {}, 4, 1, 1));
  const Batch b = ds.train_batch(3, 5);
  BOOST_TEST(b.B == 5);
  for (int r = 0; r < 5; ++r) {
    const Example e = ds.example(Split::Train, 15 + r);
    BOOST_TEST(b.src_lengths[r] == (int)e.src.size());
    for (size_t s = 0; s < e.src.size(); ++s) BOOST_TEST(b.src_at(r, (int)s) == e.src[s]);
  }
}

BOOST_AUTO_TEST_CASE(make_batch_pads_and_shifts) {
  const Vocab v({"a", "b", "c"});
  const int a = v.id("a"), bb = v.id("b"), c = v.id("c");
  const std::vector<Example> ex = {{{a, bb, c}, {c}, {3}}, {{a}, {a, bb}, {1, 1}}};
  const Batch b = make_batch(ex, v);
  BOOST_TEST(b.B == 2);
  BOOST_TEST(b.src_len == 3);
  BOOST_TEST(b.tgt_len == 3);
  const int P = Vocab::PAD, B = Vocab::BOS, E = Vocab::EOS;
  BOOST_TEST(b.src == (std::vector<int>{a, bb, c, a, P, P}), boost::test_tools::per_element());
  BOOST_TEST(b.src_pad == (std::vector<uint8_t>{0, 0, 0, 0, 1, 1}), boost::test_tools::per_element());
  BOOST_TEST(b.tgt_in == (std::vector<int>{B, c, P, B, a, bb}), boost::test_tools::per_element());
  BOOST_TEST(b.tgt_out == (std::vector<int>{c, E, P, a, bb, E}), boost::test_tools::per_element());
  BOOST_TEST(b.tgt_pad == (std::vector<uint8_t>{0, 0, 1, 0, 0, 0}), boost::test_tools::per_element());
  BOOST_TEST(b.distance == (std::vector<int>{3, -1, -1, 1, 1, -1}), boost::test_tools::per_element());
  BOOST_TEST(b.src_lengths == (std::vector<int>{3, 1}), boost::test_tools::per_element());
  BOOST_TEST(b.tgt_lengths == (std::vector<int>{1, 2}), boost::test_tools::per_element());
  BOOST_CHECK_THROW(make_batch({}, v), std::invalid_argument);
  BOOST_CHECK_THROW(make_batch({{{}, {a}, {1}}}, v), std::invalid_argument);
  BOOST_CHECK_THROW(make_batch({{{a}, {a}, {}}}, v), std::invalid_argument);
  BOOST_CHECK_THROW(make_batch({{{99}, {a}, {1}}}, v), std::invalid_argument);
  BOOST_CHECK_THROW(make_batch({{{a}, {Vocab::EOS}, {1}}}, v), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(vocab_maps_and_round_trips) {
  const Vocab v({"x", "é", "y"});
  BOOST_TEST(v.size() == 7);
  BOOST_TEST(v.token(Vocab::PAD) == "<pad>");
  BOOST_TEST(v.token(Vocab::UNK) == "<unk>");
  BOOST_TEST(v.id("é") == 5);
  BOOST_TEST(v.encode("  x \t y zz ") == (std::vector<int>{4, 6, Vocab::UNK}), boost::test_tools::per_element());
  BOOST_TEST(v.decode({4, 5, Vocab::EOS}) == "x é <eos>");
  BOOST_CHECK_THROW(v.token(7), std::out_of_range);
  const Vocab back = Vocab::from_json(nlohmann::json::parse(v.to_json().dump()));
  BOOST_TEST((back == v));
  BOOST_CHECK_THROW(Vocab({"x", "x"}), Error);
  BOOST_CHECK_THROW(Vocab({"<pad>"}), Error);
  BOOST_CHECK_THROW(Vocab({"a b"}), Error);
  BOOST_CHECK_THROW(Vocab({""}), Error);
  BOOST_CHECK_THROW(Vocab::from_json(nlohmann::json{{"tokens", {"<pad>", "<bos>", "<eos>"}}}), Error);
  BOOST_CHECK_THROW(Vocab::from_json(nlohmann::json{{"tokens", {"<pad>", "<bos>", "<unk>", "<eos>"}}}), Error);
  BOOST_CHECK_THROW(Vocab::from_json(nlohmann::json::array()), Error);
}

BOOST_AUTO_TEST_CASE(config_round_trips_through_json) {
  const DataConfig c = task_config("listops", {{"max_depth", "6"}}, {{"max_length", "300"}}, 77, 12, 34);
  const DataConfig back = DataConfig::from_json(nlohmann::json::parse(c.to_json().dump()));
  BOOST_TEST(back.task == "listops");
  BOOST_TEST((back.knobs == c.knobs));
  BOOST_TEST((back.test_knobs == c.test_knobs));
  BOOST_TEST(back.test_knobs.at("max_depth") == 6);  // test knobs start from the training knobs
  BOOST_TEST(back.test_knobs.at("max_length") == 300);
  BOOST_TEST(back.seed == 77u);
  BOOST_TEST(back.valid_size == 12u);
  BOOST_TEST(back.test_size == 34u);
  const DataConfig f = DataConfig::from_json(file_config("some/dir", 5).to_json());
  BOOST_TEST(f.is_file());
  BOOST_TEST(f.data_dir == "some/dir");
  nlohmann::json bad = c.to_json();
  bad["knobs"]["max_depth"] = 0;
  BOOST_TEST(contains(error_of([&] { DataConfig::from_json(bad); }), "max_depth=0 is out of range"));
  bad = c.to_json();
  bad["knobs"]["max_depth"] = "6";
  BOOST_TEST(contains(error_of([&] { DataConfig::from_json(bad); }), "not an integer"));
  bad = c.to_json();
  bad["task"] = "listop";
  BOOST_TEST(contains(error_of([&] { DataConfig::from_json(bad); }), "unknown task 'listop'"));
  BOOST_TEST(contains(error_of([] { DataConfig::from_json(nlohmann::json{{"seed", 1}}); }), "needs \"task\""));
  BOOST_TEST(contains(error_of([] { DataConfig::from_json(nlohmann::json{{"seed", -1}}); }), "\"seed\" must be"));
}

BOOST_AUTO_TEST_CASE(split_names_parse) {
  BOOST_TEST((parse_split("valid") == Split::Valid));
  BOOST_TEST(std::string(split_name(Split::Test)) == "test");
  BOOST_TEST(contains(error_of([] { parse_split("dev"); }), "unknown split 'dev'"));
}

// Every task of issue 14, on a small space (so collisions would be common): deterministic
// splits whose sources are disjoint from each other and from a long stretch of training, and
// whose examples the independent checker accepts.
BOOST_AUTO_TEST_CASE(new_tasks_have_deterministic_disjoint_splits) {
  const std::vector<std::pair<std::string, TaskOptions>> small = {
      {"mqar", {{"vocab", "8"}, {"pairs", "1"}, {"length", "6"}}},
      {"even-pairs", {{"length", "10"}, {"min_length", "0"}}},
      {"cycle-navigation", {{"length", "7"}, {"min_length", "0"}}},
      {"modular-arithmetic", {{"length", "5"}, {"min_length", "0"}}},
      {"modular-arithmetic", {{"length", "7"}, {"brackets", "1"}, {"min_length", "0"}}},
      {"stack-manipulation", {{"length", "7"}, {"min_length", "0"}}},
      {"binary-addition", {{"length", "9"}, {"min_length", "0"}}},
      {"dyck", {{"length", "12"}, {"min_length", "0"}, {"kinds", "1"}}},
      {"copy-memory", {{"symbols", "4"}, {"alphabet", "2"}, {"delay", "3"}, {"min_delay", "0"}}},
      {"associative-recall", {{"pairs", "3"}, {"queries", "2"}, {"keys", "3"}, {"values", "3"}, {"gap", "1"},
                              {"min_gap", "0"}, {"distinct_values", "1"}}},
  };
  for (const auto& [task, opts] : small) {
    const DataConfig cfg = task_config(task, opts, {}, 5, 200, 200);
    const Dataset ds(cfg), again(cfg);
    BOOST_TEST((ds.examples(Split::Valid) == again.examples(Split::Valid)), task);
    BOOST_TEST((ds.examples(Split::Test) == again.examples(Split::Test)), task);
    for (uint64_t i : {0ull, 7ull, 1ull << 33}) BOOST_TEST((ds.example(Split::Train, i) == again.example(Split::Train, i)), task);
    const auto valid = sources(ds.examples(Split::Valid)), test = sources(ds.examples(Split::Test));
    std::set<std::vector<int>> train;
    for (uint64_t i = 0; i < 4000; ++i) train.insert(ds.example(Split::Train, i).src);
    for (const auto& s : valid) BOOST_TEST_REQUIRE(train.count(s) == 0u, task << ": valid source in train");
    for (const auto& s : test) {
      BOOST_TEST_REQUIRE(train.count(s) == 0u, task << ": test source in train");
      BOOST_TEST_REQUIRE(valid.count(s) == 0u, task << ": test source in valid");
    }
    const auto t = make_task(task, opts);
    for (const auto* v : {&ds.examples(Split::Valid), &ds.examples(Split::Test)})
      for (const auto& e : *v) BOOST_TEST_REQUIRE(check_example(*t, e).empty(), task << ": " << check_example(*t, e));
  }
}

// ---- the one-stream format (data/stream.hpp)

BOOST_AUTO_TEST_CASE(stream_layout_is_source_sep_target_with_next_token_labels) {
  Example e{{5, 6, 7}, {8, 9}, {3, 1}};
  const Stream s = to_stream(e, LossOn::target);
  const int P = Vocab::PAD;
  BOOST_TEST(s.tokens == (std::vector<int>{5, 6, 7, Vocab::BOS, 8, 9}), boost::test_tools::per_element());
  // The output at SEP predicts the first target token, the last target token predicts EOS.
  BOOST_TEST(s.labels == (std::vector<int>{P, P, P, 8, 9, Vocab::EOS}), boost::test_tools::per_element());
  // Target j's distance grows by j: the source token at S - d is d + j positions back.
  BOOST_TEST(s.distance == (std::vector<int>{-1, -1, -1, 3, 2, -1}), boost::test_tools::per_element());
  BOOST_TEST(s.prompt == 4);
  const Stream all = to_stream(e, LossOn::all);
  BOOST_TEST(all.labels == (std::vector<int>{6, 7, Vocab::BOS, 8, 9, Vocab::EOS}), boost::test_tools::per_element());
  BOOST_TEST(all.distance == s.distance, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(stream_distance_is_the_path_from_source_token_to_predicting_position) {
  // Copy-memory: target j is source token j; with the whole stream written out, the predicting
  // position of target j is S + j, so its distance is S + j - j = S for every j.
  const auto task = make_task("copy-memory", {{"symbols", "4"}, {"delay", "5"}});
  const Example e = task->generate_seeded(7);
  const Stream s = to_stream(e, LossOn::target);
  const int S = (int)e.src.size();
  for (size_t j = 0; j < e.tgt.size(); ++j) {
    const int d = s.distance[S + j];
    BOOST_TEST(d > 0);
    BOOST_TEST(e.src[S + j - d] == e.tgt[j]);  // the determining token sits d positions back
  }
}

BOOST_AUTO_TEST_CASE(stream_batches_pad_after_each_stream_and_lm_datasets_render_them) {
  const std::vector<Example> ex = {{{5}, {6, 7}, {1, 1}}, {{5, 6, 7}, {4}, {2}}};
  Batch b = make_batch(ex, Vocab({"a", "b", "c", "d", "e"}));
  BOOST_TEST(!b.is_stream());
  add_stream(b, ex, LossOn::target);
  BOOST_TEST(b.len == 5);
  const int P = Vocab::PAD, S = Vocab::BOS, E = Vocab::EOS;
  BOOST_TEST(b.tokens == (std::vector<int>{5, S, 6, 7, P, 5, 6, 7, S, 4}), boost::test_tools::per_element());
  BOOST_TEST(b.labels == (std::vector<int>{P, 6, 7, E, P, P, P, P, 4, E}), boost::test_tools::per_element());
  BOOST_TEST(&b.targets() == &b.labels);

  DataConfig c = task_config("copy", {{"length", "4"}}, {}, 3, 20, 20);
  c.format = "lm";
  const Dataset ds(c);
  const Batch t = ds.train_batch(0, 4);
  BOOST_TEST(t.is_stream());
  BOOST_TEST(ds.batch(ds.examples(Split::Valid), false).is_stream());
  const DataConfig back = DataConfig::from_json(c.to_json());
  BOOST_TEST(back.format == "lm");
  BOOST_TEST(contains(c.describe(), "one stream"));
  c.format = "seq2seq";
  BOOST_TEST(!c.to_json().contains("format"));  // older readers see the same file
}

// Arjovsky et al.'s aligned copy memory: N symbols, T-1 blanks, ':', N blanks; a label at every
// position, '_' for the first T + N, then the N symbols, each T + N positions after its source.
BOOST_AUTO_TEST_CASE(aligned_copy_memory_labels_every_position) {
  const auto t = make_task("copy-memory", {{"symbols", "3"}, {"delay", "4"}, {"layout", "aligned"}});
  BOOST_TEST(t->stream_only());
  BOOST_TEST(contains(format_knobs(t->spec(), t->knobs()), "layout=aligned"));
  const Example e = t->generate_seeded(3);
  const Vocab& v = t->vocab();
  BOOST_TEST(e.tgt.empty());
  BOOST_TEST(e.src.size() == 4u + 2 * 3u);
  const std::vector<std::string> src = v.to_strings(e.src);
  for (size_t i = 3; i < src.size(); ++i) BOOST_TEST(src[i] == (i == 6 ? ":" : "_"), i);
  for (size_t i = 0; i < 7; ++i) {
    BOOST_TEST(v.token(e.labels[i]) == "_");
    BOOST_TEST(e.label_distance[i] == -1);
  }
  for (size_t i = 0; i < 3; ++i) {
    BOOST_TEST(e.labels[7 + i] == e.src[i]);
    BOOST_TEST(e.label_distance[7 + i] == 7);
  }
  BOOST_TEST(check_example(*t, e).empty(), check_example(*t, e));
  Example bad = e;
  bad.labels[8] = bad.labels[7] == bad.labels[8] ? v.id("_") : bad.labels[7];
  BOOST_TEST(!check_example(*t, bad).empty());
  bad = e;
  bad.label_distance.back() = 6;
  BOOST_TEST(!check_example(*t, bad).empty());
  // Chance and the memoryless baseline at T = 4, N = 3, alphabet 8: (7 + 3/8) / 10 and 3 log 8 / 10.
  const Chance c = t->chance();
  BOOST_TEST(std::fabs(c.token - (7 + 3.0 / 8) / 10) < 1e-15);
  BOOST_TEST(std::fabs(c.baselines.at(0).value - 3 * std::log(8.0) / 10) < 1e-15);
  // Variable delays are checked too, and a delay of 0 cannot be laid out.
  const auto r = make_task("copy-memory", {{"symbols", "2"}, {"delay", "9"}, {"min_delay", "1"}, {"layout", "aligned"}});
  Xoshiro rng(5);
  for (int i = 0; i < 50; ++i) BOOST_TEST(check_example(*r, r->generate(rng)).empty());
  BOOST_TEST(contains(error_of([] { make_task("copy-memory", {{"delay", "0"}, {"layout", "aligned"}}); }), "at least 1"));
  BOOST_TEST(contains(error_of([] { make_task("copy-memory", {{"layout", "diagonal"}}); }),
                      "knob layout='diagonal' is not one of target, aligned"));
}

BOOST_AUTO_TEST_CASE(stream_only_tasks_need_the_lm_format) {
  DataConfig c = task_config("copy-memory", {{"symbols", "3"}, {"delay", "4"}, {"layout", "aligned"}}, {}, 1, 10, 10);
  BOOST_TEST(contains(error_of([&] { Dataset d(c); }), "needs a language model"));
  c.format = "lm";
  const Dataset ds(c);
  const Batch b = ds.train_batch(0, 2);
  BOOST_TEST(b.is_stream());
  BOOST_TEST(b.len == 10);
  BOOST_TEST(std::count(b.labels.begin(), b.labels.end(), Vocab::PAD) == 0);  // every position labelled
  BOOST_TEST(b.label_distance[7] == 7);
}

// Zoology's layout of mqar: in one stream the value is the label at its query and nowhere else.
BOOST_AUTO_TEST_CASE(mqar_streams_label_only_the_queries) {
  const auto t = make_task("mqar", {{"vocab", "64"}, {"pairs", "4"}, {"length", "24"}});
  Xoshiro rng(9);
  for (int n = 0; n < 100; ++n) {
    const Example e = t->generate(rng);
    const Stream s = to_stream(e, LossOn::all);  // the task's own labels: loss_on does not apply
    BOOST_TEST(s.tokens == e.src, boost::test_tools::per_element());
    std::vector<int> values;
    for (size_t p = 0; p < s.labels.size(); ++p) {
      if (s.labels[p] == Vocab::PAD) continue;
      values.push_back(s.labels[p]);
      const int key_at = (int)p - s.distance[p];
      BOOST_TEST(e.src[key_at] == e.src[p]);        // the query repeats its key
      BOOST_TEST(e.src[key_at + 1] == s.labels[p]);  // whose value is the label
    }
    BOOST_TEST(values == e.tgt, boost::test_tools::per_element());  // the seq2seq target, in query order
    BOOST_TEST(check_example(*t, e).empty(), check_example(*t, e));
  }
}
