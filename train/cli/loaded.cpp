// Loading a checkpoint with the data it was trained on, for eval, predict and the probes.
#include "train/cli/loaded.hpp"

#include <fmt/core.h>

#include "models/checkpoint.hpp"
#include "models/family.hpp"
#include "train/cli/cli.hpp"

namespace attn::cli {

Loaded load_checkpoint(const std::string& path, bool allow_nonfinite) {
  Loaded l;
  Checkpoint ck;
  try {
    l.model = load_model<float>(path, &ck, allow_nonfinite);
  } catch (const CheckpointError& e) {
    throw UsageError(e.what());
  }
  try {
    l.vocab = data::Vocab::from_json(nlohmann::json::parse(ck.metadata.at("vocab")));
    l.data = data::DataConfig::from_json(nlohmann::json::parse(ck.metadata.at("data")));
  } catch (const std::exception& e) {
    throw UsageError(fmt::format("checkpoint {}: no usable vocabulary or data config in its metadata ({})", path, e.what()));
  }
  if (l.vocab.size() != l.model->config.src_vocab)
    throw UsageError(fmt::format("checkpoint {}: vocabulary of {} tokens but a model of {}", path, l.vocab.size(),
                                 l.model->config.src_vocab));
  return l;
}

std::unique_ptr<data::Dataset> checkpoint_dataset(const Loaded& l, const std::vector<std::string>& task_opts,
                                                  data::Split split, size_t examples) {
  data::DataConfig dc = l.data;
  try {
    if (!task_opts.empty()) {
      if (dc.is_file() || dc.is_text()) throw UsageError("--task-opt applies to task checkpoints, not file or text datasets");
      // Overrides apply to the split evaluated, on top of the knobs it was trained with.
      const data::TaskSpec& spec = data::task_spec(dc.task);
      data::TaskOptions train_opts, test_opts;
      for (auto& [k, v] : dc.knobs) train_opts[k] = spec.knob(k)->value_text(v);
      for (auto& [k, v] : dc.test_knobs) test_opts[k] = spec.knob(k)->value_text(v);
      for (auto& [k, v] : data::parse_task_options(task_opts)) (split == data::Split::Test ? test_opts : train_opts)[k] = v;
      dc = data::task_config(dc.task, train_opts, test_opts, dc.seed, examples, examples);
      dc.format = l.data.format;
      dc.loss_on = l.data.loss_on;
    } else if (!dc.is_file()) {
      dc.valid_size = dc.test_size = examples;
    }
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    throw UsageError(e.what());
  }
  std::unique_ptr<data::Dataset> ds;
  try {
    ds = std::make_unique<data::Dataset>(dc);
  } catch (const std::exception& e) {
    throw UsageError(e.what());
  }
  if (ds->vocab() != l.vocab)
    throw UsageError("the data's vocabulary differs from the checkpoint's (a knob such as the alphabet size changed the "
                     "training vocabulary); only the test split may use other knobs: pass --split test");
  // A stream holds source, SEP and target in one sequence (a text window is its own stream).
  DataShape shape{(size_t)ds->vocab().size(), ds->max_src_len(), ds->max_tgt_len()};
  if (ds->text()) shape.max_stream_len = (size_t)ds->text()->block;
  const int64_t need = l.data.format == "lm" ? (int64_t)shape.stream_len()
                                         : (int64_t)std::max(ds->max_src_len(), ds->max_tgt_len() + 1);
  const int64_t limit = position_limit(l.model->config);
  if (limit > 0 && need > limit)
    throw UsageError(fmt::format("sequences of up to {} tokens exceed the model's position table ({} rows, --max-len at "
                                 "training); a learned-position model cannot read beyond it",
                                 need, limit));
  return ds;
}

}  // namespace attn::cli
