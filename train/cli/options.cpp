#include "train/cli/options.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "train/cli/cli.hpp"
#include "train/errors.hpp"

namespace attn::cli {

namespace {

using Setter = std::function<void(const FieldValue&)>;

std::string flag_of(const FieldSpec& s) { return s.flag.empty() ? s.flag_name() : s.flag; }

CLI::Option* add_flag_for(CLI::App& cmd, const FieldSpec& s, const std::string& help, Setter set) {
  const std::string f = flag_of(s);
  switch (s.kind()) {
    case FieldKind::Bool:
      return cmd.add_flag_function(f, [set](int64_t n) { set(FieldValue(n > 0)); }, help);
    case FieldKind::Int:
      return cmd.add_option_function<int64_t>(f, [set](const int64_t& v) { set(FieldValue(v)); }, help);
    case FieldKind::Real:
      return cmd.add_option_function<double>(f, [set](const double& v) { set(FieldValue(v)); }, help);
    case FieldKind::Text:
      return cmd.add_option_function<std::string>(f, [set](const std::string& v) { set(FieldValue(v)); }, help);
    case FieldKind::TextList:
      return cmd.add_option_function<TextList>(f, [set](const TextList& v) { set(FieldValue(v)); }, help);
    case FieldKind::RealList: {
      auto* o = cmd.add_option_function<RealList>(f, [set](const RealList& v) { set(FieldValue(v)); }, help);
      if (s.count) o->expected((int)s.count);
      return o;
    }
  }
  return nullptr;
}

std::string help_of(const FieldSpec& s) {
  const std::string r = describe_range(s);
  return r.empty() || r == "any" || s.kind() == FieldKind::Bool ? s.help : fmt::format("{} ({})", s.help, r);
}

}  // namespace

std::vector<BoundFlag> add_train_options(CLI::App& cmd, TrainArgs& a) {
  std::vector<BoundFlag> out;
  for (const FieldSpec& s : TrainArgs::specs()) {
    CLI::Option* o = add_flag_for(cmd, s, help_of(s), [&a, name = s.name](const FieldValue& v) { a.set(name, v); });
    if (s.kind() != FieldKind::Bool && s.kind() != FieldKind::TextList) o->default_str(format_value(s.default_value));
    o->group(s.group);
    out.push_back({o, &s, false});
  }
  for (const BoundFlag& b : add_model_field_options(cmd, a.model_fields)) out.push_back(b);
  return out;
}

std::vector<BoundFlag> add_model_field_options(CLI::App& cmd, FieldValues& fields) {
  std::vector<BoundFlag> out;
  std::set<std::string> done;
  for (const ModelFamily* f : model_families())
    for (const FieldSpec& s : f->fields) {
      if (!done.insert(s.name).second) continue;
      std::vector<std::string> owners;
      std::set<std::string> defaults;
      for (const ModelFamily* g : model_families())
        if (const FieldSpec* t = find_field(g->fields, s.name)) {
          owners.push_back(g->name);
          defaults.insert(format_value(t->default_value));
        }
      const std::string help = fmt::format("{} [{}]", help_of(s), fmt::join(owners, ", "));
      CLI::Option* o = add_flag_for(cmd, s, help, [&fields, name = s.name](const FieldValue& v) { fields[name] = v; });
      if (s.kind() != FieldKind::Bool)
        o->default_str(defaults.size() == 1 ? *defaults.begin() : std::string("per family"));
      o->group(s.group);
      out.push_back({o, &s, true});
    }
  return out;
}

std::vector<BoundFlag> given(const std::vector<BoundFlag>& flags) {
  std::vector<BoundFlag> out;
  std::copy_if(flags.begin(), flags.end(), std::back_inserter(out), [](const BoundFlag& b) { return b.option->count() > 0; });
  return out;
}

}  // namespace attn::cli
