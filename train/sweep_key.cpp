#include "train/sweep_key.hpp"

#include <fmt/format.h>

#include <cctype>
#include <fstream>
#include <iterator>
#include <set>

namespace attn {

const char* const kNotHashed[] = {"max_memory", "detect_anomaly", nullptr};

uint64_t fnv1a64(std::string_view bytes, uint64_t h) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

namespace {

// FNV-1a over DIR/{train,valid,test}.tsv, each file's name and size first so that bytes cannot
// move between files unnoticed.
std::string data_files_hash(const std::string& dir) {
  uint64_t h = fnv1a64("");
  for (const char* name : {"train.tsv", "valid.tsv", "test.tsv"}) {
    std::ifstream in(dir + "/" + name, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    h = fnv1a64(fmt::format("{}:{}:", name, text.size()), h);
    h = fnv1a64(text, h);
  }
  return fmt::format("{:016x}", h);
}

}  // namespace

// Settings at their declared defaults are left out (but `model` always stays), so that a setting
// or knob added later, which old runs hold at its default, does not change their hash.
nlohmann::json result_config(const TrainArgs& a) {
  nlohmann::json j = a.to_json();
  for (int i = 0; kNotHashed[i]; ++i) j.erase(kNotHashed[i]);
  j.erase("task_opt");
  j.erase("test_task_opt");
  j.erase("config_version");
  for (const FieldSpec& s : TrainArgs::specs())
    if (s.name != "model" && j.contains(s.name) && j[s.name] == attn::to_json(s.default_value)) j.erase(s.name);
  // An explicit --format that is the model's own is the default too (runs before "auto" say so).
  if (j.contains("format") && j["format"] == a.resolved_format() &&
      a.resolved_format() == model_family(a.model).caps.formats.at(0))
    j.erase("format");
  for (const FieldSpec& s : model_family(a.model).fields)
    if (j.contains(s.name) && j[s.name] == attn::to_json(s.default_value)) j.erase(s.name);
  const data::DataConfig dc = a.data_config();
  if (dc.is_file()) {
    j["data_files_fnv1a"] = data_files_hash(dc.data_dir);
    return j;
  }
  if (dc.is_text()) {
    std::ifstream in(dc.text_file, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    j["data_text_fnv1a"] = fmt::format("{:016x}", fnv1a64(text));
    return j;
  }
  const data::TaskSpec& spec = data::task_spec(dc.task);
  auto add_knobs = [&](const data::KnobValues& knobs, const std::string& prefix) {
    for (const auto& [k, v] : knobs)
      if (const data::KnobSpec* ks = spec.knob(k); !ks || ks->default_value != v) j[prefix + k] = v;
  };
  add_knobs(dc.knobs, "task_opt.");
  add_knobs(dc.test_knobs, "test_task_opt.");
  return j;
}

std::string config_hash(const nlohmann::json& result_config) {
  return fmt::format("{:016x}", fnv1a64(result_config.dump())).substr(0, 12);
}

std::string run_folder_name(const std::string& model, const std::string& value, uint64_t seed, const std::string& hash) {
  std::string v = value;
  for (char& c : v)
    if (!std::isalnum((unsigned char)c) && c != '.' && c != '+' && c != '-') c = '_';
  return fmt::format("{}_{}_seed{}_{}", model, v, seed, hash);
}

std::vector<std::string> differing_keys(const nlohmann::json& a, const nlohmann::json& b) {
  std::set<std::string> keys;
  for (const auto& [k, v] : a.items())
    if (!b.contains(k) || b[k] != v) keys.insert(k);
  for (const auto& [k, v] : b.items())
    if (!a.contains(k)) keys.insert(k);
  return {keys.begin(), keys.end()};
}

}  // namespace attn
