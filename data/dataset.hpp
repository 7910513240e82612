// Train / valid / test splits over a task or a file dataset, and the config that names them.
//
// Tasks. Example i of a split is generated from the seed hash(seed, split, i, attempt), so every
// example is a pure function of (config, split, i): the train stream is infinite (batch `step`
// holds indices step*B .. step*B+B-1), valid/test are the first N indices, and a longer split
// starts with the same examples as a shorter one. Valid uses the training knobs; test uses the
// test knobs (training knobs overridden by --test-task-opt).
//
// Held-out rule. Every source is assigned to one split by a fixed hash of its token strings
// (independent of the seed): 1/16 of all sources belong to valid, 1/16 to test, the rest to
// train. Each split rejects (and redraws) sources that belong to another, so no valid or test
// source can ever occur in training, and valid and test share none, even for small spaces such as
// parity of 10 bits. A split that cannot find a source of its own in 1024 attempts (a space of a
// handful of sources) is an error.
//
// File datasets. The three files are used as given; overlap between them is counted and
// reported, not removed. Training order: a fresh pseudo-random permutation of train.tsv each
// epoch (index i is in epoch i / n).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "data/batch.hpp"
#include "data/file_dataset.hpp"
#include "data/stream.hpp"
#include "data/text_corpus.hpp"
#include "data/task.hpp"

namespace attn::data {

enum class Split { Train, Valid, Test };
const char* split_name(Split s);                // "train", "valid", "test"
Split parse_split(const std::string& name);      // throws data::Error

// Everything needed to rebuild the same data: saved in checkpoint metadata.
struct DataConfig {
  std::string task;          // task name; empty for a file dataset
  KnobValues knobs;          // resolved knobs for train and valid
  KnobValues test_knobs;     // resolved knobs for test
  std::string data_dir;      // file dataset directory; empty for a task
  std::string text_file;     // a text corpus (data/text_corpus.hpp); empty otherwise
  int block = 64;            // text corpus: tokens per window
  TextTokens text_tokens = TextTokens::chars;
  uint64_t seed = 1;
  size_t valid_size = 1000;  // tasks only; file datasets use the whole files
  size_t test_size = 1000;
  // How batches are laid out for the model: "seq2seq", or "lm" (one stream, data/stream.hpp)
  // with the loss on the target only or on everything.
  std::string format = "seq2seq";
  LossOn loss_on = LossOn::target;

  bool is_file() const { return !data_dir.empty(); }
  bool is_text() const { return !text_file.empty(); }
  // Only a one-stream layout (no target): a text corpus, or a task whose knobs make it so.
  bool stream_only() const;
  // "copy-memory (symbols=10 alphabet=8 delay=100)" or "files in DIR"; test knobs when they differ.
  std::string describe() const;
  nlohmann::json to_json() const;
  // Throws data::Error for a malformed config, an unknown task or knob, or a bad knob value.
  static DataConfig from_json(const nlohmann::json& j);
};

// Resolves `train_opts` over the defaults, then `test_opts` over the training knobs.
DataConfig task_config(const std::string& task, const TaskOptions& train_opts, const TaskOptions& test_opts = {},
                       uint64_t seed = 1, size_t valid_size = 1000, size_t test_size = 1000);
DataConfig file_config(const std::string& dir, uint64_t seed = 1);
// A text corpus; its format is always lm.
DataConfig text_config(const std::string& path, int block, TextTokens kind, uint64_t seed = 1,
                       size_t valid_size = 1000, size_t test_size = 1000);

struct SplitStats {
  size_t examples = 0;          // 0 for the (infinite) task train split
  size_t distinct_sources = 0;
  size_t in_train = 0;          // sources that also occur in training (0 for tasks, by the rule)
  size_t in_valid = 0;          // test only: sources that also occur in valid
  size_t unk_tokens = 0;        // file datasets: tokens outside the training vocabulary
};

// The split a source belongs to under the held-out rule (tasks only).
Split source_owner(const std::vector<std::string>& tokens);

class Dataset {
 public:
  // Builds the tasks (or loads the files) and generates valid and test. Throws data::Error.
  explicit Dataset(DataConfig cfg);
  ~Dataset();
  Dataset(Dataset&&) noexcept;
  Dataset& operator=(Dataset&&) noexcept;

  const DataConfig& config() const { return cfg_; }
  // The model's vocabulary. For file datasets it is rebuilt from train.tsv: compare it with the
  // saved one when resuming.
  const Vocab& vocab() const { return vocab_; }
  // The text corpus, or nullptr.
  const TextCorpus* text() const { return text_ ? &*text_ : nullptr; }
  // nullptr for file datasets and text. Valid uses the train task. Examples are always in vocab() ids; the
  // test task's own vocabulary may be a subset with other ids when the test knobs shrink it.
  const Task* task(Split s) const;

  // Example `index` of a split; valid/test need index < size(split). Thread-safe.
  Example example(Split s, uint64_t index) const;
  const std::vector<Example>& examples(Split s) const;  // valid or test (train: std::logic_error)
  // What an evaluation of at most `limit` examples scores (0: all): the whole split, or a fixed
  // pseudo-random subset kept in file order. The first `limit` would be biased wherever a file
  // is sorted (SCAN's test file is); the subset is the same for every seed and model.
  std::vector<Example> eval_examples(Split s, size_t limit) const;
  // How often the test split's examples were read: a run that must not see test checks 0.
  int test_reads() const { return *test_reads_; }
  size_t size(Split s) const;                            // 0 for the infinite task train stream
  // Training examples step*B .. step*B+B-1, batched in the config's format.
  Batch train_batch(uint64_t step, int batch_size) const;
  // `examples` batched in the config's format; evaluation's streams put the loss on the target.
  Batch batch(const std::vector<Example>& examples, bool for_training) const;

  // Chance level on a split, scored on eval_examples(s, limit). For file datasets: the best
  // position-wise guess fitted on train.tsv (not exact).
  Chance chance(Split s, size_t limit = 0) const;
  SplitStats stats(Split s) const;
  // Longest source / target (without BOS/EOS) any split can produce.
  size_t max_src_len() const;
  size_t max_tgt_len() const;

 private:
  Example generate(Split s, uint64_t index) const;
  Chance text_chance(Split s, size_t limit) const;
  Split owner(const std::vector<int>& src) const;

  DataConfig cfg_;
  Vocab vocab_;
  std::unique_ptr<Task> train_task_, test_task_;
  std::vector<int> test_remap_;        // test-task id -> training-vocabulary id (empty: identity)
  std::vector<uint64_t> token_hash_;   // per id: hash of its string, for the held-out rule
  std::optional<FileDataset> files_;
  std::optional<TextCorpus> text_;
  std::vector<Example> valid_, test_;
  // Behind a pointer so that Dataset stays movable; atomic because example() is thread-safe.
  std::unique_ptr<std::atomic<int>> test_reads_ = std::make_unique<std::atomic<int>>(0);
};

}  // namespace attn::data
