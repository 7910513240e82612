// Internal to data/: what each task file gives the registry, and helpers they share.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/task.hpp"

namespace attn::data::detail {

struct TaskEntry {
  const TaskSpec& (*spec)();
  std::unique_ptr<Task> (*make)(const KnobValues&);  // knobs already resolved and range-checked
};

// One per task file, in documentation order.
TaskEntry copy_entry();
TaskEntry reverse_entry();
TaskEntry sort_entry();
TaskEntry copy_memory_entry();
TaskEntry adding_entry();
TaskEntry associative_recall_entry();
TaskEntry selective_copy_entry();
TaskEntry listops_entry();
TaskEntry parity_entry();

// `prefix` + "0" .. `prefix` + (n-1).
std::vector<std::string> numbered(const std::string& prefix, int64_t n);

// Throws data::Error "<task>: <message>" for a cross-knob constraint.
[[noreturn]] void knob_conflict(const std::string& task, const std::string& message);

// Length knobs shared by copy, reverse, sort and parity: min_length 0 means "fixed at length".
struct LengthRange {
  int64_t lo, hi;
  int64_t draw(Xoshiro& rng) const { return lo == hi ? lo : rng.range(lo, hi); }
  int64_t count() const { return hi - lo + 1; }
};
LengthRange length_range(const std::string& task, const KnobValues& k);

}  // namespace attn::data::detail
