#define BOOST_TEST_MODULE evaluate
#include "tests/common.hpp"
#include "tests/cli_runner.hpp"

// The evaluator on hand-built cases: Wilson intervals against values computed by hand, distance
// bins of a hand-built result, and evaluate() on a tiny dataset with a fake model whose outputs
// are fixed, so that token and sequence accuracy, loss, chance and accuracy by distance are
// known exactly.
#include <cmath>
#include <fstream>
#include <functional>
#include <map>

#include "train/evaluate.hpp"

using namespace attn;
using data::Vocab;

namespace {

// Wilson (1927): the bounds are (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), p = k/n.
// The expected values below were computed from that formula in Python's decimal module at 40
// digits. attnlab evaluates it in about 20 float64 operations on quantities at most 1 (z = 1.96
// itself rounded once), so each bound is within about 20 u/2 = 1.1e-15 absolute, more where
// centre - half cancels; 4e-15 = 36 u is the bound allowed.
constexpr double kWilsonTol = 4e-15;
const double kZ2 = 1.96 * 1.96;

void check_wilson(int64_t k, int64_t n, double lo, double hi) {
  const Interval w = wilson(k, n);
  BOOST_TEST_CONTEXT(k << "/" << n) {
    BOOST_TEST(std::fabs(w.lo - lo) <= kWilsonTol, "lo " << w.lo << " expected " << lo);
    BOOST_TEST(std::fabs(w.hi - hi) <= kWilsonTol, "hi " << w.hi << " expected " << hi);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(wilson_intervals_of_known_counts) {
  check_wilson(7, 10, 0.39677321997956520, 0.89221071251378817);
  check_wilson(1, 4, 0.04558606264463623, 0.69936394755736337);
  check_wilson(6, 8, 0.40926987910258921, 0.92852231114197234);
  check_wilson(50, 100, 0.40382982859014715, 0.59617017140985285);
  check_wilson(1, 3, 0.06149031527616051, 0.79234504487351208);
}

// k = 0: the bounds are 0 and z²/(n + z²); k = n: n/(n + z²) and 1 (the formula with p = 0 or 1).
// The interval is symmetric: flipping successes and failures mirrors it about 1/2. No data: [0, 1].
BOOST_AUTO_TEST_CASE(wilson_edge_cases) {
  for (int64_t n : {1, 10, 1000}) {
    BOOST_TEST_CONTEXT("n = " << n) {
      const Interval none = wilson(0, n), all = wilson(n, n);
      BOOST_TEST(none.lo >= 0.0);
      BOOST_TEST(none.lo <= kWilsonTol);
      BOOST_TEST(std::fabs(none.hi - kZ2 / (n + kZ2)) <= kWilsonTol);
      BOOST_TEST(std::fabs(all.lo - n / (n + kZ2)) <= kWilsonTol);
      BOOST_TEST(all.hi <= 1.0);
      BOOST_TEST(all.hi >= 1.0 - kWilsonTol);
      for (int64_t k = 0; k <= n; k += std::max<int64_t>(1, n / 7)) {
        const Interval a = wilson(k, n), b = wilson(n - k, n);
        BOOST_TEST(std::fabs(a.lo - (1 - b.hi)) <= 2 * kWilsonTol, "k = " << k);
        BOOST_TEST(a.lo <= double(k) / n);
        BOOST_TEST(a.hi >= double(k) / n);
      }
    }
  }
  BOOST_TEST(std::fabs(wilson(0, 10).hi - 0.27754016876661658) <= kWilsonTol);
  const Interval empty = wilson(0, 0);
  BOOST_TEST(empty.lo == 0.0);
  BOOST_TEST(empty.hi == 1.0);
}

// Bins of equal width w = ceil((hi - lo + 1) / bins), from the smallest distance; empty bins are
// left out; accuracy is pooled over the tokens of a bin (not averaged over distances).
BOOST_AUTO_TEST_CASE(distance_bins_of_a_hand_built_result) {
  EvalResult r;
  BOOST_TEST(r.distance_bins().empty());
  r.by_distance = {{1, {1, 2}}, {2, {2, 2}}, {3, {0, 1}}, {10, {3, 4}}, {11, {1, 1}}};
  using Bin = std::tuple<int, int, double, int64_t>;
  // 5 distances fit in 8 bins: one per distance.
  const std::vector<Bin> each = {{1, 1, 0.5, 2}, {2, 2, 1.0, 2}, {3, 3, 0.0, 1}, {10, 10, 0.75, 4}, {11, 11, 1.0, 1}};
  BOOST_TEST((r.distance_bins(8) == each));
  BOOST_TEST((r.distance_bins(5) == each));
  // 2 bins: w = ceil(11 / 2) = 6, so 1-6 (3 of 5) and 7-12 (4 of 5).
  BOOST_TEST((r.distance_bins(2) == std::vector<Bin>{{1, 6, 0.6, 5}, {7, 12, 0.8, 5}}));
  // 3 bins: w = ceil(11 / 3) = 4: 1-4, 5-8 (empty, left out), 9-12.
  BOOST_TEST((r.distance_bins(3) == std::vector<Bin>{{1, 4, 0.6, 5}, {9, 12, 0.8, 5}}));
  // 4 bins: w = 3: 1-3, 4-6 and 7-9 empty, 10-12.
  BOOST_TEST((r.distance_bins(4) == std::vector<Bin>{{1, 3, 0.6, 5}, {10, 12, 0.8, 5}}));
  const nlohmann::json j = r.to_json("x_");
  BOOST_TEST(j.at("x_accuracy_by_distance").size() == 5u);  // to_json uses 8 bins
  BOOST_TEST(j.at("x_accuracy_by_distance").at("10").get<double>() == 0.75);
}

namespace {

// A model whose decoded output is a fixed function of the source, and whose teacher-forced
// logits are the same at every position: `eos_logit` for EOS, 0 for every other token.
class FakeModel : public Seq2SeqModel<float> {
 public:
  using Decoder = std::function<std::vector<int>(const std::vector<int>& src)>;
  FakeModel(int64_t vocab, Decoder decode, float eos_logit = 0) : Seq2SeqModel<float>(make_config(vocab)), decode_(decode), eos_(eos_logit) {}

  Tensor<float> forward(Graph<float>& g, const SeqBatch& b) override {
    const int64_t V = config.tgt_vocab;
    std::vector<float> v(b.batch * b.tgt_len * V, 0.0f);
    for (size_t i = Vocab::EOS; i < v.size(); i += V) v[i] = eos_;
    return g.tensor({b.batch, b.tgt_len, V}, v);
  }
  std::vector<std::vector<int>> greedy_decode(Graph<float>&, const SeqBatch& b, int64_t max_steps, int, int) override {
    std::vector<std::vector<int>> out;
    const std::vector<int> lengths = b.src_lengths();
    for (int64_t i = 0; i < b.batch; ++i) {
      const auto row = b.src.begin() + i * b.src_len;
      out.push_back(decode_(std::vector<int>(row, row + lengths[i])));
      if ((int64_t)out.back().size() > max_steps) out.back().resize(max_steps);
    }
    return out;
  }
  Rng& dropout_rng() override { return rng_; }

 private:
  static ModelConfig make_config(int64_t vocab) {
    ModelConfig c;
    c.src_vocab = c.tgt_vocab = vocab;
    return c;
  }
  Decoder decode_;
  float eos_;
  Rng rng_;
};

// A file dataset: train fixes the chance guess (position-wise modes "b a", whole-sequence mode
// "b a"); valid has targets of lengths 2, 2, 3, 1.
data::Dataset tiny_files(const attn_test::TempDir& dir) {
  std::ofstream(dir / "train.tsv") << "a b\tb a\nc b\tb a\na c\tc a\n";
  std::ofstream(dir / "valid.tsv") << "a b\tb a\na c\tc a\nb c a\ta c b\nc\tc\n";
  std::ofstream(dir / "test.tsv") << "a\ta\n";
  return data::Dataset(data::file_config(dir.dir.string()));
}

// Per valid source, the fake's output: right; one token wrong; right plus an extra token;
// nothing at all.
FakeModel::Decoder answers(const Vocab& v) {
  const std::map<std::vector<int>, std::vector<int>> table = {{v.encode("a b"), v.encode("b a")},
                                                              {v.encode("a c"), v.encode("c b")},
                                                              {v.encode("b c a"), v.encode("a c b b")},
                                                              {v.encode("c"), {}}};
  return [table](const std::vector<int>& src) { return table.at(src); };
}

}  // namespace

// Tokens: 2 + 1 + 3 + 0 = 6 of 8 right (an extra token costs no token, a missing one does);
// sequences: 1 of 4 (extra and missing tokens both make a sequence wrong). In batches of 3 and 1.
BOOST_AUTO_TEST_CASE(token_and_sequence_accuracy_of_a_fake_model) {
  attn_test::TempDir dir;
  const data::Dataset ds = tiny_files(dir);
  FakeModel m(ds.vocab().size(), answers(ds.vocab()));
  const EvalResult r = evaluate(m, ds, data::Split::Valid, 0, 3);
  BOOST_TEST(r.examples == 4);
  BOOST_TEST(r.tokens == 8);
  BOOST_TEST(r.tokens_correct == 6);
  BOOST_TEST(r.sequences_correct == 1);
  BOOST_TEST(r.token_accuracy() == 0.75);
  BOOST_TEST(r.sequence_accuracy() == 0.25);
  BOOST_TEST(r.token_interval().lo == wilson(6, 8).lo);
  BOOST_TEST(r.sequence_interval().hi == wilson(1, 4).hi);
  BOOST_TEST(r.by_distance.empty());  // file datasets have no distances
  // Two examples only: the dataset's fixed subset, scored by the per-source counts above.
  const std::map<std::vector<int>, std::pair<int, int>> right = {{ds.vocab().encode("a b"), {2, 1}},
                                                                  {ds.vocab().encode("a c"), {1, 0}},
                                                                  {ds.vocab().encode("b c a"), {3, 0}},
                                                                  {ds.vocab().encode("c"), {0, 0}}};
  int tokens = 0, sequences = 0;
  for (const auto& e : ds.eval_examples(data::Split::Valid, 2)) {
    tokens += right.at(e.src).first;
    sequences += right.at(e.src).second;
  }
  const EvalResult two = evaluate(m, ds, data::Split::Valid, 2, 3);
  BOOST_TEST(two.examples == 2);
  BOOST_TEST(two.split_examples == 4);
  BOOST_TEST(two.tokens_correct == tokens);
  BOOST_TEST(two.sequences_correct == sequences);
  BOOST_TEST(m.training());  // evaluate restores the mode it found
}

// The chance level of a file dataset: the guess "b a" (position-wise modes of train) gets 3 of
// valid's 8 target tokens (b a / c a / a c b / c) and 1 of 4 sequences.
BOOST_AUTO_TEST_CASE(chance_level_of_a_tiny_dataset) {
  attn_test::TempDir dir;
  const data::Dataset ds = tiny_files(dir);
  FakeModel m(ds.vocab().size(), answers(ds.vocab()));
  const EvalResult r = evaluate(m, ds, data::Split::Valid, 0);
  BOOST_TEST(r.chance.token == 0.375);
  BOOST_TEST(r.chance.sequence == 0.25);
  const nlohmann::json j = r.to_json("val_");
  BOOST_TEST(j.at("val_chance_token").get<double>() == 0.375);
  BOOST_TEST(j.at("val_token_accuracy").get<double>() == 0.75);
  BOOST_TEST(j.at("val_examples").get<int64_t>() == 4);
}

// The loss is the mean over every target token and EOS, padding excluded, pooled over batches:
// with logit a on EOS and 0 elsewhere, a token costs L = log(e^a + V - 1), an EOS L - a. Valid has
// 8 tokens and 4 EOS, so the mean is L - a/3. (Averaging the two batches' means, 10 and 2
// tokens, would give L - 0.4a; counting the 2 pads of the first batch, something else again.)
// float32 cross-entropy over 7 logits is about ten roundings of 2^-24, so 2e-6 relative.
BOOST_AUTO_TEST_CASE(teacher_forced_loss_is_pooled_over_tokens) {
  attn_test::TempDir dir;
  const data::Dataset ds = tiny_files(dir);
  const int V = ds.vocab().size();
  BOOST_TEST_REQUIRE(V == 7);  // 4 specials, a, b, c
  const double a = 2.0;
  FakeModel m(V, answers(ds.vocab()), (float)a);
  const EvalResult r = evaluate(m, ds, data::Split::Valid, 0, 3);
  const double L = std::log(std::exp(a) + V - 1);
  BOOST_TEST(r.loss == L - a / 3, boost::test_tools::tolerance(2e-6));
}

// Accuracy by distance on copy-memory (4 symbols, delay 3): target token i is 4 - i + 3 + 1
// tokens after its source, so distances 8, 7, 6, 5. The fake copies the symbols but gets token 1
// (distance 7) wrong: every distance is right everywhere but 7, which is wrong everywhere.
BOOST_AUTO_TEST_CASE(accuracy_by_distance_of_a_fake_copier) {
  const data::Dataset ds(
      data::task_config("copy-memory", {{"symbols", "4"}, {"alphabet", "8"}, {"delay", "3"}}, {}, 5, 40, 40));
  FakeModel m(ds.vocab().size(), [](const std::vector<int>& src) {
    std::vector<int> out(src.begin(), src.begin() + 4);
    out[1] = Vocab::UNK;  // never a target token
    return out;
  });
  const EvalResult r = evaluate(m, ds, data::Split::Test, 0, 16);
  BOOST_TEST(r.examples == 40);
  BOOST_TEST(r.tokens_correct == 120);
  BOOST_TEST(r.sequences_correct == 0);
  using Count = std::pair<int64_t, int64_t>;
  BOOST_TEST((r.by_distance == std::map<int, Count>{{5, {40, 40}}, {6, {40, 40}}, {7, {0, 40}}, {8, {40, 40}}}));
  using Bin = std::tuple<int, int, double, int64_t>;
  BOOST_TEST((r.distance_bins(2) == std::vector<Bin>{{5, 6, 1.0, 80}, {7, 8, 0.5, 80}}));
  const data::Chance c = ds.chance(data::Split::Test);
  BOOST_TEST(r.chance.token == c.token);
  BOOST_TEST(c.token == 1.0 / 8);  // one symbol of 8, blind
}

// The memoryless baseline is the entropy of the dependent labels' values, counted here from the
// examples themselves; the fake's uniform logits cost log V at each of them. (float32
// cross-entropy over V logits: a few roundings of 2^-24 relative.)
BOOST_AUTO_TEST_CASE(memoryless_loss_is_the_entropy_of_the_dependent_labels) {
  const data::Dataset ds(
      data::task_config("copy-memory", {{"symbols", "4"}, {"alphabet", "3"}, {"delay", "2"}}, {}, 7, 30, 30));
  FakeModel m(ds.vocab().size(), [](const std::vector<int>& src) { return std::vector<int>(src.begin(), src.begin() + 4); });
  const EvalResult r = evaluate(m, ds, data::Split::Test, 0, 8);
  std::map<int, double> counts;
  double n = 0;
  for (const auto& e : ds.eval_examples(data::Split::Test, 0))
    for (int t : e.tgt) counts[t] += 1, n += 1;
  BOOST_TEST_REQUIRE(counts.size() == 3u);  // the three symbols
  double entropy = 0;
  for (const auto& [t, c] : counts) entropy -= c / n * std::log(c / n);
  BOOST_TEST(r.memoryless_loss == entropy, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(r.dependent_loss == std::log((double)ds.vocab().size()), boost::test_tools::tolerance(1e-6));
  BOOST_TEST(r.to_json("test_").at("test_memoryless_loss").get<double>() == r.memoryless_loss);
}
