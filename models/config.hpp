// ModelConfig fully describes a model; it is stored (as JSON) in every checkpoint. Its fields
// are those its family declares (models/family.hpp), so a new family adds none here.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "models/fields.hpp"

namespace attn {

struct ModelConfig {
  std::string type;                      // a registered family's name
  int64_t src_vocab = 16, tgt_vocab = 16;  // from the data
  FieldValues fields;                    // one value per field of the family
  // The task format it is built for (Capabilities::formats); empty: the family's first. Only a
  // family of several formats reads it. Written to JSON only when it is not the first.
  std::string format;

  // format, or the family's first when it is empty.
  const std::string& resolved_format() const;

  // The family's defaults.
  static ModelConfig defaults(const std::string& type);
  // Typed reads of a field; throws attn::Error when the family has no such field of that kind.
  int64_t integer(const std::string& name) const;
  double real(const std::string& name) const;
  bool flag(const std::string& name) const;
  const std::string& text(const std::string& name) const;
  ModelConfig& set(const std::string& name, FieldValue v);
  ModelConfig& set(const std::string& name, int v) { return set(name, FieldValue(int64_t(v))); }
  ModelConfig& set(const std::string& name, bool v) { return set(name, FieldValue(v)); }
  ModelConfig& set(const std::string& name, double v) { return set(name, FieldValue(v)); }
  ModelConfig& set(const std::string& name, const char* v) { return set(name, FieldValue(std::string(v))); }

  // Throws attn::Error naming the first bad field.
  void validate() const;
  nlohmann::json to_json() const;
  // Unknown keys are an error, except the keys every checkpoint written before the family
  // registry carries (one flat config for all models), which are ignored when the family does
  // not have them.
  static ModelConfig from_json(const nlohmann::json& j);
};

}  // namespace attn
