// `attnlab models`: the registered model families, their fields and capabilities.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "models/family.hpp"
#include "train/cli/cli.hpp"

namespace attn::cli {

namespace {

void print_family(const ModelFamily& f) {
  fmt::print("{}: {}\n", f.name, f.description);
  const Capabilities& c = f.caps;
  fmt::print("  formats: {}   decoding: {}   positions: {}\n", fmt::join(c.formats, ", "), c.decoding,
             c.bounded_positions ? "a table of max_len rows when its settings use one" : "unbounded");
  for (const AttentionSite& a : c.attention)
    fmt::print("  attention map {}: queries from the {}, keys from the {}{}\n", a.name, a.queries, a.keys,
               a.causal ? " (causal)" : "");
  if (c.attention.empty()) fmt::print("  attention maps: none\n");
  for (const FieldSpec& s : f.fields) {
    const std::string r = describe_range(s);
    fmt::print("  {:<20} {:<10} {}{}\n", s.flag.empty() ? s.flag_name() : s.flag, format_value(s.default_value), s.help,
               r.empty() || r == "any" ? "" : " (" + r + ")");
  }
}

}  // namespace

void add_models_command(CLI::App& app, int& exit_code) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("models", "List the model families with their settings, defaults and capabilities");
  cmd->add_flag("--json", *json, "Print them as JSON");
  cmd->callback([json, &exit_code] {
    if (*json) {
      fmt::print("{}\n", describe_families_json().dump(2));
    } else {
      for (const ModelFamily* f : model_families()) {
        print_family(*f);
        fmt::print("\n");
      }
    }
    exit_code = 0;
  });
}

}  // namespace attn::cli
