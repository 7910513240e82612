// The shared part of the recurrent families (lstm, gru and rnn, each with and without
// attention): their common fields, parameter count, memory estimate and factories. Each cell's
// own file (family_lstm.cpp, family_gru.cpp, family_rnn.cpp) names its two families. The
// families without attention also train on one stream (format lm, models/recurrent_lm.hpp).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "models/family.hpp"
#include "models/recurrent_lm.hpp"
#include "models/recurrent_seq2seq.hpp"

namespace attn {

struct RecurrentKind {
  std::string name;         // the family: "gru", "gru-attn"
  std::string cell;         // "GRU", for descriptions and gradcheck names
  bool attention = false;
  int gates = 1;            // blocks of H rows in each weight: LSTM 4, GRU 3, RNN 1
  int state_vectors = 1;    // H-wide vectors a layer carries: LSTM 2 (h and c), GRU and RNN 1
  double activation_width;  // a step's saved activations per token and layer, in multiples of H
  std::vector<FieldSpec> extra_fields;  // after hidden, layers, dropout (and heads)
  std::function<void(const ModelConfig&, RecurrentOptions&)> extra_options;
  std::function<void(const ModelConfig&)> extra_check;
  std::function<std::unique_ptr<Seq2SeqModel<float>>(const ModelConfig&, const RecurrentOptions&, uint64_t)> make_f32;
  std::function<std::unique_ptr<Seq2SeqModel<double>>(const ModelConfig&, const RecurrentOptions&, uint64_t)> make_f64;
  // Format lm (the RecurrentLM); only without attention.
  std::function<std::unique_ptr<Seq2SeqModel<float>>(const ModelConfig&, const RecurrentOptions&, uint64_t)> make_lm_f32;
  std::function<std::unique_ptr<Seq2SeqModel<double>>(const ModelConfig&, const RecurrentOptions&, uint64_t)> make_lm_f64;
};

ModelFamily recurrent_family(const RecurrentKind& k);

// The factories of kind Net (LSTM, GRU, RNN), for RecurrentKind.
template <template <class> class Net>
void set_factories(RecurrentKind& k) {
  k.make_f32 = [](const ModelConfig& c, const RecurrentOptions& o, uint64_t seed) -> std::unique_ptr<Seq2SeqModel<float>> {
    return std::make_unique<Seq2SeqRecurrent<float, Net>>(c, o, seed);
  };
  k.make_f64 = [](const ModelConfig& c, const RecurrentOptions& o,
                  uint64_t seed) -> std::unique_ptr<Seq2SeqModel<double>> {
    return std::make_unique<Seq2SeqRecurrent<double, Net>>(c, o, seed);
  };
  if (k.attention) return;
  k.make_lm_f32 = [](const ModelConfig& c, const RecurrentOptions& o, uint64_t seed) -> std::unique_ptr<Seq2SeqModel<float>> {
    return std::make_unique<RecurrentLM<float, Net>>(c, o, seed);
  };
  k.make_lm_f64 = [](const ModelConfig& c, const RecurrentOptions& o,
                     uint64_t seed) -> std::unique_ptr<Seq2SeqModel<double>> {
    return std::make_unique<RecurrentLM<double, Net>>(c, o, seed);
  };
}

}  // namespace attn
