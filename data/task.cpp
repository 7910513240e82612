#include "data/task.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <unordered_map>

#include "data/error.hpp"
#include "data/tasks_impl.hpp"

namespace attn::data {

namespace {

const std::vector<detail::TaskEntry>& entries() {
  static const std::vector<detail::TaskEntry> e = {
      detail::copy_entry(),           detail::reverse_entry(),
      detail::sort_entry(),           detail::copy_memory_entry(),
      detail::adding_entry(),         detail::associative_recall_entry(),
      detail::selective_copy_entry(), detail::listops_entry(),
      detail::parity_entry(),         detail::mqar_entry(),
      detail::even_pairs_entry(),     detail::cycle_navigation_entry(),
      detail::modular_arithmetic_entry(), detail::stack_manipulation_entry(),
      detail::binary_addition_entry(), detail::dyck_entry(),
  };
  return e;
}

const detail::TaskEntry& entry(const std::string& name) {
  for (const auto& e : entries())
    if (e.spec().name == name) return e;
  throw Error(fmt::format("unknown task '{}'; known tasks: {}", name, fmt::join(task_names(), ", ")));
}

std::string knob_names(const TaskSpec& spec) {
  std::vector<std::string> n;
  for (const auto& k : spec.knobs) n.push_back(k.name);
  return n.empty() ? "(none)" : fmt::format("{}", fmt::join(n, ", "));
}

void check_range(const TaskSpec& spec, const KnobSpec& k, int64_t v) {
  if (v < k.min || v > k.max)
    throw Error(fmt::format("task {}: knob {}={} is out of range; allowed: {} to {}", spec.name, k.name,
                            v, k.min, k.max));
}

}  // namespace

std::string KnobSpec::value_text(int64_t v) const {
  return v >= 0 && v < (int64_t)names.size() ? names[v] : std::to_string(v);
}

const KnobSpec* TaskSpec::knob(const std::string& n) const {
  for (const auto& k : knobs)
    if (k.name == n) return &k;
  return nullptr;
}

int64_t Task::knob(const std::string& name) const {
  auto it = knobs_.find(name);
  if (it == knobs_.end()) throw std::out_of_range("task " + spec_.name + " has no knob " + name);
  return it->second;
}

const std::vector<const TaskSpec*>& task_specs() {
  static const std::vector<const TaskSpec*> s = [] {
    std::vector<const TaskSpec*> v;
    for (const auto& e : entries()) v.push_back(&e.spec());
    return v;
  }();
  return s;
}

std::vector<std::string> task_names() {
  std::vector<std::string> n;
  for (const auto* s : task_specs()) n.push_back(s->name);
  return n;
}

const TaskSpec& task_spec(const std::string& name) { return entry(name).spec(); }

TaskOptions parse_task_options(const std::vector<std::string>& items) {
  TaskOptions out;
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos)
      throw Error(fmt::format("task option '{}' is not NAME=VALUE", item));
    std::string name = item.substr(0, eq);
    if (name.empty()) throw Error(fmt::format("task option '{}' has no name before '='", item));
    if (out.count(name)) throw Error(fmt::format("task option '{}' is given twice", name));
    out.emplace(std::move(name), item.substr(eq + 1));
  }
  return out;
}

KnobValues resolve_knobs(const TaskSpec& spec, const TaskOptions& opts, const KnobValues& base) {
  KnobValues out;
  for (const auto& k : spec.knobs) out[k.name] = k.default_value;
  for (const auto& [name, v] : base) {
    const KnobSpec* k = spec.knob(name);
    if (!k)
      throw Error(fmt::format("task {} has no knob '{}'; its knobs: {}", spec.name, name, knob_names(spec)));
    check_range(spec, *k, v);
    out[name] = v;
  }
  for (const auto& [name, text] : opts) {
    const KnobSpec* k = spec.knob(name);
    if (!k)
      throw Error(fmt::format("task {} has no knob '{}'; its knobs: {}", spec.name, name, knob_names(spec)));
    if (!k->names.empty()) {
      const auto it = std::find(k->names.begin(), k->names.end(), text);
      if (it == k->names.end())
        throw Error(fmt::format("task {}: knob {}='{}' is not one of {}", spec.name, name, text, fmt::join(k->names, ", ")));
      out[name] = it - k->names.begin();
      continue;
    }
    errno = 0;
    char* end = nullptr;
    const long long v = text.empty() ? 0 : std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE || std::isspace((unsigned char)text[0]))
      throw Error(fmt::format("task {}: knob {}='{}' is not an integer; allowed: {} to {}", spec.name,
                              name, text, k->min, k->max));
    check_range(spec, *k, v);
    out[name] = v;
  }
  return out;
}

std::unique_ptr<Task> make_task(const std::string& name, const TaskOptions& opts) {
  const auto& e = entry(name);
  return e.make(resolve_knobs(e.spec(), opts));
}

std::unique_ptr<Task> make_task_resolved(const std::string& name, const KnobValues& knobs) {
  const auto& e = entry(name);
  return e.make(resolve_knobs(e.spec(), {}, knobs));
}

std::string format_knobs(const TaskSpec& spec, const KnobValues& knobs) {
  std::vector<std::string> parts;
  for (const auto& k : spec.knobs) {
    auto it = knobs.find(k.name);
    if (it == knobs.end() || (it->second == -1 && k.min == -1)) continue;  // -1: unset
    parts.push_back(fmt::format("{}={}", k.name, k.value_text(it->second)));
  }
  return fmt::format("{}", fmt::join(parts, " "));
}

Chance estimate_chance(const Task& task, int samples, uint64_t seed) {
  std::vector<std::map<int, int64_t>> per_pos;
  std::map<std::vector<int>, int64_t> whole;
  int64_t tokens = 0;
  Xoshiro rng(seed);
  for (int i = 0; i < samples; ++i) {
    const Example ex = task.generate(rng);
    if (per_pos.size() < ex.tgt.size()) per_pos.resize(ex.tgt.size());
    for (size_t j = 0; j < ex.tgt.size(); ++j) ++per_pos[j][ex.tgt[j]];
    tokens += (int64_t)ex.tgt.size();
    ++whole[ex.tgt];
  }
  Chance c;
  int64_t hits = 0, best = 0;
  for (const auto& m : per_pos) {
    int64_t mx = 0;
    for (const auto& kv : m) mx = std::max(mx, kv.second);
    hits += mx;
  }
  for (const auto& kv : whole) best = std::max(best, kv.second);
  c.token = tokens ? (double)hits / (double)tokens : 0.0;
  c.sequence = samples ? (double)best / samples : 0.0;
  c.exact = false;
  c.note = fmt::format("estimated from {} samples", samples);
  return c;
}

namespace detail {

std::vector<std::string> numbered(const std::string& prefix, int64_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (int64_t i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

// Partial Fisher-Yates over a virtual [0, n): k distinct values in random order, O(k) memory.
std::vector<int64_t> draw_distinct(Xoshiro& rng, int64_t n, int64_t k) {
  std::unordered_map<int64_t, int64_t> swapped;
  auto at = [&](int64_t i) {
    auto it = swapped.find(i);
    return it == swapped.end() ? i : it->second;
  };
  std::vector<int64_t> out(k);
  for (int64_t i = 0; i < k; ++i) {
    const int64_t j = i + (int64_t)rng.below((uint64_t)(n - i));
    const int64_t vi = at(i), vj = at(j);
    out[i] = vj;
    swapped[j] = vi;
  }
  return out;
}


void knob_conflict(const std::string& task, const std::string& message) {
  throw Error(fmt::format("task {}: {}", task, message));
}

LengthRange length_range(const std::string& task, const KnobValues& k) {
  const int64_t hi = k.at("length"), mn = k.at("min_length");
  if (mn > hi)
    knob_conflict(task, fmt::format("min_length={} exceeds length={} (min_length=0 means fixed length)", mn, hi));
  return {mn == 0 ? hi : mn, hi};
}

LengthRange length_range_from(const std::string& task, const KnobValues& k, int64_t shortest) {
  const LengthRange r = length_range(task, k);
  if (r.lo < shortest)
    knob_conflict(task, fmt::format("{}={} is too short; this task needs lengths of at least {}",
                                    k.at("min_length") ? "min_length" : "length", r.lo, shortest));
  return r;
}

ParityLengths parity_lengths(const std::string& task, const LengthRange& r, int parity) {
  const int64_t first = r.lo % 2 == parity ? r.lo : r.lo + 1;
  if (first > r.hi)
    knob_conflict(task, fmt::format("lengths {} to {} include no {} length, and this task needs one", r.lo, r.hi,
                                    parity ? "odd" : "even"));
  return {first, (r.hi - first) / 2 + 1};
}

Baseline majority_baseline(double p) {
  return {"majority class", "token_accuracy", p, "always names the most frequent class (the chance level)"};
}

}  // namespace detail
}  // namespace attn::data
