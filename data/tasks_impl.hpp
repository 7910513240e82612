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
TaskEntry mqar_entry();
TaskEntry even_pairs_entry();
TaskEntry cycle_navigation_entry();
TaskEntry modular_arithmetic_entry();
TaskEntry stack_manipulation_entry();
TaskEntry binary_addition_entry();
TaskEntry dyck_entry();

// `prefix` + "0" .. `prefix` + (n-1).
std::vector<std::string> numbered(const std::string& prefix, int64_t n);

// Partial Fisher-Yates over a virtual [0, n): k <= n distinct values in random order, O(k) memory.
std::vector<int64_t> draw_distinct(Xoshiro& rng, int64_t n, int64_t k);

// Throws data::Error "<task>: <message>" for a cross-knob constraint.
[[noreturn]] void knob_conflict(const std::string& task, const std::string& message);

// Length knobs shared by copy, reverse, sort and parity: min_length 0 means "fixed at length".
struct LengthRange {
  int64_t lo, hi;
  int64_t draw(Xoshiro& rng) const { return lo == hi ? lo : rng.range(lo, hi); }
  int64_t count() const { return hi - lo + 1; }
};
LengthRange length_range(const std::string& task, const KnobValues& k);
// The same, and an error unless every length in the range is at least `shortest`.
LengthRange length_range_from(const std::string& task, const KnobValues& k, int64_t shortest);

// Lengths of one parity (odd = 1, even = 0) inside a LengthRange, drawn uniformly among them.
struct ParityLengths {
  int64_t first, count;  // first, first + 2, ..., first + 2 (count - 1)
  int64_t draw(Xoshiro& rng) const { return count == 1 ? first : first + 2 * (int64_t)rng.below((uint64_t)count); }
  int64_t last() const { return first + 2 * (count - 1); }
};
// Throws data::Error when the range holds no length of that parity.
ParityLengths parity_lengths(const std::string& task, const LengthRange& r, int parity);

// The "majority class" baseline of a one-token classification target: its chance.
Baseline majority_baseline(double p);

}  // namespace attn::data::detail
