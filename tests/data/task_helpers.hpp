// What the task tests share: naming a task's knobs, catching a data::Error's message, and a
// hash of generated examples.
#pragma once
#include <functional>
#include <string>

#include "data/checkers.hpp"
#include "data/error.hpp"
#include "data/rng.hpp"
#include "data/task.hpp"

namespace attn_test::tasks {

using namespace attn::data;

inline std::string describe(const std::string& name, const TaskOptions& o) {
  std::string s = name;
  for (const auto& [k, v] : o) s += " " + k + "=" + v;
  return s;
}

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

inline bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

inline uint64_t hash_examples(const Task& t, uint64_t seed, int n) {
  Xoshiro rng(seed);
  uint64_t h = 0;
  for (int i = 0; i < n; ++i) {
    const Example e = t.generate(rng);
    for (const auto* v : {&e.src, &e.tgt, &e.distance}) {
      h = hash_combine(h, v->size());
      for (int x : *v) h = hash_combine(h, (uint64_t)(int64_t)x);
    }
  }
  return h;
}

}  // namespace attn_test::tasks
