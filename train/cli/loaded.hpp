// A checkpoint with its vocabulary and data config (from its metadata), and the data to score it
// on: what eval, predict and the probes read.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "models/seq2seq.hpp"

namespace attn::cli {

struct Loaded {
  std::unique_ptr<Seq2SeqModel<float>> model;
  data::Vocab vocab;
  data::DataConfig data;
};

// Throws UsageError for a missing, corrupt or non-finite checkpoint (unless allow_nonfinite).
Loaded load_checkpoint(const std::string& path, bool allow_nonfinite = false);

// The checkpoint's data with `examples` validation and test examples, and `task_opts` (k=v)
// applied to `split` over the knobs it was trained with. Throws UsageError when the data's
// vocabulary differs from the checkpoint's or its sequences overrun the model's position table.
std::unique_ptr<data::Dataset> checkpoint_dataset(const Loaded& l, const std::vector<std::string>& task_opts,
                                                  data::Split split, size_t examples);

}  // namespace attn::cli
