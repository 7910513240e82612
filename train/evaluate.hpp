// Evaluation: greedy decoding with no teacher forcing, token and sequence accuracy with 95%
// Wilson intervals, the teacher-forced loss, token accuracy by dependency distance and accuracy by
// source length. A language model (a stream batch) generates after `source SEP`; its distances
// are stream distances (data/stream.hpp).
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "data/dataset.hpp"
#include "models/seq2seq.hpp"
#include "train/distributed.hpp"

namespace attn {

struct Interval {
  double lo = 0, hi = 0;
};
// 95% Wilson score interval for `k` successes out of `n`.
Interval wilson(int64_t k, int64_t n, double z = 1.96);

struct EvalResult {
  int64_t examples = 0;
  int64_t split_examples = 0;  // the split's size; more than `examples` when a subset was scored
  int64_t tokens = 0, tokens_correct = 0;
  int64_t sequences_correct = 0;
  double loss = 0;  // teacher-forced cross-entropy per target token (EOS included)
  // The same over the labels a source token determines (those with a distance, as
  // accuracy_by_distance counts them; EOS excluded), the tokens memoryless baselines count;
  // -1 when no label has a distance.
  double dependent_loss = -1;
  // The loss of the best input-independent guess at those labels: the entropy of their values
  // over the evaluated examples (on copy memory log 8, Arjovsky et al.'s memoryless baseline).
  double memoryless_loss = -1;
  std::map<int, std::pair<int64_t, int64_t>> by_distance;  // distance -> (correct, total)
  struct LengthCounts {
    int64_t examples = 0, sequences_correct = 0, tokens = 0, tokens_correct = 0;
  };
  std::map<int, LengthCounts> by_length;  // source length -> counts, for length generalisation
  // Per example, in evaluation order: the replicates the study's bootstrap and paired tests
  // resample (whole sequences, never single tokens).
  std::vector<uint8_t> example_correct;
  std::vector<int> example_tokens_correct, example_tokens;
  data::Chance chance;

  // "3920 examples", or "1000 of 3920 examples, a fixed random subset".
  std::string describe_examples() const;
  double token_accuracy() const { return tokens ? double(tokens_correct) / tokens : 0.0; }
  double sequence_accuracy() const { return examples ? double(sequences_correct) / examples : 0.0; }
  Interval token_interval() const { return wilson(tokens_correct, tokens); }
  Interval sequence_interval() const { return wilson(sequences_correct, examples); }
  // Accuracy by distance, merged into at most `bins` ranges of equal width.
  std::vector<std::tuple<int, int, double, int64_t>> distance_bins(int bins = 8) const;  // lo, hi, acc, n
  // With `per_example`: each example's sequence and token correctness (summary.json, eval --json).
  nlohmann::json to_json(const std::string& prefix, bool per_example = false) const;
};

// Evaluates the first `limit` examples of a split (all when limit is 0). With `ranks`, every
// rank must call it: each scores every ranks->size()-th batch and all get the whole result,
// the one a single process gets.
template <class T>
EvalResult evaluate(Seq2SeqModel<T>& model, const data::Dataset& ds, data::Split split, size_t limit,
                    int batch_size = 100, const Ranks* ranks = nullptr);

// Decodes one batch greedily; returns the predicted target tokens of each example.
template <class T>
std::vector<std::vector<int>> predict_batch(Seq2SeqModel<T>& model, Graph<T>& g, const data::Batch& b);

SeqBatch to_seq_batch(const data::Batch& b);

}  // namespace attn
