// The probes (docs/probes.md): why a model succeeds or fails at a distance. Gradient flow (input
// saliency ||dL_j/dx_p|| by distance, and a recurrence's ||dL_j/dh_t|| by lag), attention
// statistics per head, and head importance by ablation. They read one-stream models (format lm)
// and encoder-decoders alike; each finds what it reads (the token or source embedding, the
// recurrences, the attention modules and their declared sites) among the model's submodules, so
// no family needs code of its own.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "models/seq2seq.hpp"

namespace attn {

// ---- gradient flow (probe_gradflow.cpp) ----

// One label's gradients: row `row` of the batch, the label at position `pos` (of the stream, or
// of the target). input_norm[p] = ||dL/dx_p||_2 for each input it reads, x_p the embedding at p:
// a stream's tokens 0..pos, or an encoder-decoder's whole source 0..S-1. state_norm[l][t] =
// ||dL/dh_t||_2 for layer l of each recurrence (an encoder-decoder's encoder), over the same
// steps. Input p lies at distance origin - p: origin is pos in a stream, S (the source's end, as
// the tasks count distance) for an encoder-decoder.
struct LabelGrads {
  int64_t row = 0, pos = 0, origin = 0;
  int64_t source = -1;  // the source position the task says the label depends on (-1: none)
  std::vector<double> input_norm;
  std::vector<std::vector<double>> state_norm;
};

// Every label of batch `b` (at most `max_positions` label positions, evenly spaced; 0: all), one
// backward per position. The model runs in eval mode; its parameter gradients are zeroed
// afterwards. Throws attn::Error for a model without a single token (or source) embedding.
template <class T>
std::vector<LabelGrads> label_gradients(Seq2SeqModel<T>& m, const data::Batch& b, int64_t max_positions = 0);

// The curves the probe plots, averaged over labels.
struct GradFlow {
  int64_t labels = 0;  // the labels with a nonzero input gradient
  // Input saliency: each label's input_norm divided by its sum over p (a fraction), by distance
  // d = origin - p; the mean over the labels with an input at d, and their count.
  std::vector<double> saliency;
  std::vector<int64_t> saliency_count;
  double source_saliency = -1;  // the mean fraction at the true source (-1: no label has one)
  int64_t source_labels = 0;
  // Per recurrence layer: ||dL/dh_t|| at lag k = origin - t, raw and relative to the state
  // nearest the label (Pascanu et al. 2013's decay), each the mean over labels.
  std::vector<std::vector<double>> state_raw, state_relative;
  std::vector<std::vector<int64_t>> state_count;
};
GradFlow bin_gradients(const std::vector<LabelGrads>& grads);

// ---- attention (probe_attention.cpp) ----

// One head of one attention module, averaged over the queries that see at least two keys (a
// query with one key has a trivial distribution).
struct HeadStats {
  std::string module;  // "layers.0.self_attn"
  int layer = 0, head = 0;
  double mean_distance = 0;  // sum_k w_qk |q - k| (Dosovitskiy et al. 2021, Fig. 7)
  double entropy = 0;        // -sum_k w_qk ln w_qk, nats (Clark et al. 2019)
  double confidence = 0;     // max_k w_qk (Voita et al. 2019)
  double source_mass = -1;   // w at the true source, at the label positions that have one (-1: none)
  int64_t source_labels = 0;
  double previous_token = -1;  // on repeated random tokens: w_{q, q-1} (Olsson et al. 2022)
  double induction = -1;       // on repeated random tokens, second half: w_{q, q-n+1}
};

// Distance, entropy, confidence and source mass of every head on batch `b`. Each map's queries
// and keys are its family's declared site (models/family.hpp); a cross-attention key's distance
// is its distance to the source's end, the tasks' distance.
template <class T>
std::vector<HeadStats> attention_stats(Seq2SeqModel<T>& m, const data::Batch& b);

// Fills previous_token and induction of `stats` from a forward over `tokens` [batch x 2n]: each
// row n tokens, then the same n again, as the stream, or as both the source and the decoder's
// input. Cross-attention heads keep -1: the scores are of a sequence attending to itself.
template <class T>
void repeat_scores(Seq2SeqModel<T>& m, const std::vector<int>& tokens, int64_t batch, int64_t n,
                   std::vector<HeadStats>& stats);

// `batch` rows of n random ids from [first, last), each repeated once ([batch x 2n]).
std::vector<int> repeated_random_tokens(int64_t batch, int64_t n, int first, int last, uint64_t seed);

// ---- ablation (probe_attention.cpp) ----

struct HeadAblation {
  std::string module;
  int layer = 0, head = -1;  // head -1: the intact model
  double sequence_accuracy = 0, token_accuracy = 0;
};

// The intact model first, then each head of each attention module zeroed alone (Michel et al.
// 2019), scored on the first `examples` of `split`.
template <class T>
std::vector<HeadAblation> ablate_heads(Seq2SeqModel<T>& m, const data::Dataset& ds, data::Split split,
                                       size_t examples);

}  // namespace attn
