#define BOOST_TEST_MODULE data_files
#include "tests/common.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <fstream>

#include "data/dataset.hpp"
#include "data/error.hpp"
#include "data/file_dataset.hpp"

using namespace attn::data;
namespace fs = std::filesystem;

namespace {

// A fresh directory per test case, removed afterwards.
struct TempDir {
  fs::path dir;
  TempDir() {
    static int n = 0;
    dir = fs::temp_directory_path() / ("attnlab_test_files_" + std::to_string(getpid()) + "_" + std::to_string(n++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  void write(const std::string& name, const std::string& bytes) const {
    std::ofstream(dir / name, std::ios::binary) << bytes;
  }
  // Three valid files; tests then break one.
  void write_good() const {
    write("train.tsv", "a b c\tc b a\nb b\tb b\n");
    write("valid.tsv", "a c\tc a\n");
    write("test.tsv", "c\tc\n");
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
  std::string error() const {
    try {
      load_file_dataset(dir.string());
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(reads_crlf_utf8_bom_and_blank_lines) {
  TempDir t;
  t.write("train.tsv", "\xEF\xBB\xBFh\xC3\xA9llo  w\xC3\xB6rld\t\xE4\xB8\x96\xE7\x95\x8C\r\n\r\nx <unk>\ty\tz\r\n");
  t.write("valid.tsv", "w\xC3\xB6rld q\tx\n");
  t.write("test.tsv", "x\ty r s\n\n");
  const FileDataset f = load_file_dataset(t.dir.string());
  BOOST_TEST(f.vocab.size() == Vocab::NUM_SPECIAL + 6);  // héllo wörld 世界 x y z, in order
  BOOST_TEST(f.vocab.token(4) == "h\xC3\xA9llo");
  BOOST_TEST(f.vocab.token(6) == "\xE4\xB8\x96\xE7\x95\x8C");
  BOOST_TEST(f.train.size() == 2u);
  BOOST_TEST(f.vocab.decode(f.train[0].src) == "h\xC3\xA9llo w\xC3\xB6rld");
  BOOST_TEST(f.vocab.decode(f.train[1].src) == "x <unk>");
  BOOST_TEST(f.vocab.decode(f.train[1].tgt) == "y z");  // a second TAB separates target tokens
  BOOST_TEST(f.train[1].distance == (std::vector<int>{-1, -1}), boost::test_tools::per_element());
  BOOST_TEST(f.vocab.decode(f.valid[0].src) == "w\xC3\xB6rld <unk>");
  BOOST_TEST(f.valid_unk == 1u);
  BOOST_TEST(f.test_unk == 2u);
  BOOST_TEST(f.test.size() == 1u);
}

BOOST_AUTO_TEST_CASE(each_malformed_line_names_file_and_line) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"train.tsv", "a\tb\nno tab here\n", "train.tsv:2: no TAB between source and target"},
      {"valid.tsv", "a\tb\n\n \tb\n", "valid.tsv:3: empty source"},
      {"test.tsv", "a\t  \r\n", "test.tsv:1: empty target"},
      {"train.tsv", "a\tb\r\nc\t\r\n", "train.tsv:2: empty target"},
      {"train.tsv", "a\tb\nbad\xC3(\tb\n", "train.tsv:2: invalid UTF-8 at byte 4"},
      {"train.tsv", "a\tb\n\xED\xA0\x80\tb\n", "train.tsv:2: invalid UTF-8"},  // a surrogate
      {"valid.tsv", "<pad>\tb\n", "valid.tsv:1: token '<pad>' is reserved"},
      {"train.tsv", "a\t<eos>\n", "train.tsv:1: token '<eos>' is reserved"},
  };
  for (const auto& [file, bytes, expected] : cases) {
    TempDir t;
    t.write_good();
    t.write(file, bytes);
    const std::string e = t.error();
    BOOST_TEST(e.find(t.path(expected.substr(0, expected.find(':')))) == 0u, e);  // starts with the path
    BOOST_TEST(e.find(expected) != std::string::npos, "expected '" << expected << "' in: " << e);
  }
}

BOOST_AUTO_TEST_CASE(empty_missing_and_unreadable_files) {
  for (const char* file : {"train.tsv", "valid.tsv", "test.tsv"}) {
    TempDir t;
    t.write_good();
    t.write(file, "");
    BOOST_TEST(t.error() == t.path(file) + ": empty file (no examples)");
    t.write(file, "\n\r\n\n");
    BOOST_TEST(t.error() == t.path(file) + ": empty file (no examples, only blank lines)");
    fs::remove(t.dir / file);
    BOOST_TEST(t.error() == t.path(file) + ": missing file");
    fs::create_directory(t.dir / file);
    BOOST_TEST(t.error() == t.path(file) + ": unreadable: is a directory, not a file");
  }
  // Permission bits do not stop root, so check them only when they take effect.
  TempDir t;
  t.write_good();
  fs::permissions(t.dir / "valid.tsv", fs::perms::none);
  if (!std::ifstream(t.dir / "valid.tsv")) {
    BOOST_TEST(t.error() == t.path("valid.tsv") + ": unreadable: Permission denied");
  } else {
    BOOST_TEST_MESSAGE("running as root: permission case skipped");
  }
  fs::permissions(t.dir / "valid.tsv", fs::perms::owner_all);
  BOOST_TEST(t.error() == "(no error)");
}

BOOST_AUTO_TEST_CASE(missing_directory_names_the_first_file) {
  const std::string e = [] {
    try {
      load_file_dataset("/nonexistent/attnlab/dir");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  }();
  BOOST_TEST(e == "/nonexistent/attnlab/dir/train.tsv: missing file");
}

BOOST_AUTO_TEST_CASE(dataset_over_files_reports_overlap_and_shuffles_each_epoch) {
  TempDir t;
  std::string train;
  for (int i = 0; i < 37; ++i) train += "s" + std::to_string(i) + "\tt" + std::to_string(i % 3) + "\n";
  t.write("train.tsv", train);
  t.write("valid.tsv", "s1\tt1\nnew\tt0\n");
  t.write("test.tsv", "s2\tt2\ns1\tt1\nnew\tt9\n");
  const Dataset ds(file_config(t.dir.string(), 5));
  BOOST_TEST(ds.task(Split::Train) == nullptr);
  BOOST_TEST(ds.size(Split::Train) == 37u);
  const SplitStats v = ds.stats(Split::Valid), s = ds.stats(Split::Test);
  BOOST_TEST(v.in_train == 1u);  // s1
  BOOST_TEST(v.unk_tokens == 1u);
  BOOST_TEST(s.in_train == 2u);  // s2, s1
  BOOST_TEST(s.in_valid == 2u);  // s1, new
  BOOST_TEST(s.unk_tokens == 2u);
  // Every epoch visits each training line exactly once, in a different order.
  std::vector<std::string> epoch0, epoch1;
  for (uint64_t i = 0; i < 74; ++i)
    (i < 37 ? epoch0 : epoch1).push_back(ds.vocab().decode(ds.example(Split::Train, i).src));
  BOOST_TEST(epoch0 != epoch1);
  std::sort(epoch0.begin(), epoch0.end());
  std::sort(epoch1.begin(), epoch1.end());
  BOOST_TEST(epoch0 == epoch1);
  BOOST_TEST((std::unique(epoch0.begin(), epoch0.end()) == epoch0.end()));
  // Chance: the best position-wise guess from train ("t0": 13 of 37 lines) scored on test.
  const Chance c = ds.chance(Split::Test);
  BOOST_TEST(!c.exact);
  BOOST_TEST(c.token == 0.0);  // test targets are t2, t1, <unk>
  BOOST_TEST(ds.chance(Split::Valid).token == 0.5);
  BOOST_TEST(ds.max_tgt_len() == 1u);
}

// A sorted test file (100 lines of t0, then 100 of t1): a limited evaluation must not score
// the first lines only, and chance must be scored on the same subset.
BOOST_AUTO_TEST_CASE(limited_evaluation_scores_a_fixed_spread_subset) {
  TempDir t;
  std::string test, all_sources;  // all in one training line, so that none is <unk>
  for (int i = 0; i < 200; ++i) {
    test += "s" + std::to_string(1000 + i) + "\tt" + std::to_string(i / 100) + "\n";
    all_sources += "s" + std::to_string(1000 + i) + " ";
  }
  t.write("train.tsv", all_sources + "\tt0\nb\tt0\nc\tt1\n");
  t.write("valid.tsv", "a\tt0\n");
  t.write("test.tsv", test);
  const Dataset ds(file_config(t.dir.string(), 5)), other_seed(file_config(t.dir.string(), 6));
  const std::vector<Example> sub = ds.eval_examples(Split::Test, 50);
  BOOST_TEST(sub.size() == 50u);
  std::vector<std::string> src;
  int late = 0, t0 = 0;
  for (const auto& e : sub) {
    src.push_back(ds.vocab().decode(e.src));
    late += ds.vocab().decode(e.tgt) == "t1";
  }
  t0 = 50 - late;
  BOOST_TEST(std::is_sorted(src.begin(), src.end()));  // file order, so no repeats either
  BOOST_TEST((std::adjacent_find(src.begin(), src.end()) == src.end()));
  BOOST_TEST(late > 10);  // the first 50 lines would give 0
  BOOST_TEST(late < 40);
  std::vector<std::string> src_other;
  for (const auto& e : other_seed.eval_examples(Split::Test, 50)) src_other.push_back(other_seed.vocab().decode(e.src));
  BOOST_TEST(src == src_other);
  BOOST_TEST(ds.chance(Split::Test, 50).token == t0 / 50.0);  // the guess is t0
  BOOST_TEST(ds.chance(Split::Test).token == 0.5);
  BOOST_TEST(ds.eval_examples(Split::Test, 200).size() == 200u);
  BOOST_TEST(ds.eval_examples(Split::Test, 0).size() == 200u);
}

// ---- text corpora (data/text_corpus.hpp)

BOOST_AUTO_TEST_CASE(text_corpus_names_whitespace_and_splits_by_position) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "ab c\n";  // 200 characters
  const TextCorpus c = parse_text_corpus("t.txt", text, 4, TextTokens::chars);
  BOOST_TEST(c.vocab.size() == Vocab::NUM_SPECIAL + 5);  // a b <sp> c <nl>
  BOOST_TEST(c.vocab.contains("<sp>"));
  BOOST_TEST(c.vocab.contains("<nl>"));
  BOOST_TEST(c.ids.size() == 200u);
  BOOST_TEST(c.train_end == 180u);
  BOOST_TEST(c.valid_end == 190u);
  BOOST_TEST(detokenize(c.vocab.to_strings(c.ids), TextTokens::chars) == text);
  // A window's label at p is the token after p.
  const Example w = c.window(3);
  BOOST_TEST(w.src.size() == 4u);
  for (size_t p = 0; p < 4; ++p) BOOST_TEST(w.labels[p] == c.ids[3 + p + 1]);
  // Training windows, labels included, stay inside the training part.
  for (uint64_t i = 0; i < 500; ++i) {
    const Example t = c.train_window(7, i);
    const auto at = std::search(c.ids.begin(), c.ids.end(), t.src.begin(), t.src.end());
    BOOST_TEST((at != c.ids.end()));
  }
  // Evaluation windows do not overlap and stay in their part: 10 tokens hold two of 4 + 1.
  const auto valid = c.windows(c.train_end, c.valid_end, 100);
  BOOST_TEST(valid.size() == 2u);
  BOOST_TEST(valid[0].src == std::vector<int>(c.ids.begin() + 180, c.ids.begin() + 184), boost::test_tools::per_element());
  BOOST_TEST(valid[1].labels.back() == c.ids[188]);
}

BOOST_AUTO_TEST_CASE(text_corpus_words_and_errors) {
  std::string words;
  for (int i = 0; i < 100; ++i) words += "hello  world\n";
  const TextCorpus w = parse_text_corpus("w.txt", words, 2, TextTokens::words);
  BOOST_TEST(w.vocab.size() == Vocab::NUM_SPECIAL + 2);
  BOOST_TEST(detokenize(w.vocab.to_strings({w.ids[0], w.ids[1]}), TextTokens::words) == "hello world");
  auto error_of = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  BOOST_TEST(error_of([] { parse_text_corpus("e.txt", "", 4, TextTokens::chars); }) == "e.txt: no text");
  BOOST_TEST(error_of([] { parse_text_corpus("u.txt", std::string(300, 'a') + "\xff", 4, TextTokens::chars); })
                 .find("u.txt: byte 300: invalid UTF-8") == 0);
  BOOST_TEST(error_of([] { parse_text_corpus("s.txt", std::string(50, 'a'), 8, TextTokens::chars); })
                 .find("s.txt: 50 tokens are too few for block 8") == 0);
  BOOST_TEST(error_of([] { load_text_corpus("/nonexistent/x.txt", 4, TextTokens::chars); }) ==
             "/nonexistent/x.txt: cannot open the file");
}

BOOST_AUTO_TEST_CASE(text_dataset_evaluates_fixed_windows_and_round_trips_its_config) {
  TempDir t;
  std::string text;
  for (int i = 0; i < 1500; ++i) text += "to be or not ";  // the valid 5% holds 60 windows
  std::ofstream(t.dir / "in.txt") << text;
  const DataConfig c = text_config((t.dir / "in.txt").string(), 16, TextTokens::chars, 3, 50, 50);
  const Dataset ds(c);
  BOOST_TEST(ds.text() != nullptr);
  BOOST_TEST(ds.examples(Split::Valid).size() == 50u);
  BOOST_TEST(ds.max_src_len() == 16u);
  const Batch b = ds.train_batch(0, 4);
  BOOST_TEST(b.is_stream());
  BOOST_TEST(b.len == 16);
  BOOST_TEST(std::count(b.labels.begin(), b.labels.end(), Vocab::PAD) == 0);
  const Chance ch = ds.chance(Split::Valid);
  BOOST_TEST(ch.token > 0.2);  // ' ' is 4 of 13 characters
  BOOST_TEST(ch.baselines.size() == 1u);
  const DataConfig back = DataConfig::from_json(c.to_json());
  BOOST_TEST(back.is_text());
  BOOST_TEST(back.block == 16);
  BOOST_TEST(back.to_json() == c.to_json());
}
