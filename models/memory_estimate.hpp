// What a training step will need, estimated from the config alone, before anything is allocated,
// so that a run too large for the machine stops with one clear error instead of std::bad_alloc
// half-way through writing its folder.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/config.hpp"

namespace attn {

struct MemoryTerm {
  std::string what;
  double bytes = 0;
};

struct MemoryEstimate {
  std::vector<MemoryTerm> terms;
  double total() const;
  const MemoryTerm& largest() const;
  std::string describe() const;  // "3.1 GiB: attention workspace 2.9 GiB, parameters ..."
};

// The sizes of one training step: batch, sources of up to src_len tokens, decoder inputs of up
// to tgt_len, on `threads` threads.
struct StepSize {
  double batch = 0, src_len = 0, tgt_len = 0, threads = 1;
};

// The model's parameter count, without building it (tests check it against num_parameters());
// INT64_MAX when it does not fit.
int64_t count_parameters(const ModelConfig& c);

// One float32 training step with an optimiser keeping `moments` buffers per parameter (Adam 2,
// SGD with momentum 1). The activation terms come from the model's family and follow the ops each
// layer puts on the tape (docs/reliability.md); they are meant to be within a factor of two.
MemoryEstimate estimate_training_memory(const ModelConfig& c, int64_t batch, int64_t src_len, int64_t tgt_len,
                                        int threads, int moments);

// Bytes this process can still allocate: the smaller of MemAvailable and the room left under
// RLIMIT_AS and RLIMIT_DATA; `what` says which one it was.
double available_memory(std::string* what = nullptr);

// "1.5G", "800M", "64K" or plain bytes; throws std::invalid_argument otherwise.
double parse_bytes(const std::string& text);
std::string format_bytes(double bytes);

}  // namespace attn
