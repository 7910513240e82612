#include "models/config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "autograd/shape.hpp"
#include "models/family.hpp"

namespace attn {

namespace {

// The flat config of checkpoints written before the family registry (attnlab 0.1.0 up to the
// registry commit): every model carried all of these.
bool legacy_key(const std::string& k) {
  static const char* const keys[] = {"d_model", "heads", "ff", "enc_layers", "dec_layers", "dropout", "norm_first",
                                     "activation", "pos", "max_len", "share_embeddings", "tie_output", "hidden", "layers"};
  return std::find(std::begin(keys), std::end(keys), k) != std::end(keys);
}

template <class V>
const V& get_field(const ModelConfig& c, const std::string& name) {
  auto it = c.fields.find(name);
  if (it == c.fields.end())
    throw Error(fmt::format("model config: family '{}' has no field '{}'", c.type, name));
  if (auto* v = std::get_if<V>(&it->second)) return *v;
  throw Error(fmt::format("model config: field '{}' of '{}' has another type", name, c.type));
}

}  // namespace

ModelConfig ModelConfig::defaults(const std::string& type) {
  ModelConfig c;
  c.type = type;
  c.fields = resolve_fields(model_family(type).fields, {});
  return c;
}

const std::string& ModelConfig::resolved_format() const {
  return format.empty() ? model_family(type).caps.formats.at(0) : format;
}

int64_t ModelConfig::integer(const std::string& name) const { return get_field<int64_t>(*this, name); }
double ModelConfig::real(const std::string& name) const { return get_field<double>(*this, name); }
bool ModelConfig::flag(const std::string& name) const { return get_field<bool>(*this, name); }
const std::string& ModelConfig::text(const std::string& name) const { return get_field<std::string>(*this, name); }

ModelConfig& ModelConfig::set(const std::string& name, FieldValue v) {
  const FieldSpec* s = find_field(model_family(type).fields, name);
  if (!s) throw Error(fmt::format("model config: family '{}' has no field '{}'", type, name));
  s->check(v, "model config: " + name);
  fields[name] = std::move(v);
  return *this;
}

void ModelConfig::validate() const {
  const ModelFamily& f = model_family(type);
  if (src_vocab <= 0 || tgt_vocab <= 0) throw Error("model config: vocabulary sizes must be positive");
  if (!format.empty() && std::find(f.caps.formats.begin(), f.caps.formats.end(), format) == f.caps.formats.end())
    throw Error(fmt::format("model config: family '{}' does not take format '{}' (it takes: {})", type, format,
                            fmt::join(f.caps.formats, ", ")));
  for (const FieldSpec& s : f.fields) {
    auto it = fields.find(s.name);
    if (it == fields.end()) throw Error(fmt::format("model config: '{}' is missing", s.name));
    s.check(it->second, "model config: " + s.name);
  }
  for (const auto& [k, v] : fields)
    if (!find_field(f.fields, k)) throw Error(fmt::format("model config: family '{}' has no field '{}'", type, k));
  if (f.check) f.check(*this);
}

nlohmann::json ModelConfig::to_json() const {
  nlohmann::json j = {{"type", type}, {"src_vocab", src_vocab}, {"tgt_vocab", tgt_vocab}};
  for (const auto& [k, v] : fields) j[k] = attn::to_json(v);
  if (resolved_format() != model_family(type).caps.formats.at(0)) j["format"] = format;
  return j;
}

ModelConfig ModelConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw Error("model config: not a JSON object");
  if (!j.contains("type") || !j["type"].is_string()) throw Error("model config: 'type' (a string) is missing");
  const ModelFamily& f = model_family(j["type"].get<std::string>());
  ModelConfig c = defaults(f.name);
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k == "type") continue;
    if (k == "format") {
      if (!it->is_string()) throw Error("model config: 'format' must be a string");
      c.format = it->get<std::string>();
      continue;
    }
    if (k == "src_vocab" || k == "tgt_vocab") {
      FieldValue v;
      try {
        v = int_field(k, 1, "", 1, int64_t(1) << 40).from_json(*it);
      } catch (const Error& e) {
        throw Error(fmt::format("model config: {}", e.what()));
      }
      (k == "src_vocab" ? c.src_vocab : c.tgt_vocab) = std::get<int64_t>(v);
    } else if (const FieldSpec* s = find_field(f.fields, k)) {
      try {
        c.fields[k] = s->from_json(*it);
      } catch (const Error& e) {
        throw Error(fmt::format("model config: {}", e.what()));
      }
    } else if (!legacy_key(k)) {
      throw Error(fmt::format("model config: unknown key '{}'", k));
    }
  }
  c.validate();
  return c;
}

}  // namespace attn
