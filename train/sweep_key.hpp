// What names a sweep's run folder: a readable prefix and a hash of every setting that can change
// the run's results, so that a changed setting never finds an old run under the same name.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "train/train_config.hpp"

namespace attn {

// 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
uint64_t fnv1a64(std::string_view bytes, uint64_t h = 0xcbf29ce484222325ull);

// The settings that decide a run's results, as one flat JSON object: TrainArgs::to_json() without
// the keys that cannot change a number (kNotHashed), task knobs resolved over the task's defaults
// as "task_opt.NAME" / "test_task_opt.NAME", and for --data-dir the FNV-1a of its three files.
// Throws ConfigError as TrainArgs::data_config() does.
nlohmann::json result_config(const TrainArgs& a);

// Keys of TrainArgs::to_json() left out of result_config: they refuse or check a run, never change it.
extern const char* const kNotHashed[];

// The first 12 hex digits of fnv1a64(result_config(a).dump()); dump() sorts keys, so it is canonical.
std::string config_hash(const nlohmann::json& result_config);

// "<model>_<value>_seed<seed>_<hash>", with characters other than [A-Za-z0-9.+-] in the value as '_'.
std::string run_folder_name(const std::string& model, const std::string& value, uint64_t seed, const std::string& hash);

// The keys whose values differ between two result configs (missing on one side counts), sorted.
std::vector<std::string> differing_keys(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace attn
