// A model checkpoint: its parameters as a safetensors file whose __metadata__ holds, as JSON
// strings, everything needed to use it on its own: "model" (the ModelConfig), plus whatever the
// caller adds (the training code stores "vocab" and "task").
#pragma once
#include <map>
#include <memory>
#include <string>

#include "models/safetensors.hpp"
#include "models/seq2seq.hpp"

namespace attn {

// Writes atomically (temporary file, then rename). `extra` goes into __metadata__ as is.
template <class T>
void save_model(const std::string& path, const Seq2SeqModel<T>& model,
                const std::map<std::string, std::string>& extra = {});

// Throws CheckpointError naming every tensor of `ck` that holds NaN or Inf, with the count.
void check_finite(const Checkpoint& ck, const std::string& path);

// Copies the checkpoint's tensors into `model`, after checking the set of names, every shape and
// (unless allow_nonfinite) that every value is finite. Throws CheckpointError naming the file and
// every problem.
template <class T>
void load_parameters(const Checkpoint& ck, Seq2SeqModel<T>& model, const std::string& path,
                     bool allow_nonfinite = false);

// Reads a checkpoint and builds the model its metadata describes.
template <class T>
std::unique_ptr<Seq2SeqModel<T>> load_model(const std::string& path, Checkpoint* ck_out = nullptr,
                                            bool allow_nonfinite = false);

}  // namespace attn
