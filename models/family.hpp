// Model families as plug-ins. Each family, in its own models/family_*.cpp, declares its name, a
// one-line description, its typed config fields, its capabilities and its factory; families.cpp
// lists them. Nothing outside a family's files compares its name (tests/models/test_registry.cpp).
// docs/models.md walks through adding one.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "autograd/gradcheck.hpp"
#include "models/fields.hpp"
#include "models/memory_estimate.hpp"
#include "models/seq2seq.hpp"

namespace attn {

// What a model's config needs from the data: vocabulary size and the longest sequences.
struct DataShape {
  size_t vocab = 0, max_src_len = 0, max_tgt_len = 0;  // tgt without BOS/EOS
  size_t max_stream_len = 0;  // format lm: the longest stream; 0: source, SEP and target
  size_t stream_len() const { return max_stream_len ? max_stream_len : max_src_len + 1 + max_tgt_len; }
};

// One kind of attention map a family returns (Seq2SeqModel::attention_maps).
struct AttentionSite {
  std::string name;     // the maps' names, with N for the layer: "decoder.layers.N.cross_attn"
  std::string queries;  // where the queries come from: "target", "source"
  std::string keys;     // where the keys come from
  bool causal = false;  // each query sees only keys at or before its own position
};

struct Capabilities {
  std::vector<std::string> formats = {"seq2seq"};  // task formats it trains on: seq2seq, lm
  std::string decoding;                            // kv-cache | recurrent-state | full-recompute
  std::vector<AttentionSite> attention;            // empty: no attention maps
  bool bounded_positions = false;                  // positions may come from a table (position_limit says)
};

struct ModelFamily {
  std::string name, description;
  std::vector<FieldSpec> fields;
  Capabilities caps;
  // Cross-field rules beyond each field's range; throws attn::Error.
  std::function<void(const ModelConfig&)> check;
  // Fills fields that default to what the data needs (the position table's rows); throws
  // attn::Error when a given value is too small.
  std::function<void(ModelConfig&, const DataShape&)> fit_to_data;
  std::function<std::unique_ptr<Seq2SeqModel<float>>(const ModelConfig&, uint64_t seed)> make_f32;
  std::function<std::unique_ptr<Seq2SeqModel<double>>(const ModelConfig&, uint64_t seed)> make_f64;
  // The exact parameter count, in double (a config can ask for more than int64 holds).
  std::function<double(const ModelConfig&)> parameters;
  // The activation-dependent terms of one float32 training step (memory_estimate.hpp).
  std::function<std::vector<MemoryTerm>(const ModelConfig&, const StepSize&)> step_memory;
  // Forward matmul FLOPs of one step, for `attnlab bench` (optional).
  std::function<double(const ModelConfig&, const StepSize&)> forward_flops;
  // Floats carried from one decoding step to the next after `context` tokens (source and target
  // so far): what the model holds to predict the next token. A KV cache grows with context; a
  // recurrence's state does not.
  std::function<double(const ModelConfig&, double context)> state_floats;
  // Rows of the position table when caps.bounded_positions, else 0 (unbounded).
  std::function<int64_t(const ModelConfig&)> position_limit;
  // The family's gradcheck cases (whole models at small sizes).
  std::function<void(std::vector<GradCase>&)> gradcheck_cases;
};

// The registered families, in a fixed order; the first is the default.
const std::vector<const ModelFamily*>& model_families();
// Throws attn::Error naming the registered families when `name` is not one.
const ModelFamily& model_family(const std::string& name);
const std::string& default_model_family();
std::vector<std::string> model_family_names();
nlohmann::json describe_families_json();

// The family's state_floats (ModelFamily) for this config.
double state_floats(const ModelConfig& c, double context);
// Rows of the model's position table, or 0 when its positions are unbounded.
int64_t position_limit(const ModelConfig& c);
// A positive bound on decoding steps for a source of `src_len` tokens: up to the position table
// when there is one, else 4 * src_len + 16.
int64_t default_decode_steps(const ModelConfig& c, int64_t src_len);
// The declared site of attention map `map_name` ("decoder.layers.3.self_attn" matches the site
// "decoder.layers.N.self_attn"); throws attn::Error when none of the family's sites matches.
const AttentionSite& attention_site(const ModelConfig& c, const std::string& map_name);

}  // namespace attn
