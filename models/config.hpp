// ModelConfig fully describes a model; it is stored (as JSON) in every checkpoint.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace attn {

struct ModelConfig {
  std::string type = "transformer";  // transformer | lstm | lstm-attn
  int64_t src_vocab = 16, tgt_vocab = 16;
  // Transformer (d_model and heads also size lstm-attn's attention)
  int64_t d_model = 64;
  int heads = 4;
  int64_t ff = 256;
  int enc_layers = 2, dec_layers = 2;
  double dropout = 0.0;
  bool norm_first = true;
  std::string activation = "relu";  // relu | gelu
  std::string pos = "learned";      // learned | sinusoidal
  int64_t max_len = 64;             // rows of the position table
  bool share_embeddings = false;    // source and target use one table (needs equal vocabularies)
  bool tie_output = false;          // output projection reuses the target embedding
  // LSTM baselines
  int64_t hidden = 128;
  int layers = 1;

  // Throws attn::Error naming the first bad field.
  void validate() const;
  nlohmann::json to_json() const;
  static ModelConfig from_json(const nlohmann::json& j);  // unknown keys are an error
};

}  // namespace attn
