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

nlohmann::json result_config(const TrainArgs& a) {
  nlohmann::json j = a.to_json();
  for (int i = 0; kNotHashed[i]; ++i) j.erase(kNotHashed[i]);
  j.erase("task_opt");
  j.erase("test_task_opt");
  const data::DataConfig dc = a.data_config();
  if (dc.is_file()) {
    j["data_files_fnv1a"] = data_files_hash(dc.data_dir);
    return j;
  }
  for (const auto& [k, v] : dc.knobs) j["task_opt." + k] = v;
  for (const auto& [k, v] : dc.test_knobs) j["test_task_opt." + k] = v;
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
