// Independent checkers: re-derive every example's target and distances from its source tokens (as
// strings, not ids) by a route that shares no code with the generators, and check the source
// obeys the task's knobs. The tests run them over generated examples.
#pragma once
#include <string>

#include "data/example.hpp"
#include "data/task.hpp"

namespace attn::data {

// "" when `ex` is a correct example of `task` with its knobs; otherwise the first problem found.
std::string check_example(const Task& task, const Example& ex);

}  // namespace attn::data
