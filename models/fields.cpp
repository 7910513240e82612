#include "models/fields.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "autograd/shape.hpp"

namespace attn {

namespace {

const char* kind_name(FieldKind k) {
  switch (k) {
    case FieldKind::Bool: return "bool";
    case FieldKind::Int: return "int";
    case FieldKind::Real: return "real";
    case FieldKind::Text: return "text";
    case FieldKind::TextList: return "text list";
    case FieldKind::RealList: return "real list";
  }
  return "?";
}

std::string format_number(double x) {
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  if (x == std::floor(x) && std::fabs(x) < 1e15) return fmt::format("{}", (int64_t)x);
  return fmt::format("{}", x);
}

FieldSpec make(std::string name, FieldValue def, std::string help) {
  FieldSpec s;
  s.name = std::move(name);
  s.default_value = std::move(def);
  s.help = std::move(help);
  return s;
}

}  // namespace

std::string FieldSpec::flag_name() const {
  std::string f = "--" + name;
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

void FieldSpec::check(const FieldValue& v, const std::string& label) const {
  if (v.index() != default_value.index())
    throw Error(fmt::format("{} must be a {}, got {}", label, kind_name(kind()), to_json(v).dump()));
  auto in_range = [&](double x) {
    if (!(x >= min && x <= max))
      throw Error(fmt::format("{} must be in {}, got {}", label, describe_range(*this), format_number(x)));
  };
  if (auto* i = std::get_if<int64_t>(&v)) in_range((double)*i);
  if (auto* r = std::get_if<double>(&v)) in_range(*r);
  if (auto* t = std::get_if<std::string>(&v); t && !choices.empty() &&
                                              std::find(choices.begin(), choices.end(), *t) == choices.end())
    throw Error(fmt::format("{}: unknown value '{}' ({})", label, *t, fmt::join(choices, ", ")));
  if (auto* l = std::get_if<std::vector<double>>(&v)) {
    if (count && l->size() != count) throw Error(fmt::format("{} takes {} values, got {}", label, count, l->size()));
    for (double x : *l) in_range(x);
  }
}

FieldValue FieldSpec::from_json(const nlohmann::json& j) const {
  const std::string label = "'" + name + "'";
  auto wrong = [&] { return Error(fmt::format("{} must be a {}, got {}", label, kind_name(kind()), j.dump())); };
  FieldValue v;
  switch (kind()) {
    case FieldKind::Bool:
      if (!j.is_boolean()) throw wrong();
      v = j.get<bool>();
      break;
    case FieldKind::Int:
      // nlohmann casts 1e300 or 2^64 to int64 without a check.
      if (j.is_number_unsigned() && j.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) throw wrong();
      if (!j.is_number_integer()) throw wrong();
      v = j.get<int64_t>();
      break;
    case FieldKind::Real:
      if (!j.is_number()) throw wrong();
      v = j.get<double>();
      break;
    case FieldKind::Text:
      if (!j.is_string()) throw wrong();
      v = j.get<std::string>();
      break;
    case FieldKind::TextList:
      if (!j.is_array() || !std::all_of(j.begin(), j.end(), [](auto& e) { return e.is_string(); })) throw wrong();
      v = j.get<std::vector<std::string>>();
      break;
    case FieldKind::RealList:
      if (!j.is_array() || !std::all_of(j.begin(), j.end(), [](auto& e) { return e.is_number(); })) throw wrong();
      v = j.get<std::vector<double>>();
      break;
  }
  check(v, label);
  return v;
}

FieldSpec bool_field(std::string name, bool def, std::string help) { return make(std::move(name), def, std::move(help)); }

FieldSpec int_field(std::string name, int64_t def, std::string help, int64_t lo, int64_t hi) {
  return make(std::move(name), def, std::move(help)).range((double)lo, (double)hi);
}

FieldSpec real_field(std::string name, double def, std::string help, double lo, double hi) {
  return make(std::move(name), def, std::move(help)).range(lo, hi);
}

FieldSpec text_field(std::string name, std::string def, std::string help) {
  return make(std::move(name), std::move(def), std::move(help));
}

FieldSpec choice_field(std::string name, std::string def, std::vector<std::string> choices, std::string help) {
  FieldSpec s = make(std::move(name), std::move(def), std::move(help));
  s.choices = std::move(choices);
  return s;
}

FieldSpec text_list_field(std::string name, std::string help) {
  return make(std::move(name), std::vector<std::string>{}, std::move(help));
}

FieldSpec real_list_field(std::string name, std::vector<double> def, std::string help) {
  return make(std::move(name), std::move(def), std::move(help));
}

nlohmann::json to_json(const FieldValue& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

std::string format_value(const FieldValue& v) {
  if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* r = std::get_if<double>(&v)) return fmt::format("{}", *r);
  if (auto* t = std::get_if<std::string>(&v)) return *t;
  if (auto* l = std::get_if<std::vector<std::string>>(&v)) return fmt::format("{}", fmt::join(*l, " "));
  return fmt::format("{}", fmt::join(std::get<std::vector<double>>(v), " "));
}

std::string describe_range(const FieldSpec& s) {
  if (!s.choices.empty()) return fmt::format("{}", fmt::join(s.choices, " | "));
  const FieldKind k = s.kind();
  if (k != FieldKind::Int && k != FieldKind::Real && k != FieldKind::RealList) return "";
  if (std::isinf(s.min) && std::isinf(s.max)) return "any";
  if (k == FieldKind::Int && s.max == double((int64_t(1) << 31) - 1))
    return fmt::format("[{}, 2^31)", format_number(s.min));
  if (k == FieldKind::Int && s.max >= 9.2e18) return fmt::format("[{}, 2^63)", format_number(s.min));
  return fmt::format("[{}, {}]", format_number(s.min), format_number(s.max));
}

nlohmann::json describe_json(const FieldSpec& s) {
  nlohmann::json j = {{"name", s.name}, {"flag", s.flag.empty() ? s.flag_name() : s.flag}, {"type", kind_name(s.kind())},
                      {"default", to_json(s.default_value)}, {"help", s.help}};
  if (!s.choices.empty()) j["choices"] = s.choices;
  else if (const std::string r = describe_range(s); !r.empty() && r != "any") j["range"] = r;
  return j;
}

const FieldSpec* find_field(const std::vector<FieldSpec>& specs, const std::string& name) {
  for (const FieldSpec& s : specs)
    if (s.name == name) return &s;
  return nullptr;
}

FieldValues resolve_fields(const std::vector<FieldSpec>& specs, const FieldValues& given) {
  FieldValues out;
  for (const FieldSpec& s : specs) {
    auto it = given.find(s.name);
    out[s.name] = it != given.end() ? it->second : s.default_value;
  }
  return out;
}

}  // namespace attn
