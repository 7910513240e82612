// The task interface: a named generator of examples with integer knobs.
//
//   auto task = make_task("copy-memory", {{"delay", "400"}});   // unset knobs take defaults
//   Xoshiro rng(seed);
//   Example ex = task->generate(rng);
//
// Generators do not check their own output; data/checkers.hpp does, by a separate route.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/example.hpp"
#include "data/rng.hpp"
#include "data/vocab.hpp"

namespace attn::data {

// Knob values as the user typed them ("delay" -> "400") and after resolution (all knobs set).
using TaskOptions = std::map<std::string, std::string>;
using KnobValues = std::map<std::string, int64_t>;

struct KnobSpec {
  std::string name;
  int64_t default_value;
  int64_t min, max;  // inclusive
  std::string help;
  // A knob of named choices (copy-memory's layout): value i is names[i], given and shown by name.
  std::vector<std::string> names = {};
  std::string value_text(int64_t v) const;  // the name, or the number
};

struct TaskSpec {
  std::string name;
  std::string summary;   // one line
  std::string format;    // source and target layout, one line
  std::string distance;  // what distance means for this task
  std::string citation;  // paper(s), or "" when folklore
  std::vector<KnobSpec> knobs;
  // Chomsky class of the task as Deletang et al. 2023 (Table 2) place it: "R" regular, "DCF"
  // deterministic context-free, "CS" context-sensitive; "-" where that classification is not
  // meaningful. A task whose class depends on a knob (modular-arithmetic's brackets) reports it
  // through Task::chomsky().
  std::string chomsky = "-";
  const KnobSpec* knob(const std::string& name) const;  // nullptr when unknown
};

// Accuracy of the best input-blind guess: one that sees neither the source nor the other target
// tokens, only the target position. `token` is the expected fraction of target tokens (EOS not
// counted) it gets right; `sequence` the probability that its whole output is right, length
// included. `exact` is false when estimated by sampling (see `note`).
struct Baseline {
  std::string name;    // e.g. "memoryless", "value from context", "majority class"
  std::string metric;  // "token_accuracy" or "xent_nats_per_token" (cross-entropy, natural log)
  double value = 0;
  std::string note;    // what the baseline knows and how the value follows
};

struct Chance {
  double token = 0;
  double sequence = 0;
  bool exact = true;
  std::string note;
  // Reference points beside chance that need some of the input (or none but a loss): a model
  // that meets one has learned no more than the baseline assumes. Empty when none is defined.
  std::vector<Baseline> baselines;
};

class Task {
 public:
  virtual ~Task() = default;
  const TaskSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }
  const KnobValues& knobs() const { return knobs_; }
  int64_t knob(const std::string& name) const;  // throws std::out_of_range when unknown
  const Vocab& vocab() const { return vocab_; }
  // The class for these knobs; spec().chomsky unless a knob changes it.
  virtual std::string chomsky() const { return spec_.chomsky; }
  // True when these knobs give examples with only a one-stream layout (no target), which only
  // a language model (format lm) can train on.
  virtual bool stream_only() const { return false; }

  // Draws one example; all randomness comes from `rng`.
  virtual Example generate(Xoshiro& rng) const = 0;
  Example generate_seeded(uint64_t seed) const {
    Xoshiro rng(seed);
    return generate(rng);
  }
  virtual Chance chance() const = 0;
  // Upper bounds over every example these knobs can produce (tgt without BOS/EOS).
  virtual size_t max_src_len() const = 0;
  virtual size_t max_tgt_len() const = 0;

 protected:
  Task(const TaskSpec& spec, KnobValues knobs, Vocab vocab)
      : spec_(spec), knobs_(std::move(knobs)), vocab_(std::move(vocab)) {}

 private:
  const TaskSpec& spec_;
  KnobValues knobs_;
  Vocab vocab_;
};

// Every task's spec, in documentation order.
const std::vector<const TaskSpec*>& task_specs();
std::vector<std::string> task_names();
// Throws data::Error naming the known tasks.
const TaskSpec& task_spec(const std::string& name);

// Parses "NAME=VALUE" strings. Throws data::Error on a missing '=', an empty name, or a name given
// twice.
TaskOptions parse_task_options(const std::vector<std::string>& name_eq_value);

// Defaults overridden by `opts`, each value parsed as an integer and range-checked. Throws
// data::Error naming the knob and its allowed range, or listing the task's knobs for an unknown
// one. Cross-knob constraints are checked by make_task.
KnobValues resolve_knobs(const TaskSpec& spec, const TaskOptions& opts, const KnobValues& base = {});

// Throws data::Error for an unknown task (listing the known ones) or bad knobs.
std::unique_ptr<Task> make_task(const std::string& name, const TaskOptions& opts = {});
std::unique_ptr<Task> make_task_resolved(const std::string& name, const KnobValues& knobs);

// Chance estimated from `samples` generated examples: per target position, the most frequent
// token; for sequences, the most frequent whole target. Used where no closed form is practical,
// and by the tests to check the closed forms.
Chance estimate_chance(const Task& task, int samples, uint64_t seed);

// "delay=100 symbols=10 ..." in the spec's knob order; a knob at -1 where -1 means unset
// (min_delay) is left out.
std::string format_knobs(const TaskSpec& spec, const KnobValues& knobs);

}  // namespace attn::data
