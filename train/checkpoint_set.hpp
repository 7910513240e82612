// The checkpoints of a run as one consistent set, so that SIGKILL at any moment loses at most the
// steps since the last checkpoint.
//
// state.safetensors is the one file resume reads: the parameters, the optimiser's moments, the
// dropout RNG and the loop's counters, stamped with the step. It is written first, atomically.
// last.safetensors and best.safetensors (parameters only, for eval and predict) follow, stamped
// with the step of the weights they hold. A kill between those writes leaves them behind the
// state; load() re-derives them from it, so the set is whole again before training goes on.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>

#include "models/seq2seq.hpp"
#include "train/optim.hpp"
#include "train/run_files.hpp"

namespace attn {

struct LoopState {
  int64_t step = 0;          // steps done
  double best = -1;          // best validation sequence accuracy
  double best_loss = INFINITY;  // the validation loss there (breaks ties in accuracy)
  int64_t best_step = -1;
  double window_loss = 0;    // training loss summed since the last metrics row
  int64_t window_steps = 0;
  double elapsed = 0;        // seconds of earlier sessions of this run
  bool finished = false;     // training ended (step budget or --target-accuracy); test eval remains
};

class CheckpointSet {
 public:
  // `meta` (vocabulary, data config) goes into every file's metadata.
  CheckpointSet(const RunFiles& files, std::map<std::string, std::string> meta)
      : files_(files), meta_(std::move(meta)) {}
  // `best`: the weights are the best so far (st.best_step == st.step).
  void save(const Seq2SeqModel<float>& model, const Optimizer& optim, const LoopState& st, bool best);
  // Restores everything from state.safetensors and, with `repair`, rewrites last/best when their
  // stamps lag behind (the ranks of an MPI run other than the writer only read). Throws
  // CheckpointError for a damaged set.
  LoopState load(Seq2SeqModel<float>& model, Optimizer& optim, bool repair = true);
  // Removes the temporary files of writes a kill cut short.
  void remove_partial_writes() const;
  bool written() const { return written_; }

 private:
  const RunFiles& files_;
  std::map<std::string, std::string> meta_;
  bool written_ = false;
};

}  // namespace attn
