#include "train/train_config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "models/memory_estimate.hpp"
#include "train/errors.hpp"

namespace attn {

namespace {

// Written into every config.json since the family registry; a file without it holds every
// family's fields (the flat config before).
constexpr int kConfigVersion = 2;

bool is_meta_key(const std::string& k) {
  return k == "resolved" || k == "attnlab_version" || k == "machine" || k == "config_version";
}

bool any_family_has(const std::string& k) {
  for (const ModelFamily* f : model_families())
    if (find_field(f->fields, k)) return true;
  return false;
}

// Runs `f`, turning attn::Error into ConfigError prefixed with `where`.
template <class F>
auto as_config_error(const std::string& where, F&& f) {
  try {
    return f();
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    throw ConfigError(where.empty() ? std::string(e.what()) : where + ": " + e.what());
  }
}

}  // namespace

FieldSpec model_field() {
  return choice_field("model", default_model_family(), model_family_names(), "Model family (see `attnlab models`)")
      .in("Model");
}

const std::vector<FieldSpec>& TrainArgs::specs() {
#define ATTN_SPEC(type, member, spec) spec,
  static const std::vector<FieldSpec> s = {ATTN_RUN_FIELDS(ATTN_SPEC)};
#undef ATTN_SPEC
  return s;
}

FieldValue TrainArgs::get(const std::string& name) const {
#define ATTN_GET(type, member, spec) \
  if (name == #member) return FieldValue(member);
  ATTN_RUN_FIELDS(ATTN_GET)
#undef ATTN_GET
  throw ConfigError(fmt::format("no run setting '{}'", name));
}

void TrainArgs::set(const std::string& name, const FieldValue& v) {
#define ATTN_SET(type, member, spec)                                                          \
  if (name == #member) {                                                                      \
    if (!std::holds_alternative<type>(v)) throw ConfigError(fmt::format("'{}': wrong type", name)); \
    member = std::get<type>(v);                                                               \
    return;                                                                                   \
  }
  ATTN_RUN_FIELDS(ATTN_SET)
#undef ATTN_SET
  throw ConfigError(fmt::format("no run setting '{}'", name));
}

nlohmann::json TrainArgs::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const FieldSpec& s : specs())
    if (s.saved) j[s.name] = attn::to_json(get(s.name));
  const ModelFamily& f = as_config_error("", [&]() -> const ModelFamily& { return model_family(model); });
  for (const auto& [k, v] : resolve_fields(f.fields, model_fields)) j[k] = attn::to_json(v);
  j["config_version"] = kConfigVersion;
  return j;
}

std::vector<std::string> TrainArgs::keys_to_read(const nlohmann::json& j) {
  if (!j.is_object()) throw ConfigError("config: not a JSON object");
  return as_config_error("config", [&] {
    const std::string model = j.contains("model") ? std::get<std::string>(model_field().from_json(j["model"]))
                                                  : default_model_family();
    const ModelFamily& family = model_family(model);
    const bool legacy = !j.contains("config_version");
    std::vector<std::string> keys;
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& k = it.key();
      if (is_meta_key(k)) continue;
      if (find_field(specs(), k) || find_field(family.fields, k)) keys.push_back(k);
      else if (legacy && any_family_has(k)) continue;  // another family's field in the old flat config
      else if (any_family_has(k)) throw ConfigError(fmt::format("'{}' is not a setting of model '{}'", k, model));
      else throw ConfigError(fmt::format("unknown key '{}'", k));
    }
    return keys;
  });
}

TrainArgs TrainArgs::from_json(const nlohmann::json& j) {
  TrainArgs a;
  const std::vector<std::string> keys = keys_to_read(j);
  if (j.contains("model")) a.model = j["model"].get<std::string>();  // first: it decides the other keys
  for (const std::string& k : keys)
    as_config_error("config", [&] {
      if (const FieldSpec* s = find_field(specs(), k)) a.set(k, s->from_json(j[k]));
      else a.model_fields[k] = find_field(model_family(a.model).fields, k)->from_json(j[k]);
    });
  return a;
}

void TrainArgs::validate() const {
  for (const FieldSpec& s : specs()) as_config_error("", [&] { s.check(get(s.name), s.flag_name()); });
  const ModelFamily& f = as_config_error("", [&]() -> const ModelFamily& { return model_family(model); });
  for (const auto& [k, v] : model_fields) {
    const FieldSpec* s = find_field(f.fields, k);
    if (!s) {
      std::vector<std::string> own;
      for (const FieldSpec& o : f.fields) own.push_back(o.flag_name());
      std::string flag = "--" + k;
      std::replace(flag.begin(), flag.end(), '_', '-');
      throw ConfigError(fmt::format("{} does not apply to --model {} (its settings: {})", flag, model, fmt::join(own, ", ")));
    }
    const FieldValue& value = v;  // (C++17 lambdas cannot capture a structured binding)
    as_config_error("", [&] { s->check(value, s->flag_name()); });
  }
  const std::string fmt_used = resolved_format();
  if (std::find(f.caps.formats.begin(), f.caps.formats.end(), fmt_used) == f.caps.formats.end())
    throw ConfigError(fmt::format("--model {} does not take --format {} (it takes: {})", model, fmt_used,
                                  fmt::join(f.caps.formats, ", ")));
  if (loss_on != "target" && fmt_used != "lm")
    throw ConfigError(fmt::format("--loss-on {} applies to the lm format; --model {} trains on {}", loss_on, model, fmt_used));
  if (accumulate > batch)
    throw ConfigError(fmt::format("--accumulate {} is more than --batch {}: a micro-batch would be empty", accumulate, batch));
  if (!max_memory.empty()) as_config_error("--max-memory", [&] { return parse_bytes(max_memory); });
  as_config_error("", [&] { optim_config().validate(); });
}

std::string TrainArgs::resolved_format() const {
  if (format != "auto") return format;
  return as_config_error("", [&] { return model_family(model).caps.formats.at(0); });
}

data::DataConfig TrainArgs::data_config() const {
  if (!data_dir.empty() && (!task_opt.empty() || !test_task_opt.empty()))
    throw ConfigError("--task-opt applies to tasks, not to --data-dir");
  if (!data_text.empty() && (!data_dir.empty() || !task_opt.empty() || !test_task_opt.empty()))
    throw ConfigError("--data-text is a dataset of its own: it takes neither --data-dir nor --task-opt");
  if (!data_text.empty() && resolved_format() != "lm")
    throw ConfigError(fmt::format("--data-text is language modelling (format lm); --model {} trains on {}", model,
                                  resolved_format()));
  data::DataConfig c = as_config_error("", [&] {
    if (!data_text.empty())
      return data::text_config(data_text, (int)block, data::parse_text_tokens(text_tokens), (uint64_t)seed,
                               (size_t)eval_examples, (size_t)eval_examples);
    if (!data_dir.empty()) return data::file_config(data_dir, (uint64_t)seed);
    return data::task_config(task, data::parse_task_options(task_opt), data::parse_task_options(test_task_opt),
                             (uint64_t)seed, (size_t)eval_examples, (size_t)eval_examples);
  });
  c.format = resolved_format();
  c.loss_on = data::parse_loss_on(loss_on);
  return c;
}

ModelConfig TrainArgs::model_config(const data::Dataset& ds) const {
  DataShape shape{(size_t)ds.vocab().size(), ds.max_src_len(), ds.max_tgt_len()};
  if (ds.text()) shape.max_stream_len = (size_t)ds.text()->block;  // windows are their own streams
  return model_config(shape);
}

ModelConfig TrainArgs::model_config(const DataShape& ds) const {
  validate();
  return as_config_error("", [&] {
    ModelConfig c = ModelConfig::defaults(model);
    c.src_vocab = c.tgt_vocab = (int64_t)ds.vocab;
    c.format = resolved_format();
    for (const auto& [k, v] : model_fields) c.set(k, v);
    model_family(model).fit_to_data(c, ds);
    c.validate();
    return c;
  });
}

OptimConfig TrainArgs::optim_config() const {
  OptimConfig o;
  o.name = optimizer;
  o.lr = lr;
  o.weight_decay = weight_decay;
  if (betas.size() == 2) {
    o.beta1 = betas[0];
    o.beta2 = betas[1];
  }
  o.momentum = momentum;
  o.schedule = schedule;
  o.warmup = lr_warmup;
  o.lr_min = lr_min;
  return o;
}

}  // namespace attn
