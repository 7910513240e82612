// The registered model families, listed explicitly (as data/task.cpp lists the tasks). Adding a
// family: write models/family_<name>.cpp and add its function here (docs/models.md).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cctype>

#include "autograd/shape.hpp"
#include "models/family.hpp"

namespace attn {

const ModelFamily& transformer_family();
const ModelFamily& gpt_family();
const ModelFamily& mamba_family();
const ModelFamily& lstm_family();
const ModelFamily& lstm_attn_family();
const ModelFamily& gru_family();
const ModelFamily& gru_attn_family();
const ModelFamily& rnn_family();
const ModelFamily& rnn_attn_family();

const std::vector<const ModelFamily*>& model_families() {
  static const std::vector<const ModelFamily*> all = {&transformer_family(), &gpt_family(),      &lstm_family(),
                                                      &lstm_attn_family(),   &gru_family(),      &gru_attn_family(),
                                                      &rnn_family(),         &rnn_attn_family(), &mamba_family()};
  return all;
}

const std::string& default_model_family() { return model_families().front()->name; }

std::vector<std::string> model_family_names() {
  std::vector<std::string> names;
  for (const ModelFamily* f : model_families()) names.push_back(f->name);
  return names;
}

const ModelFamily& model_family(const std::string& name) {
  for (const ModelFamily* f : model_families())
    if (f->name == name) return *f;
  throw Error(fmt::format("unknown model '{}' ({})", name, fmt::join(model_family_names(), ", ")));
}

nlohmann::json describe_families_json() {
  nlohmann::json out = nlohmann::json::array();
  for (const ModelFamily* f : model_families()) {
    nlohmann::json fields = nlohmann::json::array(), attention = nlohmann::json::array();
    for (const FieldSpec& s : f->fields) fields.push_back(describe_json(s));
    for (const AttentionSite& a : f->caps.attention)
      attention.push_back({{"name", a.name}, {"queries", a.queries}, {"keys", a.keys}, {"causal", a.causal}});
    out.push_back({{"name", f->name},
                   {"description", f->description},
                   {"fields", fields},
                   {"capabilities",
                    {{"formats", f->caps.formats},
                     {"decoding", f->caps.decoding},
                     {"attention_maps", attention},
                     {"bounded_positions", f->caps.bounded_positions}}}});
  }
  return out;
}

double state_floats(const ModelConfig& c, double context) { return model_family(c.type).state_floats(c, context); }

int64_t position_limit(const ModelConfig& c) {
  const ModelFamily& f = model_family(c.type);
  return f.position_limit ? f.position_limit(c) : 0;
}

int64_t default_decode_steps(const ModelConfig& c, int64_t src_len) {
  const int64_t limit = position_limit(c);
  return limit > 0 ? limit - 1 : 4 * src_len + 16;
}

namespace {
// N in `pattern` stands for a layer number.
bool site_matches(const std::string& pattern, const std::string& name) {
  const size_t n = pattern.find(".N.");
  if (n == std::string::npos) return pattern == name;
  if (name.compare(0, n + 1, pattern, 0, n + 1) != 0) return false;
  size_t i = n + 1;
  while (i < name.size() && std::isdigit((unsigned char)name[i])) ++i;
  return i > n + 1 && name.compare(i, std::string::npos, pattern, n + 2, std::string::npos) == 0;
}
}  // namespace

const AttentionSite& attention_site(const ModelConfig& c, const std::string& map_name) {
  for (const AttentionSite& s : model_family(c.type).caps.attention)
    if (site_matches(s.name, map_name)) return s;
  throw Error(fmt::format("attention map '{}' matches none of the {} family's declared sites", map_name, c.type));
}

}  // namespace attn
