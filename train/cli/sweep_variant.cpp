// `sweep --variant NAME=FAMILY[:FIELD=VALUE...]`: a named family with fixed settings, listed in
// --models like a family, so that one grid can hold, say, an LSTM with and without chrono init.
#include <algorithm>
#include <cctype>
#include <set>

#include "train/cli/cli.hpp"
#include "train/cli/sweep.hpp"

namespace attn::cli {

std::vector<std::string> split_on(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == sep) out.emplace_back();
    else out.back() += c;
  }
  return out;
}

namespace {

bool valid_label(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::islower((unsigned char)c) && !std::isdigit((unsigned char)c) && c != '-') return false;
  return true;
}

Variant parse_variant(const std::string& text) {
  const auto eq = text.find('=');
  const std::string name = eq == std::string::npos ? "" : text.substr(0, eq);
  const std::string bad = fmt::format("sweep: --variant '{}' is not NAME=FAMILY[:FIELD=VALUE...]", text);
  if (!valid_label(name)) throw UsageError(bad + " (NAME: lower-case letters, digits and '-')");
  const std::vector<std::string> parts = split_on(text.substr(eq + 1), ':');
  Variant v{name, parts[0], text.substr(eq + 1), {}};
  const std::vector<std::string> families = model_family_names();
  if (std::find(families.begin(), families.end(), v.family) == families.end())
    throw UsageError(fmt::format("sweep: --variant {}: '{}' is not a model family ({})", name, v.family, join(families)));
  if (std::find(families.begin(), families.end(), name) != families.end())
    throw UsageError(fmt::format("sweep: --variant {}: the name is a model family's; choose another", name));
  for (size_t i = 1; i < parts.size(); ++i) {
    const auto e = parts[i].find('=');
    if (e == std::string::npos || e == 0) throw UsageError(bad);
    std::string field = parts[i].substr(0, e);
    for (char& c : field)
      if (c == '-') c = '_';
    if (!find_field(model_family(v.family).fields, field))
      throw UsageError(fmt::format("sweep: --variant {}: {} is not a setting of {}", name, parts[i].substr(0, e), v.family));
    v.fields.emplace_back(field, parts[i].substr(e + 1));
  }
  return v;
}

}  // namespace

std::vector<Variant> parse_variants(const std::vector<std::string>& texts) {
  std::vector<Variant> out;
  std::set<std::string> names;
  for (const std::string& t : texts) {
    out.push_back(parse_variant(t));
    if (!names.insert(out.back().name).second)
      throw UsageError(fmt::format("sweep: --variant {} is defined twice", out.back().name));
  }
  return out;
}

const Variant* find_variant(const std::vector<Variant>& variants, const std::string& name) {
  for (const Variant& v : variants)
    if (v.name == name) return &v;
  return nullptr;
}

std::string model_definition(const std::vector<Variant>& variants, const std::string& model) {
  const Variant* v = find_variant(variants, model);
  return v ? v->definition : model;
}

}  // namespace attn::cli
