// A config field declared once: its name, type, default, help and valid range. Command-line
// flags, --help groups, JSON in and out, validation and the tables of `attnlab models` are all
// derived from these declarations (model families in models/family_*.cpp, run settings in
// train/train_config.hpp).
#pragma once
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

namespace attn {

using FieldValue = std::variant<bool, int64_t, double, std::string, std::vector<std::string>, std::vector<double>>;
enum class FieldKind { Bool, Int, Real, Text, TextList, RealList };
using FieldValues = std::map<std::string, FieldValue>;

struct FieldSpec {
  std::string name;  // JSON key; the flag is --name with '-' for '_'
  FieldValue default_value;
  std::string help;
  double min = -std::numeric_limits<double>::infinity();  // numeric range, inclusive
  double max = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices;  // for text fields, when only these are valid
  size_t count = 0;                  // for lists: the exact length (0: any)
  std::string group;                 // the --help group
  std::string flag;                  // overrides the derived flag, e.g. "--norm-first,!--post-norm"
  bool extends_run = false;          // may change when a run is resumed (it does not rewrite its past)
  bool saved = true;                 // written to config.json (false for display-only settings)

  FieldKind kind() const { return FieldKind(default_value.index()); }
  std::string flag_name() const;     // "--d-model"
  // Throws attn::Error("<label> must be ..., got ...") for a value of the wrong kind or out of range.
  void check(const FieldValue& v, const std::string& label) const;
  // The value of j, checked; integers must be JSON integers that fit (no silent casts).
  FieldValue from_json(const nlohmann::json& j) const;

  // Modifiers, for one-line declarations.
  FieldSpec& in(std::string g) { group = std::move(g); return *this; }
  FieldSpec& range(double lo, double hi) { min = lo; max = hi; return *this; }
  FieldSpec& flags(std::string f) { flag = std::move(f); return *this; }
  FieldSpec& extends() { extends_run = true; return *this; }
  FieldSpec& unsaved() { saved = false; return *this; }
  FieldSpec& exactly(size_t n) { count = n; return *this; }
};

// Builders. Integers default to [0, 2^31) and reals to (-inf, inf); narrow them with .range().
FieldSpec bool_field(std::string name, bool def, std::string help);
FieldSpec int_field(std::string name, int64_t def, std::string help, int64_t lo = 0, int64_t hi = (int64_t(1) << 31) - 1);
FieldSpec real_field(std::string name, double def, std::string help, double lo = -std::numeric_limits<double>::infinity(),
                     double hi = std::numeric_limits<double>::infinity());
FieldSpec text_field(std::string name, std::string def, std::string help);
FieldSpec choice_field(std::string name, std::string def, std::vector<std::string> choices, std::string help);
FieldSpec text_list_field(std::string name, std::string help);
FieldSpec real_list_field(std::string name, std::vector<double> def, std::string help);

nlohmann::json to_json(const FieldValue& v);
std::string format_value(const FieldValue& v);  // as a user would type it: 64, 0.001, learned, true
// "[1, 2^31)": the valid values, for --help and `attnlab models`.
std::string describe_range(const FieldSpec& s);
nlohmann::json describe_json(const FieldSpec& s);  // name, type, default, help, range or choices

const FieldSpec* find_field(const std::vector<FieldSpec>& specs, const std::string& name);
// Every field of `specs` from `given`, or its default when absent.
FieldValues resolve_fields(const std::vector<FieldSpec>& specs, const FieldValues& given);

}  // namespace attn
